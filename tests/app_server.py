"""The app on loopback and the Chromium that drives it: one launcher shared by the browser tests
(tests/browser/) and the load script (benchmarks/load.py), so both measure the same server.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only: nothing here talks to another machine
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# what a chart shows, as a string: trace names, point counts and the last point of each trace; it changes
# whenever the result drawn changes (a new path, a new surface, new labels). Argument: the chart's selector.
CHART_SIGNATURE_JS = """sel => {
    const el = document.querySelector(sel + ' .js-plotly-plot');
    if (!el || !el.data || !el.querySelector('.main-svg')) return null;
    return el.data.map(t => {
        const x = t.x || [], y = t.y || [];
        return [t.name || '', x.length, x[x.length - 1], y[y.length - 1]].join(':');
    }).join('|');
}"""


def chromium_path() -> str | None:
    """GDVIZ_CHROMIUM, else Debian's ``chromium`` (or ``chromium-browser``) on PATH."""
    return os.environ.get("GDVIZ_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


class AppServer:
    """``streamlit run <script>`` on a fixed free port of 127.0.0.1, its output in a log file.

    ``start`` may be called again after ``stop`` (a restart keeps the port, so old links still work);
    it raises RuntimeError, with the end of the log, if the server exits or is not healthy in time.
    """

    def __init__(self, log_path: Path, script: str = "app.py", port: int | None = None):
        self.script = script
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log_path = Path(log_path)
        self.process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 120.0) -> None:
        command = [sys.executable, "-m", "streamlit", "run", self.script, "--server.headless", "true"]
        command += ["--server.address", HOST, "--server.port", str(self.port)]
        command += ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while not healthy(self.url):
            try:
                self.process.wait(timeout=0.25)  # doubles as the pause between health checks
            except subprocess.TimeoutExpired:
                pass
            else:
                raise RuntimeError(f"streamlit exited with code {self.process.returncode}:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"streamlit did not answer within {timeout_s:.0f} s:\n{self.log()[-3000:]}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def rss_mb(self) -> float:
        """Resident memory of the server process, in MB (VmRSS from /proc)."""
        assert self.process is not None
        text = Path(f"/proc/{self.process.pid}/status").read_text()
        kilobytes = int(re.search(r"^VmRSS:\s+(\d+) kB", text, flags=re.MULTILINE).group(1))
        return kilobytes / 1024

    def cpu_s(self) -> float:
        """CPU seconds the server process has used (user + system, all its threads)."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
