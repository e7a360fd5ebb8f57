"""benchmarks/cuda_check.sh, the GPU checks a session lent a GPU machine runs there, runs on a machine like that one:
torch, NumPy and pytest, no Streamlit or Plotly (hidden here from every Python it starts). Without a GPU its
CUDA tests skip and its benchmarks measure the CPU, which is what this test sees."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.torch_reference import SKIP_REASON

pytest.importorskip("torch", reason=SKIP_REASON)

ROOT = Path(__file__).resolve().parents[1]
# imported by every Python the script starts (PYTHONPATH): the app's packages the GPU machine lacks, missing
HIDE_APP_PACKAGES = """
import sys

class HideAppPackages:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("streamlit", "plotly", "altair", "pydeck"):
            raise ImportError(f"No module named {name!r} (hidden: the GPU machine has none)")
        return None

sys.meta_path.insert(0, HideAppPackages())
"""


@pytest.mark.slow
def test_the_gpu_checks_run_without_the_apps_packages(tmp_path):
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(HIDE_APP_PACKAGES)
    out = tmp_path / "out"
    out.mkdir()
    python = Path(sys.executable).parent  # the script's python3: this one
    env = os.environ | {"PYTHONPATH": str(hide), "OUT": str(out), "PATH": f"{python}:{os.environ['PATH']}"}
    probe = subprocess.run([sys.executable, "-c", "import streamlit"], env=env, capture_output=True, text=True)
    assert probe.returncode != 0 and "hidden" in probe.stderr
    done = subprocess.run(
        ["bash", "benchmarks/cuda_check.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    written = {path.name: path.read_text() for path in out.iterdir()}
    assert set(written) == {"device.txt", "cuda-tests.txt", "network.txt", "regression.txt"}
    assert " passed" in written["cuda-tests.txt"] and "failed" not in written["cuda-tests.txt"]
    assert "[cpu] 3 racers" in written["network.txt"] and "batched / loop speed-up" in written["network.txt"]
    assert "cost model: not compared" in written["network.txt"]
    assert "gdviz.regression.train" in written["regression.txt"]
