"""docs/tutorial-plugin.md runs as written: its Python blocks, in order, in one module."""

import re
import sys
import types
from pathlib import Path

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial-plugin.md"


def test_the_tutorial_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", TUTORIAL.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 4
    module = types.ModuleType("tutorial_plugin")
    sys.modules[module.__name__] = module
    try:
        for code in blocks:
            exec(compile(code, str(TUTORIAL), "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    out = capsys.readouterr().out
    loss = float(re.search(r"cost ([0-9.]+) %", out).group(1))
    assert 0.0 < loss < 50.0
    assert module.cov["slots_capacity_bps"].gt(0).any()
