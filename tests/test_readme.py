"""README.md's Python example runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    assert (tmp_path / "plan" / "summary.csv").exists()


def test_a_source_tree_without_its_kernel_says_so(tmp_path):
    """Running from a checkout that was never built imports the tree, not the installed
    package: one clear ImportError instead of "No module named ilac_plan._core._kernels"."""
    import shutil
    import subprocess
    import sys

    src = README.parent / "ilac_plan"
    shutil.copytree(src, tmp_path / "ilac_plan",
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "*.c", "__pycache__"))
    proc = subprocess.run([sys.executable, "-c", "import ilac_plan"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert "compiled kernel is missing" in last and "pip install -e ." in last
