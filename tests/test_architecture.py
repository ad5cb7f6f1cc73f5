"""The shape of the code: no two apps import each other; no `getattr(services, ...)` dispatch.

Every module under xinfang/ is parsed with `ast`, and every import counts, also one inside a
function (a lazy import hides a cycle from Python, not from a reader). An app is the first
package under xinfang/ (cases, orgs, notify, routing...); `lib` and the project's own modules
(settings, urls, cli, env, wsgi, asgi) are not apps: they may import any app.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "xinfang"
NOT_APPS = frozenset({"lib", "settings", "urls", "cli", "env", "wsgi", "asgi", "__init__"})


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent)
        if "migrations" not in rel.parts:
            found[".".join(rel.with_suffix("").parts)] = ast.parse(path.read_text(), str(rel))
    return found


MODULES = _modules()


def app_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "xinfang" or len(parts) < 2 or parts[1] in NOT_APPS:
        return None
    return parts[1]


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        if node.module == "xinfang":  # `from xinfang import cases`
            return [f"xinfang.{a.name}" for a in node.names]
        return [node.module]
    return []  # a relative import stays inside its own package


def app_graph() -> dict[str, dict[str, list[str]]]:
    """app -> imported app -> where ("xinfang/x/y.py:12"), every import at any level."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for module, tree in MODULES.items():
        source = app_of(module)
        if source is None:
            continue
        for node in ast.walk(tree):
            for name in _imported(node):
                target = app_of(name)
                if target and target != source:
                    graph[source][target].append(f"{module.replace('.', '/')}.py:{node.lineno}")
    return graph


def _cycles(graph) -> list[list[str]]:
    """The strongly connected groups of two or more apps (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(app: str) -> None:
        index[app] = low[app] = len(index)
        stack.append(app)
        for other in graph.get(app, {}):
            if other not in index:
                visit(other)
                low[app] = min(low[app], low[other])
            elif other in stack:
                low[app] = min(low[app], index[other])
        if low[app] == index[app]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == app:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for app in sorted(graph):
        if app not in index:
            visit(app)
    return groups


def test_the_graph_sees_imports_inside_functions():
    graph = app_graph()
    assert "cases" in graph and "orgs" in graph["cases"]  # cases builds on orgs
    tree = ast.parse("def f():\n    from xinfang.routing import selectors\n")
    assert [n for node in ast.walk(tree) for n in _imported(node)] == ["xinfang.routing"]


def test_no_two_apps_import_each_other():
    graph = app_graph()
    both = {
        f"{a} <-> {b}: {graph[a][b][:2]} / {graph[b][a][:2]}"
        for a in graph
        for b in graph[a]
        if a < b and a in graph.get(b, {})
    }
    assert not both, "apps that import each other:\n" + "\n".join(sorted(both))


def test_no_longer_import_cycle_between_apps():
    """A cycle through three or more apps (a -> b -> c -> a), beyond the pairs above."""
    graph = app_graph()
    pairs = {frozenset((a, b)) for a in graph for b in graph[a] if a in graph.get(b, {})}
    longer = []
    for group in _cycles(graph):
        inner = {a: {b: w for b, w in graph[a].items() if b in group} for a in group}
        # a group that is only mutual pairs is reported by the test above
        if any(frozenset((a, b)) not in pairs for a in inner for b in inner[a]):
            longer.append(group)
    assert not longer, f"import cycles through several apps: {longer}"


def _getattr_dispatch() -> list[str]:
    found = []
    for module, tree in MODULES.items():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "getattr"
                and node.args
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id.endswith("services")
            ):
                found.append(f"{module.replace('.', '/')}.py:{node.lineno}")
    return found


def test_no_getattr_dispatch_to_services():
    """Pages and the API reach a transition through the table, which grep and tools follow."""
    assert not _getattr_dispatch()


MAX_LINES = 600
# Modules still over MAX_LINES, each with the reason; this list only shrinks and must end empty.
TOO_LONG: dict[str, str] = {}


def _line_counts() -> dict[str, int]:
    counts = {}
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" not in path.parts:
            counts[str(path.relative_to(ROOT.parent))] = len(path.read_text().splitlines())
    return counts


def test_no_module_over_600_lines():
    """A module a reader can hold in mind: past 600 lines it is split by concern (migrations aside).

    The allow-list is strict too: a module on it that is short now must leave it."""
    counts = _line_counts()
    too_long = {m: n for m, n in counts.items() if n > MAX_LINES and m not in TOO_LONG}
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"
    stale = [m for m in TOO_LONG if counts.get(m, 0) <= MAX_LINES]
    assert not stale, f"no longer over {MAX_LINES} lines, take them off TOO_LONG: {stale}"
