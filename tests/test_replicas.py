"""Several app processes behind nginx (deploy/nginx.conf), as a classroom deployment runs them: each visitor
stays on one replica (Streamlit's session lives in one process), visitors spread over the replicas, and the
load script drives 40 sessions through the proxy without an error.

The failover (a replica killed under open pages) is tests/browser/test_failover_browser.py. nginx is
installed by .ci/run (Debian's nginx-light); without it these tests skip, except under CI.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest

from tests.app_server import HOST, ROOT, Replicas, local_proxy_config

COOKIE = "gdviz_replica"


def test_the_shipped_config_passes_nginx_s_own_check(tmp_path, nginx_binary):
    nginx = nginx_binary
    config = tmp_path / "nginx.conf"
    config.write_text(local_proxy_config([8501, 8502, 8503], 8080, tmp_path))
    done = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(config)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    text = config.read_text()
    assert text.count(f"server {HOST}:85") == 3 and "hash $gdviz_visitor consistent" in text


def test_the_access_log_tells_which_replica_served_each_visitor(tmp_path):
    """The stickiness check itself: a visitor answered by two replicas is caught, a failed try included."""
    cluster = Replicas(tmp_path, count=2)
    a, b = (f"{HOST}:{app.port}" for app in cluster.apps)
    (tmp_path / "access.log").write_text(
        f'127.0.0.1 [t] "GET / HTTP/1.1" 200 10 visitor=v1 upstream={a} time=0.001\n'
        f'127.0.0.1 [t] "GET /_stcore/stream HTTP/1.1" 101 9 visitor=v1 upstream={a} time=9.0\n'
        f'127.0.0.1 [t] "GET / HTTP/1.1" 200 10 visitor=v2 upstream={b} time=0.001\n'
        f'127.0.0.1 [t] "GET /_stcore/health HTTP/1.1" 200 2 visitor=v2 upstream={b}, {a} time=0.002\n'
        '127.0.0.1 [t] "GET /x HTTP/1.1" 429 0 visitor=v3 upstream=- time=0.000\n'
    )
    assert cluster.visitors_on_replicas() == {"v1": {a}, "v2": {a, b}, "v3": set()}
    assert cluster.replica_of(b) == 1 and cluster.replica_of("10.0.0.1:1") is None


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, nginx_binary):
    replicas = Replicas(tmp_path_factory.mktemp("replicas"), count=2)
    replicas.start()
    try:
        yield replicas
    finally:
        replicas.stop()


def _get(url: str, cookie: str | None = None) -> tuple[int, str | None]:
    """Status and the sticky cookie the proxy set (None: it set none)."""
    request = urllib.request.Request(url, headers={"Cookie": f"{COOKIE}={cookie}"} if cookie else {})
    with urllib.request.urlopen(request, timeout=30) as reply:
        reply.read()
        set_cookies = [value.split(";", 1)[0] for value in reply.headers.get_all("Set-Cookie") or []]
    mine = [value.split("=", 1)[1] for value in set_cookies if value.startswith(COOKIE + "=")]
    return reply.status, (mine[0] if mine else None)


@pytest.mark.slow
def test_a_visitor_gets_a_cookie_once_and_stays_on_one_replica_while_visitors_spread(cluster):
    status, cookie = _get(cluster.url + "/")
    assert status == 200 and cookie and len(cookie) == 32  # nginx's request id
    assert _get(cluster.url + "/", cookie) == (200, None)  # not set again
    for _ in range(8):
        _get(cluster.url + "/_stcore/health", cookie)
    # new visitors (no cookie) land on both replicas: the routing is by visitor, not by address
    for _ in range(16):
        _get(cluster.url + "/_stcore/health")
    seen = cluster.visitors_on_replicas()
    assert len(seen[cookie]) == 1
    replicas = {cluster.replica_of(upstream) for upstreams in seen.values() for upstream in upstreams}
    assert replicas == {0, 1}


@pytest.mark.slow
def test_forty_sessions_through_two_replicas_without_an_error(tmp_path, capsys, nginx_binary):
    """benchmarks/load.py --replicas 2: 40 websocket visitors through nginx, each through the whole sequence
    (open, preset, lr, shared link, Schedules, Landscape Lab, back). No error, nothing in the servers' logs,
    every visitor on one replica, both replicas used. The p95 is printed (reported, not enforced: the
    client, nginx and both replicas share this machine's cores)."""
    out = tmp_path / "load.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "load.py"), "--replicas", "2", "--sessions", "40"]
    command += ["--reruns", "0", "--ramp-s", "10", "--think-min-s", "1", "--think-max-s", "3", "--json", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert out.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    with capsys.disabled():
        print(done.stdout)
    assert result["errors"] == [] and result["server_log_problems"] == []
    actions = [action for action in result["timings"] if not action.startswith("memory")]
    assert len(actions) == 7 and all(result["timings"][action]["n"] == 40 for action in actions)
    spread = result["replicas"]
    assert spread["visitors_on_several"] == []
    # 40 visitors and 40 shared-link tabs: every one a websocket session on one of the two replicas
    assert sum(spread["sessions_per_replica"]) == 80 and min(spread["sessions_per_replica"]) > 0
