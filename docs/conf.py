"""Sphinx configuration: the guides (Markdown, MyST) and the API reference generated
from the docstrings (autodoc + napoleon, numpydoc style). Built offline by ``.ci/run``
with warnings as errors:

    sphinx-build -W --keep-going -b html docs docs/_build/html
"""

from importlib.metadata import version as _version

project = "ilac_plan"
author = "the ilac_plan developers"
release = _version("ilac-plan")
version = release

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon",
              "sphinx.ext.mathjax"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "images/*.py"]
root_doc = "index"

# numpydoc-style docstrings through napoleon; members in source order
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True          # "Attributes" as fields: no duplicate of a dataclass field
napoleon_preprocess_types = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}

myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

html_theme = "alabaster"
html_static_path: list = []
# the build needs no network; the pages load MathJax from its CDN when viewed online
