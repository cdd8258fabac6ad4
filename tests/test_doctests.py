"""Run the Examples sections of the docstrings."""

import doctest
import importlib

import pytest

MODULES = ["ilac_plan.model.linkbudget", "ilac_plan.model.crb", "ilac_plan.tradeoff"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
