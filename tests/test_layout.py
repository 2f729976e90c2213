"""The folder tree reads like the layers: no import circles among the product's modules, no product module importing
the tests, the simulators reached only through the composition root, and `sync/`'s root holding only its entry
points (the command line is the package `sync/cli`, which nothing but `python -m sync` imports). Read from the
source with `ast`, so every import counts: top level, inside functions, and under `TYPE_CHECKING`."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Collection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("sync", "console")
SYNC_ROOT_MODULES = {"__init__.py", "__main__.py", "wiring.py"}
# The entry points that are packages: the command line (`python -m sync`), one module per command group.
ENTRY_PACKAGES = {"sync.cli": {"sync.__main__"}}  # each with the only modules outside it that may import it
# Outside sync/sandbox itself, only the composition root imports the simulators, and the CLI's reset-sandbox
# (which reseeds them). The console server mounts them through `sync.wiring.sandbox_asgi_app`.
SANDBOX_IMPORTERS = {"sync.wiring", "sync.cli.admin"}
# The use cases take what they need from the wiring through `sync.jobs.services` (Protocols), never the wiring.
WIRING_IMPORTERS_IN_JOBS: set[str] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_modules() -> dict[str, Path]:
    return {module_name(p): p for top in PRODUCT for p in sorted((ROOT / top).rglob("*.py"))}


def imported_names(path: Path, name: str, modules: Collection[str] = ()) -> set[str]:
    """Every module name `path` imports, wherever the import statement stands. `from pkg import name` counts as
    importing `pkg.name` when that is one of `modules`, else `pkg` (Python runs a package's `__init__` before any
    module below it, but counting that would make every package that re-exports its modules a circle)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = product_modules()
    return {name: {m for m in imported_names(path, name, modules) if m in modules and m != name}
            for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
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
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_product_modules_import_each_other_without_a_circle() -> None:
    assert circles(import_graph()) == []


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_product_module_imports_the_tests() -> None:
    offenders = {name: sorted(m for m in imported_names(path, name) if m == "tests" or m.startswith("tests."))
                 for name, path in product_modules().items()}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_only_the_composition_root_reaches_the_simulators() -> None:
    offenders = {}
    for name, path in product_modules().items():
        if name.startswith("sync.sandbox") or name in SANDBOX_IMPORTERS:
            continue
        found = sorted(m for m in imported_names(path, name) if m == "sync.sandbox" or m.startswith("sync.sandbox."))
        if found:
            offenders[name] = found
    assert offenders == {}


def test_the_sync_root_holds_only_its_entry_points() -> None:
    assert {p.name for p in (ROOT / "sync").glob("*.py")} == SYNC_ROOT_MODULES
    for package in ENTRY_PACKAGES:
        assert (ROOT / package.replace(".", "/") / "__init__.py").is_file(), package


def test_nothing_depends_on_an_entry_point() -> None:
    """The command line is a way in, not a library: no engine or console module imports it."""
    found = {}
    for package, allowed in ENTRY_PACKAGES.items():
        for name, path in product_modules().items():
            if name == package or name.startswith(f"{package}.") or name in allowed:
                continue
            if any(m == package or m.startswith(f"{package}.") for m in imported_names(path, name)):
                found[name] = package
    assert found == {}


def test_the_import_reader_sees_function_level_and_type_checking_imports(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sync.core import fmt\n"
                      "def f():\n    import sync.jobs.linking\n    from . import sibling\n", encoding="utf-8")
    found = imported_names(source, "sync.store.mod", {"sync.core.fmt", "sync.store.sibling"})
    assert {"sync.core.fmt", "sync.jobs.linking", "sync.store.sibling"} <= found


def test_the_engine_never_reaches_up_into_the_console() -> None:
    offenders = {name: sorted(m for m in imported_names(path, name)
                              if m.split(".")[0] in ("console", "streamlit"))
                 for name, path in product_modules().items() if name.startswith("sync")}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_use_cases_do_not_depend_on_the_wiring() -> None:
    offenders = sorted(name for name, path in product_modules().items()
                       if name.startswith("sync.jobs") and name not in WIRING_IMPORTERS_IN_JOBS
                       and "sync.wiring" in imported_names(path, name))
    assert offenders == []


def test_the_foundations_import_only_foundations() -> None:
    allowed = ("sync.core",)  # the tiers the settings check live with the pacing, not with the SnelStart client
    modules = product_modules()
    offenders = {name: sorted(m for m in imported_names(path, name, modules)
                              if m.startswith("sync") and not m.startswith(allowed))
                 for name, path in modules.items() if name.startswith("sync.core")}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_use_cases_hold_no_sql() -> None:
    """The store's modules own every statement: a use case calls them, never `execute`/`one`/`rows`/`scalar`."""
    offenders = []
    for name, path in product_modules().items():
        if not name.startswith("sync.jobs"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                    "execute", "executemany", "one", "rows", "one_of", "rows_of", "scalar", "cursor"):
                owner = node.func.value
                owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
                if owner_name in ("store", "_store", "cursor", "cur", "connection"):
                    offenders.append(f"{name}:{node.lineno}")
    assert offenders == []


def test_the_store_decides_nothing_about_who_may() -> None:
    """Roles are the use cases' business: no store module imports sync.auth."""
    offenders = {name: sorted(m for m in imported_names(path, name) if m.startswith("sync.auth"))
                 for name, path in product_modules().items() if name.startswith("sync.store")}
    assert {name: found for name, found in offenders.items() if found} == {}


# `# type: ignore[code]  # why`: the code the checker would report, and why it is wrong here, on the same line.
_IGNORE = re.compile(r"type:\s*ignore\b")
_IGNORE_WITH_REASON = re.compile(r"type:\s*ignore\[[a-z-]+(?:\s*,\s*[a-z-]+)*\]\s+#\s*\S")


def ignores_without_reason(source: str) -> list[int]:
    """The lines whose comment silences the type checker without naming the error and saying why."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and _IGNORE.search(token.string) \
                and not _IGNORE_WITH_REASON.search(token.string):
            found.append(token.start[0])
    return found


def test_every_type_ignore_says_why() -> None:
    """What mypy checks (`[tool.mypy]` in pyproject.toml: the product) silences it only with the error's code and a
    reason on the same line; mypy itself reports an ignore that silences nothing (`warn_unused_ignores`)."""
    offenders = [f"{name}:{line}" for name, path in product_modules().items()
                 for line in ignores_without_reason(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_ignore_reader_wants_a_code_and_a_reason() -> None:
    source = (
        "a = 1  # type: ignore\n"
        "b = 2  # type: ignore[attr-defined]\n"
        "c = 3  # type: ignore[attr-defined]  # Streamlit's widget has no stub\n"
        "d = 4  # type: ignore[arg-type, union-attr]  # the sandbox's world is untyped JSON\n"
        "e = 5  # type:ignore  # a reason without the code\n"
        "f = '# type: ignore'  # in a string: not a comment\n"
    )
    assert ignores_without_reason(source) == [1, 2, 5]
