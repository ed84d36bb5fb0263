"""The package's imports form no cycle, between files or between top-level folders.

Every module of the package is parsed with `ast` (so imports inside functions count too: a cycle
hidden by a function-level import is still a cycle of the design). Relative imports are resolved,
and the `optdsl.solvers` / `optdsl.grammar` folders are mapped through pyproject's `package-dir`.
Modules added later are covered without editing this file.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    tomllib = None

ROOT = Path(__file__).resolve().parent.parent


def _package_dirs() -> dict[str, Path]:
    """Package name prefix -> folder, from pyproject's [tool.setuptools] package-dir."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    if tomllib is not None:
        mapping = tomllib.loads(text)["tool"]["setuptools"].get("package-dir", {})
    else:  # the one line `package-dir = { ... }` is simple enough to read by hand on 3.10
        line = next(ln for ln in text.splitlines() if ln.startswith("package-dir"))
        body = line.split("{", 1)[1].rsplit("}", 1)[0]
        mapping = {}
        for pair in body.split(","):
            key, value = (s.strip().strip('"') for s in pair.split("="))
            mapping[key] = value
    dirs = {"optdsl": ROOT / "optdsl"}
    for name, folder in mapping.items():
        if name:
            dirs[name] = ROOT / folder
    return dirs


def _modules() -> dict[str, Path]:
    """Every module of the package: dotted name -> file."""
    found: dict[str, Path] = {}
    for prefix, folder in _package_dirs().items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([prefix, *parts])] = path
    return found


def _resolve(target: str, modules: dict[str, Path]) -> str | None:
    """The package module a dotted import name lands in (longest existing prefix)."""
    parts = target.split(".")
    while parts:
        name = ".".join(parts)
        if name in modules:
            return name
        parts.pop()
    return None


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Package modules that `name` imports anywhere in its file (module or function level)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from pkg import sub` may name a submodule; otherwise the name is an attribute of pkg
            targets = [f"{stem}.{alias.name}" for alias in node.names] or [stem]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            targets = [node.args[0].value]
        for target in targets:
            hit = _resolve(target, modules)
            if hit is not None and hit != name:
                out.add(hit)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _folder(module: str) -> str:
    """The top-level folder a module belongs to: optdsl.parse.x -> parse, optdsl.solvers.highs.x ->
    solvers.highs; modules directly in optdsl/ are their own unit (optdsl.cli -> cli)."""
    parts = module.split(".")[1:]
    if not parts:
        return "optdsl"
    if parts[0] == "solvers" and len(parts) >= 2:
        return ".".join(parts[:2])
    return parts[0]


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph (as a closed path), or None; iterative DFS."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    for start in sorted(graph):
        if colour[start] != white:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        colour[start] = grey
        while stack:
            node, children = stack[-1]
            for child in children:
                if colour.get(child, black) == grey:
                    return path[path.index(child) :] + [child]
                if colour.get(child) == white:
                    colour[child] = grey
                    path.append(child)
                    stack.append((child, iter(sorted(graph[child]))))
                    break
            else:
                colour[node] = black
                stack.pop()
                path.pop()
    return None


def test_the_scan_sees_the_whole_package() -> None:
    graph = _graph()
    assert "optdsl.cli" in graph and "optdsl.solvers.highs.backend" in graph
    # function-level imports are seen: the CLI loads its backends lazily
    assert sum(len(deps) for deps in graph.values()) > len(graph), "the scan found almost no imports"


def test_no_cycle_between_files() -> None:
    cycle = _find_cycle(_graph())
    assert cycle is None, "import cycle between files: " + " -> ".join(cycle)


def test_no_cycle_between_folders() -> None:
    graph = _graph()
    folders: dict[str, set[str]] = {}
    for name, deps in graph.items():
        here = _folder(name)
        folders.setdefault(here, set())
        for dep in deps:
            there = _folder(dep)
            if there != here:
                folders[here].add(there)
    # Files directly in optdsl/ (errors.py, results.py, cli.py, ...) are single-file units; the
    # package __init__ ("optdsl") only re-exports lazily and is left out of the folder graph.
    folders.pop("optdsl", None)
    for deps in folders.values():
        deps.discard("optdsl")
    cycle = _find_cycle(folders)
    assert cycle is None, "import cycle between folders: " + " -> ".join(cycle)


def test_cycle_finder_reports_the_cycle() -> None:
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None
