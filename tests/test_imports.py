"""app/ is layered (DESIGN §4): no import circle between its modules, function-level
imports included, and each domain package imports only from the packages below it."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"

# Domain packages from the bottom up: each may import the core modules, geo/ and the
# packages listed before it, never one listed after it.
LAYERS = (
    "territories",
    "analysis",
    "routes",
    "accounts",
    "workshops",
    "survey",
    "followup",
    "gis",
    "public",
    "admin",
)
# The composition roots wire every package together (create_app, the CLI).
ROOTS = {"app", "app.cli"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in APP.rglob("*.py")}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every app module ``name`` imports, wherever the statement stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return {m for m in found if m in known and m != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) > 2 and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    return None  # a core module


def test_the_graph_sees_function_level_imports():
    graph = _graph()
    # create_app imports the blueprints inside functions only.
    assert "app.analysis.layers" in graph["app"]
    assert len(graph) > 40


def test_no_import_cycle_in_app():
    assert _cycle(_graph()) is None, " -> ".join(_cycle(_graph()))


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_packages_import_only_downward():
    wrong = []
    for module, imported in _graph().items():
        if module in ROOTS:
            continue
        mine = _layer(module)
        for target in imported:
            theirs = _layer(target)
            if theirs is None:
                continue  # core modules and geo/ are below every package
            if mine is None or theirs > mine:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


# Libraries slow to load, which a view may load on first use (with a comment saying so).
HEAVY = (
    "scipy",
    "geopandas",
    "pandas",
    "pyogrio",
    "weasyprint",
    "PIL",
    "geo.density",
    "geo.hotspots",
    "geo.raster",
    "geo.render",
    "geo.quartiers",
    "geo.streets",
)


def test_function_level_imports_are_commented_late_loads_of_heavy_libraries():
    """create_app's steps import the blueprints; elsewhere every import is at the top,
    except the commented late loads of heavy libraries."""
    hidden = []
    for name, path in _modules().items():
        if name == "app":
            continue
        lines = path.read_text().splitlines()
        for fn in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                heavy = any(module == h or module.startswith(h + ".") for h in HEAVY)
                statement = lines[node.lineno - 1 : node.end_lineno]
                before = lines[node.lineno - 2].strip()
                commented = any("#" in line for line in statement) or before.startswith("#")
                commented = commented or before.startswith(("import ", "from "))
                if not (heavy and commented):
                    hidden.append(f"{path.relative_to(ROOT)}:{node.lineno} {module}")
    assert not hidden, "\n".join(hidden)
