"""The import graph of `ingresslib`: no module imports another that imports it back.

The graph is grimp's (import-linter's library: `make lint` checks the layers of DESIGN.md with
it), counting every import: at the top of a module, inside a function, and under
`if TYPE_CHECKING:` (mypy follows those, and a cycle there is a cycle of the design). Importing
`a.b.c` runs the `__init__` of `a.b` first, so an import of a submodule also counts as one of
the packages above it that the importer is not inside.

A cycle is reported as its chain of imports, with the lines that make each one. There is none:
the last two (asgi <-> _httpproxy, routing._explain <-> routing._table) went with the route-IR
redesign (issue 11); the forwarder's client is now `ingresslib.asgi._http`, imported one way.

And each module, imported alone in a fresh interpreter, imports: an order-dependent import
(`a` works only if `b` was imported first) fails here even when the test run imports both.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
import subprocess
import sys
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

import ingresslib
from tests.support import skip_or_fail_in_ci

PACKAGE = Path(ingresslib.__file__).resolve().parent
ROOT = PACKAGE.parent

_SHOWN = 10  # cycles spelled out in a failure

Cycle = tuple[str, ...]  # the modules of a cycle in import order, from the least by name


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


#: Every module of the package, from its files (nothing imported to find them).
FILES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
MODULES = sorted(FILES)
PACKAGES = {_module_name(path) for path in PACKAGE.rglob("__init__.py")}


@functools.cache
def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("ingresslib", cache_dir=None)


def _packages_above(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


@functools.cache
def _imports() -> dict[str, frozenset[str]]:
    """module -> the modules importing it runs: what it imports, and their packages."""
    graph = _graph()
    edges: dict[str, frozenset[str]] = {}
    for module in sorted(graph.modules):
        imported: set[str] = set()
        for target in graph.find_modules_directly_imported_by(module):
            imported |= {target} | _packages_above(target)
        edges[module] = frozenset(imported - _packages_above(module) - {module})
    return edges


def _components(edges: dict[str, frozenset[str]]) -> list[set[str]]:
    """The strongly connected components (Tarjan), iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(edges[start])))]
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
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def _canonical(chain: list[str]) -> Cycle:
    start = chain.index(min(chain))
    return tuple(chain[start:] + chain[:start])


@functools.cache
def _cycles() -> frozenset[Cycle]:
    """For every import that lies on a cycle, the shortest cycle through it."""
    edges = _imports()
    cycles: set[Cycle] = set()
    for component in _components(edges):
        for importer in sorted(component):
            for imported in sorted(edges[importer] & component):
                # The shortest way back from `imported` to `importer`, inside the component.
                back: dict[str, str | None] = {imported: None}
                queue = deque([imported])
                while importer not in back:
                    node = queue.popleft()
                    for nxt in sorted(edges[node] & component):
                        if nxt not in back:
                            back[nxt] = node
                            queue.append(nxt)
                path: list[str] = []  # importer, back to imported
                step: str | None = importer
                while step is not None:
                    path.append(step)
                    step = back[step]
                # Reversed: imported ... importer, which imports `imported`: a cycle.
                cycles.add(_canonical(list(reversed(path))))
    return frozenset(cycles)


def _hop(importer: str, imported: str) -> str:
    """`importer -> imported` and where: `file l.N, l.M`, or the submodule that brings it."""
    graph = _graph()
    details = graph.get_import_details(importer=importer, imported=imported)
    where = FILES[importer].relative_to(ROOT)
    if details:
        lines = ", ".join(f"l.{d['line_number']}" for d in details)
        return f"{importer} -> {imported}  ({where} {lines})"
    via = sorted(
        target
        for target in graph.find_modules_directly_imported_by(importer)
        if imported in _packages_above(target)
    )
    return f"{importer} -> {imported}  (the package of {', '.join(via)}, run first)"


def readable(cycle: Cycle) -> str:
    """`a -> b -> a`, then each import with the lines that make it."""
    chain = [*cycle, cycle[0]]
    hops = [_hop(chain[i], chain[i + 1]) for i in range(len(cycle))]
    return " -> ".join(chain) + "\n" + "\n".join(f"    {hop}" for hop in hops)


# --- the graph is this checkout's, and complete --------------------------------------------


def test_the_graph_is_this_checkouts_package_with_every_module() -> None:
    spec = importlib.util.find_spec("ingresslib")
    assert spec is not None
    assert spec.origin is not None
    assert Path(spec.origin).resolve() == PACKAGE / "__init__.py"
    assert set(_graph().modules) == set(MODULES)


def _type_checking_imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of each `ingresslib` import under `if TYPE_CHECKING:` in `path`."""
    tree = ast.parse(path.read_text(), str(path))
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if not (isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)):
            continue
        for inner in ast.walk(ast.Module(body=node.body, type_ignores=[])):
            if isinstance(inner, ast.Import):
                for alias in inner.names:
                    yield inner.lineno, alias.name
            elif isinstance(inner, ast.ImportFrom):
                base = inner.module or ""
                if inner.level:
                    base = importlib.util.resolve_name("." * inner.level + base, package)
                yield inner.lineno, base


def test_imports_under_type_checking_are_in_the_graph() -> None:
    graph = _graph()
    seen = 0
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _module_name(path)
        for line, target in _type_checking_imports(path):
            if target != "ingresslib" and not target.startswith("ingresslib."):
                continue
            seen += 1
            # `from ingresslib.asgi import _http` imports the submodule, `from x import Name`
            # the module x: grimp records one or the other.
            details = [
                d
                for imported in graph.find_modules_directly_imported_by(importer)
                for d in graph.get_import_details(importer=importer, imported=imported)
                if d["line_number"] == line
            ]
            assert details, f"grimp misses {importer} line {line} (import of {target})"
    assert seen > 0  # the package has such imports: this test checks something


# --- cycles -----------------------------------------------------------------------------------


def test_no_import_cycle() -> None:
    # Shortest first: the import that closes a cycle usually shows in the first chains.
    new = sorted(_cycles(), key=lambda cycle: (len(cycle), cycle))
    shown = "\n".join(readable(cycle) for cycle in new[:_SHOWN])
    more = f"\n... and {len(new) - _SHOWN} more" if len(new) > _SHOWN else ""
    assert not new, f"{len(new)} import cycle(s) between modules of ingresslib:\n{shown}{more}"


def test_the_cycle_finder_finds_cycles() -> None:
    edges = {
        "a": frozenset({"b"}),
        "b": frozenset({"c"}),
        "c": frozenset({"a", "d"}),
        "d": frozenset(),
        "e": frozenset({"e"}),
    }
    components = sorted(sorted(c) for c in _components(edges))
    assert components == [["a", "b", "c"], ["d"], ["e"]]
    assert _canonical(["c", "a", "b"]) == ("a", "b", "c")


# --- each module alone, in a fresh interpreter ------------------------------------------------

#: Third-party imports of the optional extras (pyproject.toml), by import name.
OPTIONAL_IMPORTS = {
    "aiohttp": "aiohttp",
    "httpx": "asgi",
    "websockets": "asgi",
    "kubernetes_asyncio": "kubernetes",
    "prometheus_client": "serve",
    "re2": "re2",
    "redis": "redis",
    "uvloop": "serve",
}

#: Importing it runs the command line: its job, not an import to check.
NOT_IMPORTED = {"ingresslib.__main__"}

# Run in a fresh interpreter for the modules of one top-level subpackage: before each import,
# every ingresslib module is dropped from sys.modules, so that each is imported alone (the
# third-party modules stay loaded: they are not what is checked). One JSON line per module.
_CHILD = """
import importlib, json, sys, traceback
root = sys.argv[1]
for name in sys.argv[2:]:
    for key in [k for k in sys.modules if k == "ingresslib" or k.startswith("ingresslib.")]:
        del sys.modules[key]
    result = {"module": name, "missing": None, "error": None}
    try:
        module = importlib.import_module(name)
        if not (module.__file__ or "").startswith(root):
            result["error"] = f"imported {module.__file__}, not the checkout's module"
    except ModuleNotFoundError as error:
        result["missing"] = error.name
        result["error"] = traceback.format_exc()
    except BaseException:
        result["error"] = traceback.format_exc()
    print(json.dumps(result), flush=True)
"""


def _group(module: str) -> str:
    """The top-level subpackage of `module`, or "ingresslib" for the top-level modules."""
    top = ".".join(module.split(".")[:2])
    return top if top in PACKAGES and top != "ingresslib" else "ingresslib"


@functools.cache
def _fresh_imports(group: str) -> dict[str, dict[str, str | None]]:
    names = [m for m in MODULES if _group(m) == group and m not in NOT_IMPORTED]
    # -W error: a warning at import time fails, as it would under pytest (filterwarnings).
    completed = subprocess.run(
        [sys.executable, "-W", "error", "-c", _CHILD, str(PACKAGE), *names],
        cwd=ROOT,  # "" (the current directory) comes first on sys.path: this checkout
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    results = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    assert completed.returncode == 0, completed.stderr
    assert [r["module"] for r in results] == names, completed.stderr
    return {r["module"]: r for r in results}


@pytest.mark.parametrize("module", [m for m in MODULES if m not in NOT_IMPORTED])
def test_module_imports_alone_in_a_fresh_interpreter(module: str) -> None:
    result = _fresh_imports(_group(module))[module]
    missing = result["missing"]
    top = missing.partition(".")[0] if missing else None
    if top in OPTIONAL_IMPORTS:
        skip_or_fail_in_ci(
            f"{module} needs the {OPTIONAL_IMPORTS[top]} extra ({missing} is not installed)"
        )
    assert result["error"] is None, f"import {module} alone:\n{result['error']}"
