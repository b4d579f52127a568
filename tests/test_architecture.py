"""The import rules of docs/architecture.md hold: every .py file of the project, parsed with `ast`.

An import is module-level when it runs as the module is imported: not inside a function (or lambda) and not
under `if TYPE_CHECKING:`. Rules on what a room may import count every import, module-level or not; the
no-cycle rule counts module-level imports only. Each failure names the offending module, line and import.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROS_PACKAGE = ROOT / "ros_ws" / "src" / "snncontrol_ros"
SKIPPED_PARTS = {".venv", ".git", "__pycache__", "build", "install", "log", "out", "runs"}

#: the core: snncontrol/ except these modules and packages
CORE_EXCEPTIONS = (
    "snncontrol.evaluation",
    "snncontrol.commands",
    "snncontrol.cli",
    "snncontrol.vpr.cli",
    "snncontrol.vpr.route_cli",
)
CORE_FORBIDDEN = (
    "mujoco",
    "gymnasium",
    "sim_envs",
    "evolution",
    "rclpy",
    "snncontrol_ros",
    "snncontrol.evaluation",
    "snncontrol.commands",
)
SIM_ENVS_FORBIDDEN = ("snncontrol", "evolution", "rclpy", "snncontrol_ros", "torch")
EVOLUTION_FORBIDDEN = ("rclpy", "snncontrol_ros", "snncontrol.commands")
ROS_IMPORTERS = ("snncontrol_ros", "tests", "benchmarks")


@dataclass(frozen=True)
class Import:
    """One imported module as written in `source` (a dotted module name) at `line`."""

    source: str
    target: str
    line: int
    where: str = ""  # "" at module level, else "inside a function" or "under TYPE_CHECKING"

    @property
    def module_level(self) -> bool:
        return not self.where

    def __str__(self) -> str:
        return f"{self.source} (line {self.line}) imports {self.target}" + (f" ({self.where})" if self.where else "")


def _module_name(path: Path) -> str:
    """Dotted module name of a project file (the ROS package's modules as `snncontrol_ros.*`)."""
    base = ROS_PACKAGE if path.is_relative_to(ROS_PACKAGE / "snncontrol_ros") else ROOT
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def project_files() -> dict[str, Path]:
    """Module name -> file, for every .py file of the project outside virtual environments and build output."""
    files = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if SKIPPED_PARTS.intersection(rel.parts) or any(part.endswith(".egg-info") for part in rel.parts):
            continue
        files[_module_name(path)] = path
    return files


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The module an ImportFrom names, relative levels resolved against `module`."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = _absolute(node, module, is_package)
    known = project_files()
    # `from pkg import sub` imports the module pkg.sub when sub is one; else a name of pkg
    return list(dict.fromkeys(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names))


@cache
def imports_of(module: str) -> tuple[Import, ...]:
    """Every import statement of `module`, each marked module-level or not."""
    path = project_files()[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[Import] = []

    def visit(node: ast.AST, where: str) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.extend(Import(module, t, node.lineno, where) for t in _targets(node, module, is_package))
            return
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, where or "under TYPE_CHECKING")
            for child in node.orelse:
                visit(child, where)
            return
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            where = where or "inside a function"
        for child in ast.iter_child_nodes(node):
            visit(child, where)

    visit(tree, "")
    return tuple(found)


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _violations(modules: list[str], forbidden: tuple[str, ...]) -> list[str]:
    return [str(imp) for m in modules for imp in imports_of(m) if _within(imp.target, forbidden)]


def _room(prefix: str, exceptions: tuple[str, ...] = ()) -> list[str]:
    modules = [m for m in project_files() if _within(m, (prefix,)) and not _within(m, exceptions)]
    assert modules, f"no modules found under {prefix}"
    return modules


def test_the_core_imports_no_simulator_ros_evolution_or_application_layer() -> None:
    bad = _violations(_room("snncontrol", CORE_EXCEPTIONS), CORE_FORBIDDEN)
    assert not bad, "the SNN core must not import these:\n" + "\n".join(bad)


def test_controllers_never_import_evaluation() -> None:
    bad = _violations(_room("snncontrol.controllers"), ("snncontrol.evaluation",))
    assert not bad, "snncontrol.controllers must not import snncontrol.evaluation:\n" + "\n".join(bad)


def test_sim_envs_knows_neither_snns_evolution_nor_ros() -> None:
    bad = _violations(_room("sim_envs"), SIM_ENVS_FORBIDDEN)
    assert not bad, "sim_envs must not import these:\n" + "\n".join(bad)


def test_evolution_imports_neither_ros_nor_the_cli() -> None:
    bad = _violations(_room("evolution"), EVOLUTION_FORBIDDEN)
    assert not bad, "evolution must not import these:\n" + "\n".join(bad)


def test_only_the_ros_package_tests_and_benchmarks_import_snncontrol_ros() -> None:
    others = [m for m in project_files() if not _within(m, ROS_IMPORTERS)]
    bad = _violations(others, ("snncontrol_ros",))
    assert not bad, "nothing but snncontrol_ros, tests and benchmarks may import snncontrol_ros:\n" + "\n".join(bad)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module, or a module importing itself (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph) + 100))
    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_no_import_cycle_among_the_projects_modules() -> None:
    modules = project_files()
    graph = {m: {imp.target for imp in imports_of(m) if imp.module_level and imp.target in modules} for m in modules}
    lines = []
    for component in _cycles(graph):
        members = set(component)
        edges = [str(imp) for m in component for imp in imports_of(m) if imp.module_level and imp.target in members]
        lines.append(f"cycle among {', '.join(component)}:\n  " + "\n  ".join(edges))
    assert not lines, "\n".join(lines)


@pytest.mark.parametrize("module", ["snncontrol.controllers.ncap", "snncontrol.controllers.blimp", "snncontrol.policy"])
def test_importing_a_controller_or_the_policy_loads_no_simulator(module: str) -> None:
    code = f"import sys, {module}\nprint(' '.join(sorted(m for m in ('mujoco', 'gymnasium') if m in sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"import {module} loads {result.stdout.strip()}"
