"""deploy/nginx.conf in front of a real app process: pages and WebSockets pass, uploads are rate-limited and
size-capped (issue 17: 40 uploads of 4.9 MB in one session all reached Streamlit).

nginx is installed by .ci/run (Debian's nginx-light); without it these tests skip, except under CI.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.app_server import HOST, ROOT, AppServer, free_port

pytestmark = pytest.mark.slow
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
CONFIG = ROOT / "deploy" / "nginx.conf"


def _proxy_config(app_port: int, proxy_port: int, run_dir: Path) -> str:
    """The shipped file with only its ports and run-time paths changed (nginx's defaults need root)."""
    text = CONFIG.read_text()
    assert "server 127.0.0.1:8501;" in text and "listen 127.0.0.1:8080;" in text
    text = text.replace("server 127.0.0.1:8501;", f"server {HOST}:{app_port};")
    text = text.replace("listen 127.0.0.1:8080;", f"listen {HOST}:{proxy_port};")
    paths = "".join(
        f"    {name}_temp_path {run_dir / name};\n" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    text = text.replace("http {\n", f"http {{\n{paths}    access_log off;\n", 1)
    return f"pid {run_dir / 'nginx.pid'};\nerror_log {run_dir / 'error.log'};\n" + text


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is missing: .ci/run installs it (apt-get install nginx-light)")
        pytest.skip("nginx is not installed")
    run_dir = tmp_path_factory.mktemp("nginx")
    app = AppServer(run_dir / "app.log")
    app.start()
    proxy_port = free_port()
    config = run_dir / "nginx.conf"
    config.write_text(_proxy_config(app.port, proxy_port, run_dir))
    nginx = subprocess.Popen(
        [NGINX, "-p", str(run_dir), "-c", str(config), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"http://{HOST}:{proxy_port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if nginx.poll() is not None or time.monotonic() > deadline:
                log = run_dir / "error.log"
                raise RuntimeError(f"nginx did not start: {log.read_text()[-2000:] if log.exists() else ''}")
            time.sleep(0.2)
        yield url
    finally:
        nginx.terminate()
        nginx.wait(timeout=15)
        app.stop()


def _status(request: urllib.request.Request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_page_and_its_websocket_pass_through_the_proxy(proxy):
    with urllib.request.urlopen(proxy + "/", timeout=30) as reply:
        assert reply.status == 200 and b'<div id="root">' in reply.read()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from load import Report, WsVisitor

    async def first_chart() -> list[str]:
        report = Report()
        visitor = WsVisitor(proxy, "through the proxy", report)
        await visitor.open()
        try:
            await visitor.rerun("first chart", ("pg_race",), query="")
        finally:
            await visitor.close()
        return report.errors

    # on a thread of its own: the browser tests leave an event loop running on this one
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(lambda: asyncio.run(first_chart())).result(timeout=120) == []


def test_an_upload_over_the_size_cap_is_refused_by_the_proxy(proxy):
    request = urllib.request.Request(
        f"{proxy}/_stcore/upload_file/no-session/too-big",
        data=b"0" * (7 * 2**20),
        method="PUT",
        headers={"Content-Type": "application/octet-stream"},
    )
    assert _status(request) == 413  # the body never reaches Streamlit


def test_uploads_are_rate_limited_per_address(proxy):
    # (after the size test: its refused upload counts as one)
    # whatever Streamlit answers these (no session: an error), nginx answers 429 once the burst is spent
    statuses = []
    for i in range(8):
        request = urllib.request.Request(
            f"{proxy}/_stcore/upload_file/no-session/file-{i}",
            data=b"--x\r\n\r\n--x--\r\n",
            method="PUT",
            headers={"Content-Type": "multipart/form-data; boundary=x"},
        )
        statuses.append(_status(request))
    assert 429 not in statuses[:4] and statuses[-4:] == [429] * 4, statuses
