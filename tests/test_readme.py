"""The README's notebook example runs as written, its two commands are the ones CI uses, and the virtualenv,
quick subset and variables it tells a newcomer about are the ones the project has."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


# what the example computes: expressions over its names, checked here and in a fresh install (tests/test_packaging.py)
NOTEBOOK_RESULTS = {"traj.xs.shape": (501, 2), "batch.losses[-1].shape": (64,)}


def notebook_example() -> str:
    """The README's first Python block: the engine's API as one notebook cell."""
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks, "the README should show the engine API"
    return blocks[0]


def test_notebook_example_runs():
    namespace: dict = {}
    exec(compile(notebook_example(), "README.md", "exec"), namespace)  # our own README, not user input
    for expression, expected in NOTEBOOK_RESULTS.items():
        assert eval(expression, namespace) == expected, expression


def test_two_commands_and_ci_agree():
    commands = re.findall(r"```bash\n(python3 -m pip install -r requirements[^\n]*)\n```", README)
    assert len(commands) >= 2
    assert "streamlit run app.py" in commands[0]
    test_command = commands[1]
    assert test_command.endswith("python3 -m pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 -m pip install -q -r requirements-dev.txt" in ci and "\npython3 -m pytest\n" in ci


def test_the_two_commands_run_in_a_virtualenv():
    """A Debian/Ubuntu system Python refuses pip installs (PEP 668): the README makes a virtualenv first."""
    make_venv = "```bash\npython3 -m venv .venv && . .venv/bin/activate\n```"
    assert make_venv in README
    assert README.index(make_venv) < README.index("python3 -m pip install -r requirements.txt")
    assert ".venv/" in (ROOT / ".gitignore").read_text().split() and ".venv" in (ROOT / ".dockerignore").read_text()


def test_the_quick_subset_names_markers_the_suite_defines():
    assert '```bash\npython3 -m pytest -m "not slow and not browser"\n```' in README
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"slow: ' in pyproject and '"browser: ' in pyproject


def test_every_variable_the_code_reads_is_documented():
    """Each GDVIZ_ variable that the app, the tests, the benchmarks or the scripts read is in the README, and
    the README names no other."""
    folders = ("gdviz", "ui", "pages", "tests", "benchmarks", "docs", "deploy")  # not a virtualenv in the checkout
    sources = [ROOT / "app.py", *(path for folder in folders for path in (ROOT / folder).rglob("*.py"))]
    read = set()
    for path in sources:
        read |= set(re.findall(r"\bGDVIZ_[A-Z0-9_]+", path.read_text()))
    assert read, "the code reads GDVIZ_ variables"
    assert set(re.findall(r"\bGDVIZ_[A-Z0-9_]+", README)) == read
