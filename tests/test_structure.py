"""The import rules of the tree, read from the code itself (ast), so that each job stays in its room.

- planboard (settings, URLs, Celery, roles, clock, periods, number printing, the base table) imports no app;
- actions (the plan) imports only planboard;
- metrics.rollup (the engine) imports only metrics.models / metrics.choices, actions and planboard;
- metrics.reporting queues roll-ups through metrics.tasks and imports nothing of metrics.rollup,
  metrics.dashboards or metrics.supervision;
- metrics.dashboards imports nothing of metrics.supervision;
- metrics.closeoff (销号, 延期) imports nothing of metrics.rollup, metrics.dashboards or metrics.supervision, and of
  metrics.reporting only its parsers (the evidence checks);
- no module import cycles.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("planboard", "actions", "metrics")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                modules[module_name(path)] = path
    return modules


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """The project modules a module imports (`from a.b import c` counts a.b.c when that is a module)."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target.split(".")[0] in PACKAGES:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {name: imports_of(path, name, known) - {name} for name, path in modules.items()}


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


RULES = [
    # (who, may not import, unless the target is under one of these)
    ("planboard", "actions", ()),
    ("planboard", "metrics", ()),
    ("actions", "metrics", ()),
    ("metrics.rollup", "metrics", ("metrics.rollup", "metrics.models", "metrics.choices")),
    ("metrics.reporting", "metrics.rollup", ()),
    ("metrics.reporting", "metrics.dashboards", ()),
    ("metrics.reporting", "metrics.supervision", ()),
    ("metrics.dashboards", "metrics.supervision", ()),
    ("metrics.dashboards", "metrics.reporting", ()),
    ("metrics.closeoff", "metrics.rollup", ()),
    ("metrics.closeoff", "metrics.dashboards", ()),
    ("metrics.closeoff", "metrics.supervision", ()),
    ("metrics.closeoff", "metrics.reporting", ("metrics.reporting.parsers",)),
]


def violations(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in sorted(graph.items()):
        for who, forbidden, allowed in RULES:
            if not _under(module, who):
                continue
            for target in sorted(targets):
                if _under(target, forbidden) and not any(_under(target, a) for a in allowed):
                    found.append(f"{module} imports {target}")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


class StructureTests:
    def test_it_reads_the_real_imports(self):
        graph = import_graph()
        assert "metrics.rollup.engine" in graph["metrics.rollup.services"]
        assert "actions.schedule" in graph["metrics.rollup.engine"]

    def test_every_import_follows_the_rules(self):
        assert violations(import_graph()) == []

    def test_there_are_no_import_cycles(self):
        assert cycles(import_graph()) == []

    @pytest.mark.parametrize(
        "module, target",
        [("planboard.tables", "metrics.choices"), ("metrics.rollup.engine", "metrics.dashboards.selectors"),
         ("actions.models", "metrics.models"), ("metrics.reporting.services", "metrics.rollup.services")],
    )
    def test_a_bad_import_is_caught(self, module, target):
        graph = import_graph()
        graph[module] = graph[module] | {target}
        assert f"{module} imports {target}" in violations(graph)

    def test_a_cycle_is_caught(self):
        graph = import_graph()
        graph["planboard.periods"] = graph["planboard.periods"] | {"planboard.clock"}
        graph["planboard.clock"] = graph["planboard.clock"] | {"planboard.periods"}
        assert ["planboard.clock", "planboard.periods"] in cycles(graph)
