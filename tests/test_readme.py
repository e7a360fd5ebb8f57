"""The README's notebook example runs as written, and its two commands are the ones CI uses."""

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
