"""Every test checks something: its body (or a helper it calls) asserts, or it expects an error.

A test without a check passes whatever the code does. Found by reading the source (ast), so a
new test that asserts nothing fails here. Helpers count when they assert themselves or call
another helper that does, in any module under tests/ (matched by name, as they are called)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

TESTS = Path(__file__).parent
# pytest.raises / warns / fail, pytest.approx is not a check by itself.
CHECKS = {"raises", "warns", "fail", "deprecated_call"}
# Method names libraries share with our helpers: `requests.get(...)` or `subprocess.run(...)`
# must not count as a check because some helper in tests/ is also called `get` or `run`.
GENERIC = {"get", "run", "resolve", "get_token", "setup", "bin", "work", "examples", "main", "secret"}


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(TESTS.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def _called(node: ast.AST) -> set[str]:
    names = set()
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            func = call.func
            if isinstance(func, ast.Name):
                names.add(func.id)
            elif isinstance(func, ast.Attribute) and func.attr not in GENERIC:
                names.add(func.attr)
    return names


def _checks_itself(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Assert):
            return True
        if isinstance(sub, (ast.Call, ast.Attribute)):
            func = sub.func if isinstance(sub, ast.Call) else sub
            if (
                isinstance(func, ast.Attribute)
                and func.attr in CHECKS
                and isinstance(func.value, ast.Name)
                and func.value.id == "pytest"
            ):
                return True
    return False


def unchecked_tests(modules: Optional[list[tuple[Path, ast.Module]]] = None) -> list[str]:
    """`path::name` of every test function (in `modules`, else every module under tests/) that
    neither checks nor calls a helper that checks."""
    if modules is None:
        modules = list(_modules())
    functions = [(path, f) for path, tree in modules for f in _functions(tree)]
    checking = {f.name for _, f in functions if _checks_itself(f)}
    while True:  # helpers calling helpers that check; bounded by the number of functions
        more = {f.name for _, f in functions if f.name not in checking and _called(f) & checking}
        if not more:
            break
        checking |= more
    return [
        f"{path.relative_to(TESTS)}::{f.name}"
        for path, f in functions
        if f.name.startswith("test_") and not (_checks_itself(f) or _called(f) & checking)
    ]


def test_every_test_checks_something() -> None:
    assert unchecked_tests() == []


def test_the_scan_finds_a_test_without_a_check() -> None:
    source = """
def helper(x):
    assert x
def indirect(x):
    helper(x)
def get(url):  # a helper that asserts, with a name libraries use too
    assert url
def test_calls_helper():
    indirect(1)
def test_raises():
    with pytest.raises(ValueError):
        int("x")
def test_generic_name_is_no_check(session):
    session.get("https://example.invalid")
def test_nothing():
    int("1")
class TestGroup:
    def test_method_without_check(self):
        helper
"""
    module = ast.parse(source)
    found = unchecked_tests([(TESTS / "test_example.py", module)])
    assert found == [
        "test_example.py::test_generic_name_is_no_check",
        "test_example.py::test_nothing",
        "test_example.py::test_method_without_check",
    ]
