"""The app on loopback and the Chromium that drives it: one launcher shared by the browser tests
(tests/browser/) and the load script (benchmarks/load.py), so both measure the same server.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only: nothing here talks to another machine
# a Plotly chart on a page: Streamlit's own element, or the app's live chart (ui/live_chart.py: the Playground's)
# unless it is put away (hidden)
PLOTLY_CHART = ':is([data-testid="stPlotlyChart"], .gd-live:not([hidden]))'
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
# true once Streamlit has finished the page's script run (no run in progress)
SCRIPT_DONE_JS = """() => { const app = document.querySelector('[data-testid="stApp"]');
    return app && app.getAttribute('data-test-script-state') === 'notRunning'; }"""
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


def chromium_or_exit(what: str = "needs Chromium") -> str:
    """:func:`chromium_path`, or exit with a message saying how to provide one (the benchmarks' opening)."""
    executable = chromium_path()
    if executable is None:
        raise SystemExit(f"{what}: Debian's chromium on PATH, or GDVIZ_CHROMIUM")
    return executable


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

    def pids(self) -> list[int]:
        """The server process and its descendants: the worker processes that compute heavy work (ui/workers.py)."""
        assert self.process is not None
        return [self.process.pid, *descendants(self.process.pid)]

    def rss_mb(self) -> float:
        """Resident memory of the server process and its workers, in MB (VmRSS from /proc)."""
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                text = Path(f"/proc/{pid}/status").read_text()
                total += int(re.search(r"^VmRSS:\s+(\d+) kB", text, flags=re.MULTILINE).group(1))
        return total / 1024

    def cpu_s(self) -> float:
        """CPU seconds the server process and its workers have used (user + system, all their threads)."""
        return sum(process_cpu_s(pid) for pid in self.pids())


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """The processes started by ``pid``, and by them, ... (from /proc: their parents' ids)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


# -- several app processes behind nginx (deploy/nginx.conf) ------------------------------------------------
NGINX_CONFIG = ROOT / "deploy" / "nginx.conf"
# the shipped file's upstream lines, the port it listens on and its access log: what a local run changes
_UPSTREAM_LINE = re.compile(r"^(\s*)server 127\.0\.0\.1:\d+( [^;\n]*)?;\n", flags=re.MULTILINE)
_LISTEN = "listen 8080;"
_ACCESS_LOG = "/var/log/nginx/gdviz.access.log"
# one line of its "gdviz" log format: the request line, the visitor's sticky key and the upstream(s) tried
_ACCESS_LINE = re.compile(
    r'"(?P<request>[^"]*)" (?P<status>\d{3}) .* visitor=(?P<visitor>\S*) upstream=(?P<upstream>.*?) time='
)


def nginx_path() -> str | None:
    """Debian's nginx (nginx-light), on PATH or in /usr/sbin (not on a plain user's PATH)."""
    return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def local_proxy_config(app_ports: list[int], proxy_port: int, run_dir: Path, temp_dir: Path | None = None) -> str:
    """deploy/nginx.conf with only its upstream ports, its listening port and its run-time paths changed.

    ``temp_dir`` holds nginx's temporary files (default ``run_dir``). Started as root, nginx writes them as
    its worker user (nobody), so under root that folder and every folder above it must be open to it: a
    response buffered to a file it cannot open is cut short (a slow browser then gets 3.9 of Plotly's
    4.7 MB, and the chart never draws)."""
    text = NGINX_CONFIG.read_text()
    lines = list(_UPSTREAM_LINE.finditer(text))
    assert lines and _LISTEN in text and _ACCESS_LOG in text, "deploy/nginx.conf changed shape"
    indent, options = lines[0].group(1), lines[0].group(2) or ""
    servers = "".join(f"{indent}server {HOST}:{port}{options};\n" for port in app_ports)
    text = text[: lines[0].start()] + servers + text[lines[-1].end() :]
    text = text.replace(_LISTEN, f"listen {HOST}:{proxy_port};").replace(_ACCESS_LOG, str(run_dir / "access.log"))
    # nginx's default temporary folders and pid file need root
    temp_dir = temp_dir or run_dir
    paths = "".join(
        f"    {name}_temp_path {temp_dir / name};\n" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    text = text.replace("http {\n", f"http {{\n{paths}", 1)
    return f"pid {run_dir / 'nginx.pid'};\nerror_log {run_dir / 'error.log'};\n" + text


class Replicas:
    """N app processes on loopback behind nginx running deploy/nginx.conf, as a classroom deployment runs.

    ``url`` is the proxy's. ``rss_mb``/``cpu_s``/``log`` add up the app processes, so the load script
    measures a cluster as it measures one server. ``kill(i)`` ends replica i at once, as a crash would.
    """

    def __init__(self, run_dir: Path, count: int = 2):
        self.run_dir = Path(run_dir)
        self.apps = [AppServer(self.run_dir / f"app{i + 1}.log") for i in range(count)]
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.nginx: subprocess.Popen | None = None
        self.temp_dir: Path | None = None

    def start(self, timeout_s: float = 120.0) -> None:
        nginx = nginx_path()
        if nginx is None:
            raise RuntimeError("nginx is not installed (apt-get install nginx-light)")
        for app in self.apps:
            app.start(timeout_s)
        # nginx's temporary files: a folder of their own under the system's temporary folder, which its
        # workers can reach (pytest's folders are private to their owner)
        self.temp_dir = Path(tempfile.mkdtemp(prefix="gdviz-nginx-"))
        self.temp_dir.chmod(0o755)
        config = self.run_dir / "nginx.conf"
        ports = [app.port for app in self.apps]
        config.write_text(local_proxy_config(ports, self.port, self.run_dir, self.temp_dir))
        command = [nginx, "-p", str(self.run_dir), "-c", str(config), "-g", "daemon off;"]
        self.nginx = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while not healthy(self.url):
            if self.nginx.poll() is not None or time.monotonic() > deadline:
                error_log = self.run_dir / "error.log"
                self.stop()
                raise RuntimeError(
                    f"nginx did not start: {error_log.read_text()[-2000:] if error_log.exists() else ''}"
                )
            time.sleep(0.2)

    def stop(self) -> None:
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.terminate()
            self.nginx.wait(timeout=15)
        for app in self.apps:
            app.stop()
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)

    def kill(self, index: int) -> None:
        process = self.apps[index].process
        assert process is not None
        process.kill()
        process.wait(timeout=15)

    def replica_of(self, upstream: str) -> int | None:
        """Which app process an upstream address (``127.0.0.1:port``) is, or None."""
        ports = [f"{HOST}:{app.port}" for app in self.apps]
        return ports.index(upstream) if upstream in ports else None

    def access_log(self) -> list[dict[str, str]]:
        """The proxy's access log: request, status, visitor (sticky key) and upstream, one dict per request.

        nginx writes a request's line when it ends: an open websocket is not in it yet.
        """
        path = self.run_dir / "access.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return [match.groupdict() for match in map(_ACCESS_LINE.search, text.splitlines()) if match]

    def visitors_on_replicas(self) -> dict[str, set[str]]:
        """Visitor -> the upstream addresses that answered its requests (a failed try counts as one)."""
        seen: dict[str, set[str]] = {}
        for entry in self.access_log():
            upstreams = {part.strip() for part in entry["upstream"].split(",") if part.strip() not in ("", "-")}
            seen.setdefault(entry["visitor"], set()).update(upstreams)
        return seen

    def rss_mb(self) -> float:
        return sum(app.rss_mb() for app in self.apps if app.process is not None and app.process.poll() is None)

    def cpu_s(self) -> float:
        return sum(app.cpu_s() for app in self.apps if app.process is not None and app.process.poll() is None)

    def log(self) -> str:
        return "\n".join(app.log() for app in self.apps)
