"""The replica deployments that cannot run here (no Docker engine, no cluster): deploy/docker-compose.yml and
deploy/kubernetes.yaml are linted (yamllint; Kubernetes' own schemas through kubernetes-validate) and held to
what the tested pieces say: the ports of deploy/nginx.conf's upstream, and the Dockerfile's port, user,
health endpoint and environment. deploy/nginx.conf itself runs in tests/test_replicas.py.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_dockerfile import by_keyword

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
NGINX_CONF = (DEPLOY / "nginx.conf").read_text()
HEALTH = "/_stcore/health"


def _need(module: str):
    """A dev tool's module (requirements-dev.txt); under CI a missing one fails instead of skipping."""
    try:
        return __import__(module)
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is missing: pip install -r requirements-dev.txt")
        pytest.skip(f"{module} is not installed (pip install -r requirements-dev.txt)")


def _documents(name: str) -> list[dict]:
    yaml = _need("yaml")
    return [doc for doc in yaml.safe_load_all((DEPLOY / name).read_text()) if doc]


def _dockerfile_env() -> dict[str, str]:
    return dict(item.partition("=")[::2] for rest in by_keyword("ENV") for item in shlex.split(rest))


def test_yamllint_passes_on_the_deploy_files():
    _need("yamllint")
    beside = Path(sys.executable).parent / "yamllint"  # the venv's, even when it is not activated
    command = [str(beside)] if beside.exists() else [shutil.which("yamllint") or "yamllint"]
    done = subprocess.run([*command, "--strict", "deploy/"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_runs_the_tested_nginx_config_in_front_of_one_app_per_upstream_line():
    (compose,) = _documents("docker-compose.yml")
    services = compose["services"]
    proxy = services["proxy"]
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"] and (DEPLOY / "nginx.conf").exists()
    listen = re.search(r"^\s*listen (\d+);", NGINX_CONF, flags=re.MULTILINE).group(1)
    assert proxy["ports"] == [f"{listen}:{listen}"]

    apps = {name: service for name, service in services.items() if name != "proxy"}
    assert len(apps) >= 2
    upstream = re.findall(r"^\s*server 127\.0\.0\.1:(\d+)", NGINX_CONF, flags=re.MULTILINE)
    ports = []
    for name, app in apps.items():
        # built from the Dockerfile, in the proxy's network namespace: nginx reaches it on 127.0.0.1
        assert (ROOT / DEPLOY.relative_to(ROOT) / app["build"]["context"] / "Dockerfile").resolve().exists(), name
        assert app["network_mode"] == "service:proxy", name
        assert app["environment"]["STREAMLIT_SERVER_ADDRESS"] == "127.0.0.1", name
        assert "command" not in app and "healthcheck" not in app, f"{name}: the image's own follow the port"
        ports.append(app["environment"]["STREAMLIT_SERVER_PORT"])
    assert sorted(ports) == sorted(upstream), "one app service per upstream line of deploy/nginx.conf"
    # the image's command and health check read the port from the environment
    assert "STREAMLIT_SERVER_PORT" in _dockerfile_env() and "STREAMLIT_SERVER_PORT" in by_keyword("HEALTHCHECK")[0]


def test_the_kubernetes_manifest_is_valid_and_matches_the_image():
    kubernetes_validate = _need("kubernetes_validate")
    documents = _documents("kubernetes.yaml")
    for document in documents:
        kubernetes_validate.validate(document, kubernetes_validate.latest_version(), strict=True)
    by_kind = {document["kind"]: document for document in documents}
    assert set(by_kind) == {"Deployment", "Service", "Ingress"}

    deployment = by_kind["Deployment"]["spec"]
    assert deployment["replicas"] >= 2
    pod = deployment["template"]["spec"]
    (container,) = pod["containers"]
    assert [port["containerPort"] for port in container["ports"]] == [int(p) for p in by_keyword("EXPOSE")]
    assert str(pod["securityContext"]["runAsUser"]) == by_keyword("USER")[-1]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == HEALTH
    assert "command" not in container  # the image's, whose address and port the Dockerfile sets

    service = by_kind["Service"]["spec"]
    assert service["sessionAffinity"] == "ClientIP"
    assert service["selector"] == deployment["template"]["metadata"]["labels"]
    annotations = by_kind["Ingress"]["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    # the same upload cap as the plain nginx config
    body = re.search(r"client_max_body_size (\S+);", NGINX_CONF).group(1)
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == body
