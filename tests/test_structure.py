"""The app side's shape: one state layer under every page, no import cycles, thin pages."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE_PACKAGES = ("ui.playground", "ui.lab", "ui.regression")


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path) -> set[str]:
    """The ui modules ``path`` imports (``from ui.x import y`` counts ui.x, and ui.x.y when that is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("ui")}


def _ui_graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in (ROOT / "ui").rglob("*.py")}
    return {name: _imports(path) & set(modules) for name, path in modules.items()}


def test_the_state_layer_imports_no_page_package():
    """ui/state is what every page stands on: it never reaches into one of them."""
    graph = _ui_graph()
    wrong = {
        module: sorted(name for name in imported if name.startswith(PAGE_PACKAGES))
        for module, imported in graph.items()
        if module.startswith("ui.state")
    }
    assert {module: names for module, names in wrong.items() if names} == {}


def test_ui_has_no_import_cycles():
    graph = _ui_graph()
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        for imported in sorted(graph.get(module, ())):
            if imported in path:
                cycles.append(path[path.index(imported) :] + [imported])
            elif imported not in done:
                visit(imported, [*path, imported])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert cycles == []


def test_links_are_read_only_by_the_state_layer():
    """One codec: no page module reads query parameters itself (st.query_params, plain_query)."""
    readers = []
    for path in [*(ROOT / "ui").rglob("*.py"), *(ROOT / "pages").glob("*.py")]:
        if path.relative_to(ROOT).parts[:2] == ("ui", "state"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
            if name in ("plain_query", "unknown_keys_notice", "parse_number", "parse_value"):
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert readers == []


def test_pages_are_thin():
    """pages/*.py read like a description of the page; their logic lives in ui/."""
    long = {path.name: n for path in (ROOT / "pages").glob("*.py") if (n := len(path.read_text().splitlines())) > 80}
    assert long == {}
