"""experiments/ imports one way: no module imports, however indirectly, a module that imports it back.

Imports inside functions count too: a lazy import still ties the two ideas together, it only hides the circle.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "experiments"


def imported_modules(path: Path) -> set[str]:
    """Every experiments module that `path` imports, anywhere in the file (top level, functions, TYPE_CHECKING)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # a relative import inside experiments/
                base = "experiments" + (f".{base}" if base else "")
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}  # `from experiments import stats`
    return {m.split(".")[1] for m in found if m.startswith("experiments.")} - {path.stem}


def import_graph() -> dict[str, set[str]]:
    modules = {p.stem: p for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    return {name: imported_modules(p) & set(modules) for name, p in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path (a -> b -> a), or None when the graph is acyclic (depth-first search)."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" once every path from it was seen

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt, [*path, nxt])):
                return cycle
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start, [start])):
            return cycle
    return None


def test_the_cycle_finder_sees_a_circle_and_a_clean_chain():
    assert find_cycle({"config": set(), "grid": {"config"}, "cells": {"grid", "config"}}) is None
    assert find_cycle({"config": {"cells"}, "grid": {"config"}, "cells": {"grid"}}) == ["cells", "grid", "config",
                                                                                        "cells"]
    assert find_cycle({"ablate": {"report"}, "report": {"ablate"}}) == ["ablate", "report", "ablate"]


def test_the_parser_sees_lazy_and_package_relative_imports(tmp_path):
    f = tmp_path / "report.py"
    f.write_text("from experiments import stats\nimport experiments.grid\n"
                 "def f():\n    from experiments.ablate import generators\n    from .cells import Cell\n")
    assert imported_modules(f) == {"stats", "grid", "ablate", "cells"}


def test_experiments_modules_import_each_other_one_way():
    graph = import_graph()
    assert {"ablate", "report", "cells", "config", "grid"} <= set(graph)  # the parser saw the package
    assert "report" in graph["ablate"] and "config" in graph["grid"]  # and its imports, lazy ones included
    cycle = find_cycle(graph)
    assert cycle is None, "import circle in experiments/: " + " -> ".join(cycle)
