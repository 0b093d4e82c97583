"""The packages show the architecture: no module imports one that imports it back; bot/ never imports Flask."""

from __future__ import annotations

import ast

from bot.config import ROOT


def imports(top_level_only: bool) -> dict[str, set[str]]:
    """Each module of bot/ and webhooks/ and the modules of ours it imports."""
    graph: dict[str, set[str]] = {}
    for package in ("bot", "webhooks"):
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            tree = ast.parse(path.read_text(encoding="utf-8"))
            nodes = tree.body if top_level_only else list(ast.walk(tree))
            found: set[str] = set()
            for node in nodes:
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    found.add(node.module)
                    found.update(f"{node.module}.{a.name}" for a in node.names)
                elif isinstance(node, ast.Import):
                    found.update(a.name for a in node.names)
            graph[name] = found
    return {m: {i for i in found if i in graph and i != m} for m, found in graph.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                found.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    return found


def test_no_module_imports_one_that_imports_it_back():
    graph = imports(top_level_only=False)  # an import inside a function counts too
    # a package's __init__ importing its own modules is how a package is made, not a cycle
    for m in graph:
        graph[m] = {i for i in graph[m] if not i.startswith(m + ".")}
    assert cycles(graph) == []


def test_bot_never_imports_flask():
    for path in (ROOT / "bot").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not any(n == "flask" or n.startswith("flask.") for n in names), path


# The parts services.build wires together: made there and nowhere else in the product.
PARTS = {"Outbox", "Conversations", "Reminders", "WindowRoutes", "SendGate"}


def test_parts_are_built_only_in_the_composition_root():
    built_elsewhere = []
    for package in ("bot", "webhooks"):
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "bot" / "services.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                    if name in PARTS:
                        built_elsewhere.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert built_elsewhere == []


def test_nothing_is_loaded_by_name():
    """A reader follows services.build; no module is found by a string at run time."""
    for package in ("bot", "webhooks"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
            assert "importlib" not in names, path
