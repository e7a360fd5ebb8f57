"""A public server: no code from visitors' text, no shared mutable state, bounded caches, numbers that go wrong.

Static checks read the source of everything the server runs (app.py, pages/, ui/, gdviz/); the others
import the modules and drive the Playground's compute path (simulation, figures, messages, exports)
with warnings as errors. The same checks through the running app are in tests/app/test_hostile_app.py.
"""

from __future__ import annotations

import ast
import collections
import dataclasses
import functools
import hashlib
import importlib
import json
import math
import pkgutil
import re
import types
import warnings
import weakref
from pathlib import Path

import numpy as np
import plotly.io as pio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gdviz
import ui
from ui import limits
from ui.figures.panels import panels_figure, results_rows
from ui.figures.race import race_figure
from ui.figures.surface_3d import surface_3d_figure
from ui.lab import schedules, views
from ui.lab.common import PLANAR
from ui.playground.export import trajectories_csv, trajectories_json
from ui.playground.inspector import inspect
from ui.playground.scenario import from_query
from ui.playground.simulate import divergence_messages, simulate
from ui.state import fields as ps

ROOT = Path(__file__).resolve().parents[1]


def app_sources() -> list[Path]:
    """Every Python file the server runs."""
    files = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
    for package in ("ui", "gdviz"):
        files += sorted((ROOT / package).rglob("*.py"))
    return files


# -- no code from visitors' text ------------------------------------------------------------------------
# builtins that turn text into code, or reach into the interpreter
CODE_BUILTINS = {"eval", "exec", "compile", "__import__", "breakpoint", "globals", "locals", "vars"}
# attribute calls that run or unpickle text: sympy, pandas expressions, pickle and friends
CODE_METHODS = {"sympify", "parse_expr", "literal_eval", "eval", "query", "read_pickle", "unsafe_load"}
# loaders that unpickle (torch.load too): any call of load/loads on these
UNPICKLERS = {"pickle", "cPickle", "marshal", "dill", "cloudpickle", "joblib", "shelve", "torch", "yaml"}
# modules whose import means deserializing or parsing code
CODE_MODULES = {
    "pickle",
    "cPickle",
    "marshal",
    "shelve",
    "dill",
    "cloudpickle",
    "joblib",
    "sympy",
    "ast",
    "code",
    "codeop",
}
# ways to run a program or reach the shell
SHELL_CALLS = {("os", "system"), ("os", "popen"), ("os", "execv"), ("os", "execvp"), ("os", "spawnl")}
SHELL_MODULES = {"subprocess", "pty", "pexpect"}
# HTML a visitor's text could reach unescaped
HTML_SINKS = {"html"}  # st.html
# dynamic attribute access whose name comes from a registry or a fixed list, never from a visitor: file -> names
DYNAMIC_ATTRIBUTES_REVIEWED = {
    # ``opt.torch_class`` / ``sched.torch_class``: a class attribute of a registry entry
    "gdviz/regression/optim.py": {"getattr(torch.optim, opt.torch_class)", "getattr(lr_scheduler, sched.torch_class)"},
    # ``name`` is checked against DTYPES (float32 / float64) the line before
    "gdviz/regression/data.py": {"getattr(torch, name)"},
    # reads .shape of an array argument with a default
    "gdviz/regression/training.py": {"getattr(X, 'shape', ())"},
    # ``name`` runs over the constant tuple _ARRAYS
    "ui/playground/simulate.py": {"getattr(t, name)"},
    # ``set_name`` / ``get_name`` / ``corename_name`` run over the constant tuples _BLAS_NAMES and _CORENAME_NAMES
    # (OpenBLAS's C function names)
    "ui/regression/budget.py": {"getattr(lib, set_name)", "getattr(lib, get_name)", "getattr(lib, corename_name)"},
}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "?"


def _constant_html(node: ast.AST) -> bool:
    """Raw HTML the source writes itself: a module constant (an UPPER_CASE name, e.g. a page's CSS), or a
    choice between such constants; never text built at run time, where a visitor's text could get in."""
    if isinstance(node, ast.Name):
        return node.id.isupper()
    if isinstance(node, ast.IfExp):
        return _constant_html(node.body) and _constant_html(node.orelse)
    return False


def code_execution_findings(source: str, relative: str) -> list[str]:
    """Every place in ``source`` that could turn text into code, run a program or emit raw HTML."""
    findings = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        where = f"{relative}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                if top in CODE_MODULES or top in SHELL_MODULES:
                    findings.append(f"{where}: imports {name}")
        if isinstance(node, ast.keyword) and node.arg == "unsafe_allow_html":
            findings.append(f"{where}: unsafe_allow_html")
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        text = ast.unparse(node)
        if isinstance(func, ast.Name):
            if func.id in CODE_BUILTINS:
                findings.append(f"{where}: {text[:80]}")
            elif func.id in ("getattr", "setattr", "delattr") and len(node.args) >= 2:
                if not isinstance(node.args[1], ast.Constant) and text not in DYNAMIC_ATTRIBUTES_REVIEWED.get(
                    relative, ()
                ):
                    findings.append(f"{where}: attribute by a computed name, {text[:80]}")
            continue
        if not isinstance(func, ast.Attribute):
            continue
        owner = _dotted(func.value)
        pair = (owner.split(".")[-1], func.attr)
        if func.attr in CODE_METHODS or (func.attr in ("load", "loads", "open") and pair[0] in UNPICKLERS):
            findings.append(f"{where}: {text[:80]}")
        elif pair in SHELL_CALLS:
            findings.append(f"{where}: {text[:80]}")
        elif func.attr in HTML_SINKS and owner in ("st", "streamlit", "components", "st.components.v1"):
            # a script the source writes itself (a module constant, as its CSS) may run; nothing else may
            allowed = [k for k in node.keywords if k.arg == "unsafe_allow_javascript"]
            if not all(_constant_html(arg) for arg in node.args) or len(allowed) != len(node.keywords):
                findings.append(f"{where}: {text[:80]}")
        elif func.attr == "import_module" and not (node.args and isinstance(node.args[0], ast.Constant)):
            findings.append(f"{where}: import of a computed module name, {text[:80]}")
        elif owner == "re" and node.args and not isinstance(node.args[0], ast.Constant):
            # a pattern built from text is a regular-expression injection (and a catastrophic backtracking risk)
            findings.append(f"{where}: regular expression from a non-constant pattern, {text[:80]}")
        elif pair in (("np", "load"), ("numpy", "load")) and any(k.arg == "allow_pickle" for k in node.keywords):
            findings.append(f"{where}: {text[:80]}")
    return findings


def test_no_source_turns_visitor_text_into_code():
    """No eval/exec/compile/sympify/pickle.loads (or a shell, or raw HTML) anywhere the server runs."""
    findings = []
    for path in app_sources():
        findings += code_execution_findings(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
    assert findings == []


@pytest.mark.parametrize(
    "snippet",
    [
        "eval(text)",
        "exec(user_code)",
        "compile(formula, 'f', 'eval')",
        "__import__(name)",
        "import pickle",
        "from sympy import sympify",
        "sympy.sympify(formula)",
        "pickle.loads(data)",
        "torch.load(path)",
        "frame.query(text)",
        "pd.eval(text)",
        "ast.literal_eval(text)",
        "os.system(command)",
        "import subprocess",
        "st.markdown(text, unsafe_allow_html=True)",
        "st.html(text)",
        "st.html(f'<style>{css}</style>')",
        "st.html(PAGE_CSS + text)",
        "st.html(CSS if on else text)",
        "st.html(CSS, unsafe=True)",
        "st.html(text, unsafe_allow_javascript=True)",
        "st.html(f'<script>{code}</script>', unsafe_allow_javascript=True)",
        "getattr(obj, name)",
        "importlib.import_module(name)",
        "re.compile(pattern)",
        "np.load(path, allow_pickle=True)",
    ],
)
def test_the_source_scan_finds_every_way_in(snippet):
    """The scan above is only as good as what it catches: each of these must be reported."""
    assert code_execution_findings(snippet, "planted.py")


def test_the_source_scan_accepts_plain_code():
    ok = (
        "json.loads(text)\nre.compile(r'[a-z]+')\ngetattr(x, 'shape', ())\nimportlib.import_module('gdviz.x')\n"
        "st.html(WIDE_CSS)\nst.html(PROJECTOR_CSS if wide else PHONE_CSS)\n"
        "st.html(FIT_SCRIPT, unsafe_allow_javascript=True)\n"
    )
    assert code_execution_findings(ok, "fine.py") == []


# -- shared state: module globals ----------------------------------------------------------------------
def app_modules() -> list[types.ModuleType]:
    """Every module of the ui and gdviz packages (pages/ are scripts: their names live in one run)."""
    modules = []
    for package in (ui, gdviz):
        modules.append(package)
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            modules.append(importlib.import_module(info.name))
    return modules


MUTABLE_TYPES = (
    dict,
    list,
    set,
    bytearray,
    collections.deque,
    weakref.WeakKeyDictionary,
    weakref.WeakValueDictionary,
    weakref.WeakSet,
)
# A module-level container (or writable array) under a CONSTANT_CASE name is a constant by convention: a
# lookup table, a preset list, a surface tuple's parts, built once at import and only read afterwards. Two
# checks hold the convention, so no list of tables is kept by hand: no function of the app writes to one
# (test_no_function_writes_to_a_constant_table), and test_visits_leave_shared_state_unchanged in tests/app/
# drives every page and finds every such table unchanged. Any other mutable module global fails.
CONSTANT_NAME = re.compile(r"_?[A-Z][A-Z0-9_]*")
# memo tables: they fill at run time, but each value is a pure function of its key (an immutable surface),
# held weakly, so they carry nothing from one visitor to another (checked in tests/app/test_hostile_app.py)
PURE_MEMOS = {"gdviz.critical._CURVATURE": "surface -> its median Hessian norm"}
# what writes to a container in place, when called on it
MUTATING_METHODS = {
    "append", "extend", "insert", "remove", "sort", "reverse", "update", "setdefault", "pop", "popitem",
    "clear", "add", "discard", "fill", "resize", "put", "__setitem__", "__delitem__",
}  # fmt: skip
REGISTRIES = ("OPTIMIZERS", "SCHEDULES", "SURFACES")


def module_globals() -> list[tuple[tuple[str, ...], object]]:
    """Every object held in a global of an app module, once, with all the qualified names it goes by
    (a table imported elsewhere is the same object under two names)."""
    found: dict[int, tuple[list[str], object]] = {}
    for module in app_modules():
        for name, value in vars(module).items():
            if name.startswith("__") or isinstance(value, types.ModuleType):
                continue
            found.setdefault(id(value), ([], value))[0].append(f"{module.__name__}.{name}")
    return [(tuple(names), value) for names, value in found.values()]


def _is_mutable(value) -> bool:
    if isinstance(value, np.ndarray):
        return bool(value.flags.writeable) and value.size > 0
    return isinstance(value, MUTABLE_TYPES)


def _constant_named(qualified_name: str) -> bool:
    return CONSTANT_NAME.fullmatch(qualified_name.rsplit(".", 1)[1]) is not None


def test_module_globals_are_constants_or_constant_tables():
    """No module keeps a mutable container that a run could write to, except constant tables and pure memos.

    A new list, dict or set at module level under a lower-case name fails here until it is frozen (a tuple, a
    frozenset, a MappingProxyType) or, if it is a table built once and only read, named as a constant.
    """
    everything = module_globals()
    unexpected = [
        names
        for names, value in everything
        if _is_mutable(value) and not set(PURE_MEMOS) & set(names) and not any(map(_constant_named, names))
    ]
    assert unexpected == []
    stale = set(PURE_MEMOS) - {name for names, _ in everything for name in names}
    assert stale == set(), "entries of PURE_MEMOS that no longer exist: remove them"


def _module_constants(tree: ast.Module) -> set[str]:
    """The CONSTANT_CASE names a module binds at its top level (assigned or imported)."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for target in targets for t in ast.walk(target) if isinstance(t, ast.Name)}
        elif isinstance(node, ast.ImportFrom):
            names |= {alias.asname or alias.name for alias in node.names}
    return {name for name in names if CONSTANT_NAME.fullmatch(name)}


def test_no_function_writes_to_a_constant_table():
    """Inside a function, a module's CONSTANT_CASE global is only read: no item assignment or deletion, no
    augmented assignment, no in-place method (the pure memos aside, which fill by design)."""
    memos = {name.rsplit(".", 1)[1] for name in PURE_MEMOS}
    writes = []
    for path in app_sources():
        tree = ast.parse(path.read_text(), filename=str(path))
        constants = _module_constants(tree) - memos
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            local = {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            watched = constants - local
            for node in ast.walk(function):
                targets = []
                if isinstance(node, (ast.Assign, ast.Delete)):
                    targets = node.targets
                elif isinstance(node, ast.AugAssign):
                    targets = [node.target]
                for target in targets:
                    base = target.value if isinstance(target, (ast.Subscript, ast.Attribute)) else target
                    if isinstance(base, ast.Name) and base.id in watched:
                        writes.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
                call = node.func if isinstance(node, ast.Call) else None
                if (
                    isinstance(call, ast.Attribute)
                    and call.attr in MUTATING_METHODS
                    and isinstance(call.value, ast.Name)
                    and call.value.id in watched
                ):
                    writes.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert writes == []


@pytest.mark.parametrize("module", [gdviz, gdviz.optimizers, gdviz.schedules, gdviz.surfaces])
def test_registries_are_read_only(module):
    for name in REGISTRIES:
        registry = getattr(module, name, None)
        if registry is None:
            continue
        assert isinstance(registry, types.MappingProxyType), f"{module.__name__}.{name}"
        with pytest.raises(TypeError):
            registry["injected"] = object()  # type: ignore[index]
    for name in ("_BY_LOWER", "_ALIASES"):
        if hasattr(module, name):
            assert isinstance(getattr(module, name), types.MappingProxyType), f"{module.__name__}.{name}"


def test_registry_classes_have_no_mutable_class_attributes():
    """A list or dict on an optimizer or schedule class would be shared by every instance, in every session."""
    classes = list(gdviz.OPTIMIZERS.values()) + list(gdviz.SCHEDULES.values())
    found = []
    for cls in classes:
        for klass in cls.__mro__[:-1]:
            for name, value in vars(klass).items():
                if not name.startswith("__") and _is_mutable(value):
                    found.append(f"{klass.__name__}.{name}")
    assert found == []


def test_memo_functions_are_bounded():
    """functools caches at module level hold at most a few entries."""
    for names, value in module_globals():
        if isinstance(value, functools._lru_cache_wrapper):
            assert value.cache_parameters()["maxsize"] is not None, names


# -- caches -----------------------------------------------------------------------------------------------
def _cache_calls(tree: ast.AST):
    """(call or bare decorator node, the st.cache_* it names) for every use of st.cache_data / st.cache_resource."""
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.FunctionDef):
            targets = node.decorator_list
        elif isinstance(node, ast.Call):
            targets = [node]
        for target in targets:
            func = target.func if isinstance(target, ast.Call) else target
            if isinstance(func, ast.Attribute) and func.attr in ("cache_data", "cache_resource"):
                yield target, func.attr


def _module_dicts(path: Path) -> dict[str, set[str]]:
    """Module-level ``NAME = dict(...)`` / ``{...}`` assignments: NAME -> its keys.

    A name imported from another app module (``from ui.lab.common import CACHE``) counts with the keys
    it has there, so one shared ``CACHE`` dict serves a package's caches."""
    out = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            source = ROOT.joinpath(*node.module.split(".")).with_suffix(".py")
            if source.is_file() and source != path:
                theirs = _module_dicts(source)
                out |= {(a.asname or a.name): theirs[a.name] for a in node.names if a.name in theirs}
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict":
                out[node.targets[0].id] = {k.arg for k in value.keywords if k.arg}
            elif isinstance(value, ast.Dict):
                out[node.targets[0].id] = {k.value for k in value.keys if isinstance(k, ast.Constant)}
    return out


def test_every_streamlit_cache_sets_max_entries():
    """st.cache_data / st.cache_resource are shared by every session: each one bounded in entries."""
    unbounded = []
    count = 0
    for path in app_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        dicts = _module_dicts(path)
        for node, kind in _cache_calls(tree):
            count += 1
            where = f"{path.relative_to(ROOT)}:{node.lineno} {kind}"
            if not isinstance(node, ast.Call):
                unbounded.append(where + " (bare decorator)")
                continue
            keys = {k.arg for k in node.keywords if k.arg}
            for spread in (k.value for k in node.keywords if k.arg is None):
                keys |= dicts.get(spread.id, set()) if isinstance(spread, ast.Name) else set()
            if "max_entries" not in keys:
                unbounded.append(where)
    assert count >= 10  # the scan sees the app's caches
    assert unbounded == []


def test_cached_functions_are_bounded_at_run_time():
    """The same, on the objects: every cached function of the ui package has a finite max_entries."""
    cached = [(names, value) for names, value in module_globals() if type(value).__name__ == "CachedFunc"]
    assert len(cached) >= 10
    for name, func in cached:
        entries = func._info.max_entries
        assert entries is not None and 1 <= entries <= 256, (name, entries)


def test_the_server_config_matches_the_caps():
    """The upload cap is the server's (a bigger file is refused before it is held in memory), and visitors
    never see a traceback."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] * 2**20 == limits.MAX_UPLOAD_BYTES
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["runOnSave"] is False and config["server"]["fileWatcherType"] == "none"


# -- links to the Schedules and Landscape Lab pages ----------------------------------------------------------
_HOSTILE_VALUES = st.one_of(
    st.sampled_from(
        ["nan", "inf", "-inf", "1e999", "-1e999", "1e308", "-0", "0x10", "1_000", "", " ", "None", "true", "\x00", "９"]
    ),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=60),
    st.text(alphabet="0123456789.,-e+ ", max_size=30),
)


def _field_keys(fields) -> list[str]:
    keys = []
    for f in fields:
        keys.append(f.key)
        if isinstance(f, ps.Entry):
            for name in (f.default[0], "SGD", "StepLR"):
                for spec in f.specs(name) if name in f.options() else ():
                    keys.append(f"{f.key}.{spec.name}")
    return keys


def _queries(fields):
    keys = st.sampled_from(_field_keys(fields)) | st.text(max_size=12)
    return st.dictionaries(keys, _HOSTILE_VALUES | st.sampled_from(_FIELD_VALUES), max_size=12)


_FIELD_VALUES = sorted(set(views.VIEWS) | set(PLANAR) | set(gdviz.OPTIMIZERS) | set(gdviz.SCHEDULES))


def _check_values(fields, values: dict) -> None:
    for f in fields:
        value = values[f.key]
        if isinstance(f, ps.Number):
            assert math.isfinite(value) and f.low <= value <= f.high, (f.key, value)
            assert isinstance(value, int) if f.integer else isinstance(value, float), (f.key, value)
        elif isinstance(f, ps.Choice):
            assert value in f.options, (f.key, value)
        elif isinstance(f, ps.Names):
            assert 1 <= len(value) <= f.max_items and set(value) <= set(f.options), (f.key, value)
        elif isinstance(f, ps.Point):
            cap = limits.MAX_ABS_START
            assert value is None or (len(value) in (1, 2) and all(abs(v) <= cap for v in value)), (f.key, value)
        elif isinstance(f, ps.Entry):
            name, params = value
            assert name in f.options()
            if name != ps.CONSTANT:
                build = gdviz.optimizer if f.kind == "optimizer" else gdviz.schedule
                build(name, **dict(params))  # the engine accepts what the page will run


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["lab", "schedules"]), st.data())
def test_any_page_link_gives_values_within_the_caps(page, data):
    fields = views.FIELDS if page == "lab" else schedules.FIELDS
    query = data.draw(_queries(fields))
    values, notices = ps.read_query(fields, query)
    assert not any("could not be read" in n for n in notices), notices  # no internal error behind a notice
    _check_values(fields, values)
    # what the page writes back to the address bar reads back as the same values, without a notice
    again, more = ps.read_query(fields, ps.to_query(fields, values))
    assert more == [] and again == values


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["s", "f", "x0", "steps", "noise", "batch", "seed", "sched", "o1", "o1.lr"])
        | st.text(max_size=8),
        _HOSTILE_VALUES,
        max_size=10,
    )
)
def test_any_playground_link_is_read_without_an_internal_error(query):
    scenario, notices = from_query(query)
    assert not any("could not be read" in n for n in notices), notices
    assert limits.MIN_STEPS <= scenario.steps <= limits.MAX_STEPS
    assert 1 <= len(scenario.optimizers) <= limits.MAX_OPTIMIZERS
    assert len(scenario.formula) <= limits.MAX_FORMULA_CHARS


# -- numbers that go wrong -----------------------------------------------------------------------------------
NUMERIC_CASES = {
    # name: (query, what the page must say)
    "divergence": ({"s": "quadratic", "x0": "-5,-2", "o1": "SGD", "o1.lr": "0.6"}, "η < 2/λmax = 0.5"),
    "overflow": ({"f": "exp(x^2) + y^2", "x0": "2,1", "o1": "SGD", "o1.lr": "1"}, "diverged at step"),
    "log of a negative": ({"f": "log(x) + y^2", "x0": "0.5,1", "o1": "SGD", "o1.lr": "1"}, "not defined everywhere"),
    "sqrt of a negative": ({"f": "sqrt(x) + y^2", "x0": "1,1", "o1": "SGD", "o1.lr": "1"}, "not defined everywhere"),
    "zero Hessian, Newton": ({"f": "x + y", "x0": "1,1", "o1": "Newton"}, "Hessian (+ λI) is singular"),
    "flat direction, Newton": ({"f": "x^2", "x0": "1", "o1": "Newton", "o2": "Newton", "o2.lr": "0.5"}, None),
    "inflection, Newton": ({"f": "x^3 + y^2", "x0": "0,1", "o1": "Newton"}, "Hessian (+ λI) is singular"),
    "restarts, some diverge": (
        {"s": "rosenbrock", "x0": "-1.5,2;0,0;1.2,1.2", "o1": "SGD", "o1.lr": "0.003", "o2": "Adam", "o2.lr": "0.1"},
        "(from (",
    ),
    "noise huge": ({"s": "quadratic", "noise": "100", "o1": "SGD", "o1.lr": "2", "steps": "300"}, "diverged"),
    "largest values": ({"s": "quadratic", "x0": "10000,-10000", "o1": "Adam", "o1.lr": "1e6", "steps": "5000"}, None),
}


def _non_finite(obj, path: str = "") -> list[str]:
    """Paths of every NaN or infinity in a plotly figure's dict (arrays included)."""
    bad = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            bad += _non_finite(value, f"{path}.{key}")
    elif isinstance(obj, list | tuple):
        for index, value in enumerate(obj):
            bad += _non_finite(value, f"{path}[{index}]")
    elif isinstance(obj, np.ndarray):
        if obj.dtype.kind in "fc":
            if not np.all(np.isfinite(obj)):
                bad.append(path)
        elif obj.dtype == object:
            bad += _non_finite(obj.tolist(), path)
    elif isinstance(obj, float | np.floating) and not math.isfinite(obj):
        bad.append(path)
    return bad


def _strict_json(text: str):
    """json.loads that refuses NaN and Infinity (plain JSON has neither; plotly.js gets what is sent)."""

    def refuse(token):
        raise ValueError(f"{token} in the JSON")

    return json.loads(text, parse_constant=refuse)


def assert_finite_figure(fig) -> None:
    assert _non_finite(fig.to_plotly_json()) == []
    _strict_json(pio.to_json(fig, validate=False))


@pytest.mark.parametrize("case", NUMERIC_CASES, ids=list(NUMERIC_CASES))
def test_numbers_that_go_wrong_stop_cleanly_and_say_why(case):
    """The Playground's compute path under warnings-as-errors: the run, every figure, the messages, exports."""
    query, expected = NUMERIC_CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning (overflow, invalid value) would be an exception
        scenario, notices = from_query(query)
        race, error = simulate(scenario)
        assert error is None, error
        messages = divergence_messages(race)
        figures = [
            race_figure(race.surface, race.trajectories, race.labels),
            panels_figure(race.trajectories, race.labels, log_loss=True, current_step=scenario.steps, tolerance=1e-4),
            panels_figure(race.trajectories, race.labels, log_loss=False, current_step=1, tolerance=1e-10),
        ]
        if race.surface.dim == 2:
            figures.append(surface_3d_figure(race.surface, race.trajectories, race.labels))
        for fig in figures:
            assert_finite_figure(fig)
        rows = results_rows(race.trajectories, race.labels, 1e-4)
        for trajectory in race.trajectories:
            for step in sorted({1, scenario.steps // 2 or 1, scenario.steps}):
                inspect(trajectory, step)
        _strict_json(trajectories_json(race.trajectories, race.labels, scenario=query))
        csv = trajectories_csv(race.trajectories, race.labels)
    assert len(rows) == sum(t.diverged_step.size for t in race.trajectories)  # one row per run
    assert "nan" not in csv.lower().split(",") and "inf" not in csv.lower()
    text = " ".join(f"{who} {what}" for who, what in messages)
    if expected is not None:
        assert expected in text, text
    for trajectory in race.trajectories:
        # the run stops where it broke: the path keeps its finite prefix, nothing after it moves
        assert np.all(np.isfinite(trajectory.xs)) and np.all(np.isfinite(trajectory.losses))
        for run, step in enumerate(trajectory.diverged_step.tolist()):
            if step >= 0:
                xs = trajectory.xs[:, run] if trajectory.batched else trajectory.xs
                assert np.all(xs[step:] == xs[step - 1])


def test_a_formula_undefined_at_the_start_is_a_message():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        race, error = simulate(from_query({"f": "log(x) + y^2", "x0": "-1,1"})[0])
    assert race is None and "not finite at the start point" in error


def test_fingerprints_see_a_change_in_place():
    """The shared-state check of tests/app compares these fingerprints: an in-place write must change one."""
    table = {"a": [1, 2], "b": np.zeros(3)}
    before = fingerprint(table)
    table["b"][1] = 1.0
    assert fingerprint(table) != before
    surface = gdviz.surface("himmelblau")
    assert fingerprint(surface) == fingerprint(gdviz.surface("himmelblau"))


# -- fingerprints of shared state (used by tests/app/test_hostile_app.py) -------------------------------------
def fingerprint(value, depth: int = 0) -> str:
    """A digest of a value's content, deep enough to see an in-place change of a table, array or surface."""
    if depth > 6:
        return f"<deep {type(value).__name__}>"
    if isinstance(value, np.ndarray):
        return f"nd{value.dtype}{value.shape}:" + hashlib.sha1(np.ascontiguousarray(value).tobytes()).hexdigest()
    if isinstance(value, dict | types.MappingProxyType):
        items = sorted((repr(k), fingerprint(v, depth + 1)) for k, v in value.items())
        return "{" + ",".join(f"{k}:{v}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(fingerprint(v, depth + 1) for v in value) + "]"
    if isinstance(value, set | frozenset):
        return "{" + ",".join(sorted(fingerprint(v, depth + 1) for v in value)) + "}"
    if isinstance(value, type):
        attributes = {
            k: v
            for k, v in vars(value).items()
            if not k.startswith("__") and not callable(v) and not isinstance(v, property | classmethod | staticmethod)
        }
        return f"class {value.__qualname__}" + fingerprint(attributes, depth + 1)
    if dataclasses.is_dataclass(value):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return type(value).__name__ + fingerprint({k: v for k, v in fields.items() if not callable(v)}, depth + 1)
    if isinstance(value, str | bytes | int | float | bool | type(None)):
        return repr(value)
    if callable(value):
        return f"<callable {getattr(value, '__qualname__', type(value).__name__)}>"
    return f"<{type(value).__name__}>"


def shared_state() -> dict[str, str]:
    """Fingerprints of every mutable module global and of the registries (their surfaces and classes too)."""
    out = {}
    for names, value in module_globals():
        if set(names) & set(PURE_MEMOS):
            continue
        if _is_mutable(value) or isinstance(value, types.MappingProxyType):
            out[names[0]] = fingerprint(value)
    for name in REGISTRIES:
        out[f"gdviz.{name} (entries)"] = fingerprint(getattr(gdviz, name))
    return out
