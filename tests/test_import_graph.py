"""No two nnmass modules import each other, directly or round a longer loop.

The graph is read from the source with ``ast``: one node per module file (a package is
its ``__init__.py``), one edge per import statement anywhere in it, imports inside
functions (made on first use) included: a loop through a late import is still two
modules that each need the other. Left out: the names a package's ``__getattr__`` loads
through ``nnmass.lazy`` tables and ``proxies.catalog``'s binding, which are strings,
not import statements.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_statements(tree: ast.Module):
    """Every import statement of a module, at module level or inside a function."""
    return (node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom)))


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    files = {module_name(p, root): p for p in (root / "nnmass").rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in import_statements(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                base = ".".join(p for p in (base if node.level else "", node.module or "") if p)
                # "from pkg import sub" imports the submodule; "from pkg import name", the package.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            graph[name] |= {t for t in targets if t in files and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_loop_and_only_a_loop():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_graph_sees_relative_and_package_imports():
    graph = import_graph()
    assert "nnmass.validate" in graph["nnmass.spec.dense"]            # from ..validate import ...
    assert "nnmass.spec" in graph["nnmass.cost.arrays"]                # from ..spec import NAME: the package
    assert "nnmass.proxies.registry" in graph["nnmass.proxies.catalog"]
    assert "nnmass.store.columns" in graph["nnmass.store.rows"]
    assert "nnmass.trace" in graph["nnmass.mass.traced"]                # inside a function


def test_no_two_modules_import_each_other():
    assert cycles(import_graph()) == []


# The README's "Package layout" table, as module-name prefixes; the longest prefix wins.
# Package faces that only hand names on lazily (nnmass.lazy) sit on layer 0 by themselves.
LAYERS = {
    0: ("nnmass.topology", "nnmass.bounds", "nnmass.spec", "nnmass.families", "nnmass.validate", "nnmass.mass",
        "nnmass.cost", "nnmass.design", "nnmass.stats", "nnmass.store", "nnmass.files", "nnmass.json_values",
        "nnmass.table", "nnmass.render", "nnmass.data.names", "nnmass.data.pixels", "nnmass.proxies.proxy_names",
        "nnmass.proxies.combined", "nnmass.spaces",
        "nnmass.sweep.grid", "nnmass.train.config", "nnmass.rank.statistics", "nnmass.errors", "nnmass.lazy"),
    1: ("nnmass.modes", "nnmass.threads", "nnmass.trace", "nnmass.mass.traced", "nnmass.models", "nnmass.ldi",
        "nnmass.proxies", "nnmass.data"),
    2: ("nnmass.train", "nnmass.parallel", "nnmass.sweep", "nnmass.rank", "nnmass.search"),
    3: ("nnmass.plots", "nnmass.report", "nnmass.studies", "nnmass.cli", "nnmass.__main__"),
}
LAZY_FACES = ("nnmass", "nnmass.data", "nnmass.proxies", "nnmass.train", "nnmass.sweep", "nnmass.rank")


def layer_of(module: str) -> int:
    if module in LAZY_FACES:
        return 0
    matches = [(len(prefix), layer) for layer, prefixes in LAYERS.items() for prefix in prefixes
               if module == prefix or module.startswith(prefix + ".")]
    assert matches, f"{module} is on no layer of the README's table"
    return max(matches)[1]


def test_no_module_imports_one_on_a_higher_layer():
    graph = import_graph()
    upward = [f"{a} -> {b}" for a, targets in sorted(graph.items()) for b in sorted(targets)
              if layer_of(b) > layer_of(a)]
    assert upward == []
    assert layer_of("nnmass.proxies.zico") == 1 and layer_of("nnmass.proxies.proxy_names") == 0
