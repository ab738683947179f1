"""The product's modules import each other in layers: no circle, and every `__all__` is true.

The graph counts every import, module level and inside functions (a lazy import is still a
dependency), and skips `if TYPE_CHECKING:` blocks. `from pkg import name` depends on `pkg`'s
`__init__` as well as on `pkg.name` when that is a module. The fake in `testing/` is left out.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import keyrings.azure_artifacts as package

ROOT = Path(package.__file__).parent
PACKAGE = package.__name__


def _modules(*, testing: bool) -> dict[str, Path]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        if testing or (name != f"{PACKAGE}.testing" and not name.startswith(f"{PACKAGE}.testing.")):
            found[name] = path
    return found


MODULES = _modules(testing=False)  # the product: the fake in testing/ is a tool of the tests


def _imported(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The product modules one import statement loads."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package_parts = (
                module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
            )
            parent = package_parts[: len(package_parts) - (node.level - 1)]
            base = ".".join([*parent, *([node.module] if node.module else [])])
        names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
    return {name for name in names if name in MODULES and name != module}


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        edges: set[str] = set()

        class Visitor(ast.NodeVisitor):
            def visit_If(self, node: ast.If) -> None:
                if "TYPE_CHECKING" in ast.unparse(node.test):
                    return
                self.generic_visit(node)

            def visit_Import(self, node: ast.Import) -> None:
                edges.update(_imported(module, node))  # noqa: B023 (used at once)

            def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
                edges.update(_imported(module, node))  # noqa: B023 (used at once)

        Visitor().visit(ast.parse(path.read_text(encoding="utf-8")))
        graph[module] = edges
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _describe(component: list[str], graph: dict[str, set[str]]) -> str:
    short = {name: name.removeprefix(PACKAGE).lstrip(".") or "(package __init__)" for name in component}
    edges = [f"    {short[a]} -> {short[b]}" for a in component for b in sorted(graph[a]) if b in component]
    return "a circle of " + ", ".join(short[n] for n in component) + ":\n" + "\n".join(edges)


def test_the_graph_sees_function_level_imports_and_skips_type_checking() -> None:
    graph = import_graph()
    assert f"{PACKAGE}.service" in graph[f"{PACKAGE}.backend"]  # imported inside a function
    assert f"{PACKAGE}.modes.bearer" in graph[f"{PACKAGE}.modes"]  # inside the factory
    assert f"{PACKAGE}.signin" not in graph[f"{PACKAGE}.modes.base"]  # TYPE_CHECKING only


def test_circles_are_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_among_product_modules() -> None:
    graph = import_graph()
    found = circles(graph)
    message = "\n".join(_describe(c, graph) for c in found)
    assert not found, (
        f"{message}\nMove what both sides need into a module below them (docs/design.md, layers)."
    )


def _all_names() -> list[tuple[str, str]]:
    pairs = []
    for module, path in _modules(testing=True).items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                assert isinstance(node, ast.Assign)
                pairs += [(module, name) for name in ast.literal_eval(node.value)]
    return pairs


def test_modules_declare_all() -> None:
    assert {module for module, _name in _all_names()} >= {
        PACKAGE,
        f"{PACKAGE}.exchange",
        f"{PACKAGE}.tool_setup",
        f"{PACKAGE}.testing",
    }


@pytest.mark.parametrize(("module", "name"), _all_names())
def test_every_name_in_all_exists(module: str, name: str) -> None:
    assert hasattr(importlib.import_module(module), name), f"{module}.__all__ names {name!r}, which it lacks"
