"""The package's shape: no import circle, and no module longer than a reader takes in at once.

Imports are read from the source (the AST), at module level and inside functions alike: a lazy
import keeps `lossdoctor --help` fast, it is not a licence to import back up the road. Imports
under `if TYPE_CHECKING:` run only for a type checker and are left out. `from lossdoctor.a
import b` depends on `lossdoctor.a.b` when that is a module, else on `lossdoctor.a`; that Python
runs a package's `__init__` before its submodules is load order, not a dependency.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lossdoctor"
MAX_LINES = 400
# Modules allowed past MAX_LINES, each with the reason a split would hurt: none today.
LONG_MODULES: dict[str, str] = {}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _imported(name: str, path: Path) -> set[str]:
    """The package's modules that `name` imports, anywhere but under `if TYPE_CHECKING:`."""
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                visit_else(child)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = here[: len(here) - child.level + 1] if child.level else []
                module = ".".join([*base, *([child.module] if child.module else [])])
                for alias in child.names:
                    submodule = f"{module}.{alias.name}"
                    found.add(submodule if submodule in MODULES else module)
            visit(child)

    def visit_else(node: ast.If) -> None:
        for child in node.orelse:
            visit(ast.Module(body=[child], type_ignores=[]))

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {module for module in found if module in MODULES and module != name}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return circles


def test_the_package_has_no_import_circle():
    graph = {name: _imported(name, path) for name, path in MODULES.items()}
    assert _circles(graph) == []


def test_the_circle_finder_finds_a_circle_through_a_lazy_import(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


def test_imports_inside_functions_count_and_type_checking_ones_do_not(tmp_path):
    source = (
        "from typing import TYPE_CHECKING\n"
        "from lossdoctor import report\n"
        "if TYPE_CHECKING:\n"
        "    from lossdoctor.cli import main\n"
        "def f():\n"
        "    from lossdoctor.render import html\n"
        "    import lossdoctor.errors\n"
    )
    path = tmp_path / "probe.py"
    path.write_text(source)
    assert _imported("lossdoctor.probe", path) == {
        "lossdoctor.report",
        "lossdoctor.render.html",
        "lossdoctor.errors",
    }


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_longer_than_a_reader_takes_in(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    if name in LONG_MODULES:
        return
    assert lines <= MAX_LINES, f"{MODULES[name]} has {lines} lines; split it by job"


def test_every_long_module_allowed_exists_and_is_long():
    for name in LONG_MODULES:
        assert name in MODULES, f"{name} is gone: take it off LONG_MODULES"
        lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
        assert lines > MAX_LINES, f"{name} has {lines} lines now: take it off LONG_MODULES"


def test_the_model_imports_no_renderer_and_the_renderers_give_it_every_view():
    imported = _imported("lossdoctor.report", MODULES["lossdoctor.report"])
    assert not [name for name in imported if name.startswith("lossdoctor.render")]
    source = MODULES["lossdoctor.report"].read_text(encoding="utf-8")
    used = set(re.findall(r'VIEWS\["([^"]+)"\]', source))
    from lossdoctor.report import VIEWS

    assert used == {"rich", "text/html", "text/plain"} and used <= set(VIEWS)
