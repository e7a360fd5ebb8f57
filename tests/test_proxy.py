"""deploy/nginx.conf in front of a real app process: pages and WebSockets pass, uploads are rate-limited and
size-capped (issue 17: 40 uploads of 4.9 MB in one session all reached Streamlit).

nginx is installed by .ci/run (Debian's nginx-light); without it these tests skip, except under CI.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import urllib.error
import urllib.request

import pytest

from tests.app_server import ROOT, Replicas

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def proxy(tmp_path_factory, nginx_binary):
    """deploy/nginx.conf in front of one app process."""
    cluster = Replicas(tmp_path_factory.mktemp("nginx"), count=1)
    cluster.start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


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
