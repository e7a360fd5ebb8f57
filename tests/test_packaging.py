"""The package as others get it: ``pip install .`` gives the NumPy-only engine, and the extras in pyproject.toml
name what requirements.txt and requirements-dev.txt name.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest
from packaging.requirements import Requirement  # pytest's own dependency
from packaging.utils import canonicalize_name

import gdviz
from tests.test_readme import NOTEBOOK_RESULTS, notebook_example

ROOT = Path(__file__).resolve().parents[1]
HEAVY = {"torch", "streamlit", "plotly"}  # what only an extra may bring

# Run by the fresh environment's python, outside the checkout: the README's example, then every module of the
# installed package (gdviz.regression imports torch only when it trains), then the installed packages (the
# top-level names in site-packages) that those imported; what the interpreter loaded before, such as
# setuptools' _distutils_hack, is not theirs.
PROBE = """
import importlib, importlib.metadata, json, pkgutil, sys, sysconfig
from pathlib import Path

before = set(sys.modules)
import gdviz

example, expressions = Path(sys.argv[1]).read_text(), json.loads(sys.argv[2])
namespace = {}
exec(compile(example, "README.md", "exec"), namespace)
modules = [info.name for info in pkgutil.walk_packages(gdviz.__path__, "gdviz.")]
for name in modules:
    importlib.import_module(name)
site_packages = {Path(sysconfig.get_path(scheme)).resolve() for scheme in ("purelib", "platlib")}
files = {Path(module.__file__).resolve() for name, module in list(sys.modules.items())
         if name not in before and getattr(module, "__file__", None)}
imported = {file.relative_to(site).parts[0] for file in files for site in site_packages if file.is_relative_to(site)}
print(json.dumps({
    "file": gdviz.__file__,
    "results": {expression: repr(eval(expression, namespace)) for expression in expressions},
    "modules": len(modules),
    "site_packages": sorted(imported),
    "shipped": sorted({file.parts[0] for file in importlib.metadata.files("gdviz")}),
}))
"""


def copy_of_checkout(target: Path) -> Path:
    """The tracked files, as they are in the working tree: setuptools writes build/ and gdviz.egg-info next to
    pyproject.toml, and the tests never write into the checkout."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the build copies the tracked files")
    for relative in filter(None, listed.decode().split("\0")):
        source = ROOT / relative
        if source.is_file():  # a tracked file deleted in the working tree is left out, as a build would
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    return target


def pip(python: Path, *args: str, cwd: Path, env: dict[str, str]) -> None:
    """``python -m pip args``; without a package index that is a skip, except under CI=true."""
    done = subprocess.run(
        [str(python), "-m", "pip", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    output = done.stdout[-3000:] + done.stderr[-3000:]
    if done.returncode == 0:
        return
    # "versions: none" for numpy or setuptools: no index answered (with PIP_RETRIES=0 pip names no connection error)
    if "(from versions: none)" in output or "NewConnectionError" in output:
        if os.environ.get("CI"):
            pytest.fail(f"no package index reachable for pip install: {output}")
        pytest.skip("no package index reachable for pip install (pip needs numpy and setuptools)")
    pytest.fail(output)


def probe(python: Path, cwd: Path, env: dict[str, str]) -> dict:
    example = cwd / "notebook_example.py"
    example.write_text(notebook_example())
    done = subprocess.run(
        [str(python), "-c", PROBE, str(example), json.dumps(list(NOTEBOOK_RESULTS))],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.slow
def test_pip_install_gives_the_numpy_only_engine(tmp_path):
    """A fresh virtualenv (no system site packages), ``pip install <checkout>``, and the README's notebook
    example run from a directory outside the checkout, on the installed copy; then the same with ``pip install
    -e``. The pip cache is used. PIP_RETRIES=0 unless set: without an index the skip comes at once.
    """
    env_root = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_root)
    python = env_root / "bin" / "python"
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    env.setdefault("PIP_RETRIES", "0")
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    source = copy_of_checkout(tmp_path / "source")
    elsewhere = tmp_path / "notebook"
    elsewhere.mkdir()

    pip(python, "install", "-q", str(source), cwd=elsewhere, env=env)
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json"], env=env, capture_output=True, text=True, check=True
    )
    installed = {package["name"].lower() for package in json.loads(listed.stdout)}
    assert {"gdviz", "numpy"} <= installed
    assert not installed & HEAVY, f"the engine alone pulled in {sorted(installed & HEAVY)}"

    expected = {expression: repr(value) for expression, value in NOTEBOOK_RESULTS.items()}
    found = probe(python, elsewhere, env)
    assert Path(found["file"]).is_relative_to(env_root), f"gdviz came from {found['file']}, not the install"
    assert found["results"] == expected
    assert found["modules"] > 10 and found["site_packages"] == ["gdviz", "numpy"], found
    assert found["shipped"] == ["gdviz", f"gdviz-{gdviz.__version__}.dist-info"], "the wheel is the engine alone"

    pip(python, "install", "-q", "-e", str(source), cwd=elsewhere, env=env)
    found = probe(python, elsewhere, env)
    assert Path(found["file"]).is_relative_to(source / "gdviz"), f"the editable install runs {found['file']}"
    assert found["results"] == expected


def requirement_lines(path: Path, follow_includes: bool = True) -> list[str]:
    """The requirement lines of a requirements file: comments and pip options dropped, ``-r`` followed."""
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.partition("#")[0].strip()
        if line.startswith("-r "):
            if follow_includes:
                lines += requirement_lines(path.parent / line[3:].strip())
        elif line and not line.startswith("-"):
            lines.append(line)
    return lines


def by_name(lines: list[str]) -> dict[str, str]:
    """Project name -> its specifiers and marker, normalized (``numpy<3,>=2.1`` equals ``numpy>=2.1,<3``)."""
    requirements = [Requirement(line) for line in lines]
    named = {
        canonicalize_name(req.name): str(req.specifier) + (f"; {req.marker}" if req.marker else "")
        for req in requirements
    }
    assert len(named) == len(requirements), f"a project named twice in {lines}"
    return named


def pyproject_requirements(*extras: str) -> list[str]:
    """What ``pip install ".[extras]"`` asks for: the dependencies and the extras, ``gdviz[...]`` expanded."""
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    optional = project["optional-dependencies"]
    lines, pending, seen = list(project["dependencies"]), list(extras), set()
    while pending:
        extra = pending.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for line in optional[extra]:
            requirement = Requirement(line)
            if canonicalize_name(requirement.name) == canonicalize_name(project["name"]):
                pending += requirement.extras
            else:
                lines.append(line)
    return lines


def test_extras_name_what_the_requirements_files_name():
    """requirements*.txt stay the README's install path for the app; the extras must not drift from them."""
    assert by_name(pyproject_requirements("app", "train")) == by_name(requirement_lines(ROOT / "requirements.txt"))
    assert by_name(pyproject_requirements("all")) == by_name(requirement_lines(ROOT / "requirements-dev.txt"))
    development = requirement_lines(ROOT / "requirements-dev.txt", follow_includes=False)
    assert by_name(pyproject_requirements("dev")) == by_name(pyproject_requirements() + development)
    assert set(by_name(pyproject_requirements())) == {"numpy"}, "the engine needs NumPy alone"
