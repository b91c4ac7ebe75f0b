"""Structure figures for issue 17: package import cycles, cross-package private imports,
longest functions and module sizes, read from the source with ``ast`` (no import is executed).

Every import counts, also those placed inside functions or under ``TYPE_CHECKING``.

Usage: ``python tools/structure_metrics.py [src/ftlab] [--verbose]``
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path


def module_name(root: Path, path: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(mod: str) -> str:
    """The layer a module belongs to: ``ftlab.X`` for ``ftlab.X...`` (``ftlab`` for itself)."""
    parts = mod.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else parts[0]


def imports(tree: ast.AST, mod: str, is_pkg: bool) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, imported names) for every import in the module."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                out.append((node.lineno, alias.name, []))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((node.lineno, target, [a.name for a in node.names]))
    return out


def private_part(target: str, names: list[str], known: set[str]) -> str | None:
    """The first private component of ``target`` (or of an imported name), else None."""
    parts = target.split(".")
    for p in parts[1:]:
        if p.startswith("_") and not p.startswith("__"):
            return target
    for n in names:
        if n.startswith("_") and not n.startswith("__"):
            return f"{target}.{n}"
    return None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Elementary cycles of a small graph (simple DFS; the package graph has ~20 nodes)."""
    found: set[tuple[str, ...]] = set()
    nodes = sorted(graph)

    def dfs(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                i = path.index(min(path))
                found.add(tuple(path[i:] + path[:i]))
            elif nxt not in path and nxt > start:
                dfs(start, nxt, path + [nxt])

    for n in nodes:
        dfs(n, n, [n])
    return [list(c) for c in sorted(found, key=lambda c: (len(c), c))]


def main(argv: list[str]) -> int:
    verbose = "--verbose" in argv
    args = [a for a in argv if not a.startswith("--")]
    root = Path(args[0] if args else "src/ftlab").resolve()
    files = sorted(root.rglob("*.py"))
    known = {module_name(root, f) for f in files}
    graph: dict[str, set[str]] = defaultdict(set)
    edge_where: dict[tuple[str, str], list[str]] = defaultdict(list)
    private: list[str] = []
    functions: list[tuple[int, str]] = []
    sizes: list[tuple[int, str]] = []
    for f in files:
        mod = module_name(root, f)
        src = f.read_text(encoding="utf-8")
        tree = ast.parse(src)
        sizes.append((len(src.splitlines()), str(f.relative_to(root.parent))))
        pkg = package_of(mod)
        for line, target, names in imports(tree, mod, f.name == "__init__.py"):
            if not target.startswith("ftlab"):
                continue
            # `from ftlab.x import y` where y is a module: the edge goes to ftlab.x.y's package
            tpkg = package_of(target)
            if target == "ftlab":
                for n in names:
                    cand = f"ftlab.{n}"
                    if cand in known and package_of(cand) != pkg:
                        graph[pkg].add(cand)
                        edge_where[(pkg, cand)].append(f"{f.relative_to(root.parent)}:{line}")
                        if n.startswith("_"):
                            private.append(f"{f.relative_to(root.parent)}:{line}: {cand}")
                continue
            if tpkg != pkg:
                graph[pkg].add(tpkg)
                edge_where[(pkg, tpkg)].append(f"{f.relative_to(root.parent)}:{line}")
                hit = private_part(target, names, known)
                if hit:
                    private.append(f"{f.relative_to(root.parent)}:{line}: {hit}")
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                functions.append((n, f"{f.relative_to(root.parent)}:{node.lineno} {node.name}"))
    cyc = cycles(graph)
    print(f"packages: {len(graph)}; package-level import cycles (elementary): {len(cyc)}")
    for c in cyc:
        print("  cycle: " + " -> ".join(c + [c[0]]))
        if verbose:
            for a, b in zip(c, c[1:] + [c[0]]):
                print(f"    {a} -> {b}: {', '.join(edge_where[(a, b)][:6])}")
    root_private = sum(1 for p in private if p.split(": ")[1].count(".") == 1)
    print(f"cross-package private imports: {len(private)} "
          f"({root_private} of them into ftlab's root private modules _atomic/_imports)")
    if verbose:
        for p in private:
            print("  " + p)
    functions.sort(reverse=True)
    print("longest functions (lines):")
    for n, where in functions[:10]:
        print(f"  {n:4d} {where}")
    print(f"functions > 100 lines: {sum(1 for n, _ in functions if n > 100)}")
    sizes.sort(reverse=True)
    print(f"modules: {len(sizes)}, total lines: {sum(n for n, _ in sizes)}, "
          f"> 400 lines: {sum(1 for n, _ in sizes if n > 400)}")
    for n, where in sizes[:10]:
        print(f"  {n:4d} {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
