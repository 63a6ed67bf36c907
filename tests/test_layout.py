"""The code's layout, checked through the source text (ast) alone: no engine is imported.

- no import cycles among the modules of ``chem/``, ``tiers/`` and ``agent/``;
- one-way layering ``agent -> tiers -> chem``;
- ``agent/report.py`` does not reach ``agent/notebook.py``;
- no function in ``agent/`` longer than 80 lines; ``agent/design.py`` and ``agent/graph.py``
  each under 350 lines.

Every import statement counts, including those inside functions and ``if TYPE_CHECKING:``
blocks. Each test reports all its violations at once.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# source folder -> package name (pyproject's [tool.setuptools.package-dir])
PACKAGES = {"tierchem": "tierchem", "chem": "tierchem.chem", "tiers": "tierchem.tiers", "agent": "tierchem.agent"}
LAYERS = ("tierchem.chem", "tierchem.tiers", "tierchem.agent")  # each may import only those before it
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = {"agent/design.py": 350, "agent/graph.py": 350}  # a module must be shorter than this


@lru_cache(maxsize=None)
def modules() -> dict[str, tuple[Path, bool]]:
    """Module name -> (source file, is a package's ``__init__``)."""
    out = {}
    for folder, package in PACKAGES.items():
        for path in sorted((REPO / folder).rglob("*.py")):
            parts = list(path.relative_to(REPO / folder).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            out[".".join([package, *parts])] = (path, is_package)
    return out


def _resolve_base(module: str, is_package: bool, level: int, name: str | None) -> str | None:
    """The absolute module name of ``from <level dots><name> import ...`` written in ``module``."""
    if level == 0:
        return name
    parts = module.split(".") if is_package else module.split(".")[:-1]
    if level - 1 > len(parts) - 1:
        return None  # beyond the top-level package
    parts = parts[: len(parts) - (level - 1)]
    return ".".join(parts + ([name] if name else []))


def _in_tierchem(name: str) -> bool:
    return name == "tierchem" or name.startswith("tierchem.")


@lru_cache(maxsize=None)
def imports_of(module: str) -> dict[str, int]:
    """The tierchem modules ``module`` imports -> the line of the first such import."""
    path, is_package = modules()[module]
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_base(module, is_package, node.level, node.module)
            if base is None:
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.append(sub if alias.name != "*" and sub in modules() else base)
        for target in targets:  # a missing module stays a node of its own, with no imports
            if _in_tierchem(target) and target != module:
                found.setdefault(target, node.lineno)
    return found


def _where(module: str, target: str) -> str:
    path = modules()[module][0].relative_to(REPO)
    return f"{module} -> {target} ({path}:{imports_of(module)[target]})"


def import_graph() -> dict[str, list[str]]:
    graph = {m: sorted(imports_of(m)) for m in modules()}
    for targets in list(graph.values()):
        for t in targets:
            graph.setdefault(t, [])
    return graph


def find_cycles(graph: dict[str, list[str]]) -> list[tuple[list[str], list[str]]]:
    """The graph's cycles: per strongly connected component (Tarjan), a closed path through it
    and the component's modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [(_cycle_in(graph, set(c)), c) for c in components]


def _cycle_in(graph: dict[str, list[str]], component: set[str]) -> list[str]:
    """A shortest closed path through the component's first module (breadth-first)."""
    start = min(component)
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in graph[v]:
                if w not in component:
                    continue
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [*reversed(path), start]
                if w not in parent:
                    parent[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover


def reachable(module: str) -> dict[str, str]:
    """Every module ``module`` imports directly or transitively -> the module that imports it."""
    seen: dict[str, str] = {}
    todo = [module]
    while todo:
        v = todo.pop()
        for w in imports_of(v) if v in modules() else ():
            if w not in seen and w != module:
                seen[w] = v
                todo.append(w)
    return seen


def _chain(module: str, target: str, via: dict[str, str]) -> str:
    path = [target]
    while path[-1] != module:
        path.append(via[path[-1]])
    path.reverse()
    return " -> ".join(path) + "".join(f"\n    {_where(a, b)}" for a, b in zip(path, path[1:]))


def _layer(module: str) -> int | None:
    for i, package in enumerate(LAYERS):
        if module == package or module.startswith(package + "."):
            return i
    return None


def test_the_module_map_covers_the_three_packages():
    names = modules()
    assert {"tierchem.chem.molecule", "tierchem.tiers.store", "tierchem.agent.graph", "tierchem.agent"} <= set(names)
    # relative imports resolve to module names
    assert "tierchem.tiers.store" in imports_of("tierchem.agent.cli")
    assert _resolve_base("tierchem.agent.cli", False, 2, "tiers.store") == "tierchem.tiers.store"
    assert _resolve_base("tierchem.agent", True, 1, None) == "tierchem.agent"


def test_the_cycle_finder():
    graph = {"a": ["b"], "b": ["c", "d"], "c": ["a", "b"], "d": [], "e": ["e2"], "e2": ["e"]}
    assert find_cycles(graph) == [(["a", "b", "c", "a"], ["a", "b", "c"]), (["e", "e2", "e"], ["e", "e2"])]
    assert find_cycles({"a": ["b"], "b": []}) == []


def test_no_import_cycles():
    cycles = find_cycles(import_graph())
    lines = []
    for cycle, component in cycles:
        lines.append(" -> ".join(cycle))
        lines.extend("    " + _where(a, b) for a, b in zip(cycle, cycle[1:]))
        if len(component) > len(cycle) - 1:
            lines.append(f"    (these modules import each other in a ring: {', '.join(component)})")
    assert not cycles, f"{len(cycles)} import cycle(s):\n" + "\n".join(lines)


def test_layering():
    violations = []
    for module in modules():
        mine = _layer(module)
        if mine is None:
            continue
        for target in imports_of(module):
            theirs = _layer(target)
            if theirs is not None and theirs > mine:
                violations.append(_where(module, target))
    assert not violations, (f"{len(violations)} import(s) against the layering agent -> tiers -> chem:\n"
                            + "\n".join(violations))


def test_report_does_not_reach_notebook():
    via = reachable("tierchem.agent.report")
    assert "tierchem.agent.notebook" not in via, (
        "agent/report.py imports agent/notebook.py: " + _chain("tierchem.agent.report", "tierchem.agent.notebook", via))


def test_function_and_module_lengths():
    violations = []
    for path in sorted((REPO / "agent").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        text = path.read_text()
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    violations.append(f"{rel}:{node.lineno} {node.name}() is {n} lines (at most {MAX_FUNCTION_LINES})")
        limit = MAX_MODULE_LINES.get(rel)
        n_lines = len(text.splitlines())
        if limit is not None and n_lines >= limit:
            violations.append(f"{rel} is {n_lines} lines (under {limit})")
    assert not violations, f"{len(violations)} length violation(s):\n" + "\n".join(violations)
