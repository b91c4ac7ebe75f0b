"""Split ``src/ftlab/cli.py`` into the ``src/ftlab/cli/`` package, one module per command group.

Mechanical and repeatable: every function moves verbatim (its ``@app.command`` decorator
becomes a line of the command table in ``cli/__init__.py``, in the original order, so
``ftlab --help`` lists the commands as before). Run it again on a ``cli.py`` that other
branches changed (after merging them into the single file) to regenerate the package:

    python tools/split_cli.py && ruff check --select F401,I001 --fix src/ftlab/cli && ruff check src/ftlab/cli

Statements between functions (constants) move with the function that follows them; the names
assigned above ``_print``'s helpers are importable by every command module (ruff's F821 names
any other constant a command module then lacks: move it in GROUPS' order or into ``_print``).

Usage: ``python tools/split_cli.py [path/to/cli.py]`` (the file is replaced by the package).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

# module -> (docstring, top-level functions); the order of modules is the order of imports
GROUPS: dict[str, tuple[str, list[str]]] = {
    "_data": ("``ftlab data ...``: inspect data sources.", ["data_list", "data_inspect"]),
    "_run": ("``ftlab train``, ``quickstart``, ``baseline``, ``validate-config``: making runs.",
             ["train", "quickstart", "baseline", "validate_config"]),
    "_evaluate": ("``ftlab evaluate``, ``calibrate``, ``predict``, ``report``, ``export``: using "
                  "a trained run.", ["evaluate", "calibrate", "predict", "report", "export"]),
    "_robustness": ("``ftlab transform``, ``check``: transformed inputs and behavioral suites.",
                    ["transform", "check", "_case_text", "_print_check"]),
    "_analysis": ("``ftlab compare``, ``ensemble``, ``seeds``, ``runs``: comparing runs.",
                  ["compare", "_print_groups", "ensemble", "seeds", "runs"]),
    "_tune": ("``ftlab tune``: hyperparameter search.", ["tune"]),
    "_toolbelt": ("``ftlab find-batch-size``, ``find-lr``, ``check-setup``, ``gradcheck``: tools "
                  "to set up a run.", ["find_batch_size_cmd", "find_lr_cmd", "_write_values",
                                       "check_setup_cmd", "gradcheck_cmd"]),
    "_scratch": ("``ftlab scratch``: the from-scratch teaching implementations.", ["scratch"]),
    "_print": ("Printing helpers shared by several commands.",
               ["_fmt", "_print_summary", "_print_evaluation"]),
}
APP_FUNCS = ["main", "_main", "_exit_now"]  # stay with the app in _app.py
SHARED = ["app", "data_app", "console", "err_console", "SetOpt"]  # module-level names in _app.py


def _command_decorator(node: ast.FunctionDef) -> tuple[str, str] | None:
    """('app' | 'data_app', 'app.command("name")') for a command function, else None."""
    for dec in node.decorator_list:
        if (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute)
                and dec.func.attr == "command" and isinstance(dec.func.value, ast.Name)):
            return dec.func.value.id, ast.unparse(dec)
    return None


def split(cli_py: Path) -> None:
    text = cli_py.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    tree = ast.parse(text)
    header_end = 0  # the import block and module docstring end before the first assignment
    funcs: dict[str, tuple[str, tuple[str, str] | None]] = {}
    shared_src: list[tuple[int, int]] = []  # line ranges of app, consoles, option types
    order: list[str] = []
    pending = ""  # statements between functions (constants): they go with the next function
    pending_names: list[str] = []
    stmt_names: dict[str, list[str]] = {}  # function -> names assigned just above it
    for node in tree.body:
        start = (node.decorator_list[0].lineno if getattr(node, "decorator_list", None)
                 else node.lineno) - 1
        end = node.end_lineno or node.lineno
        if isinstance(node, ast.Import | ast.ImportFrom) or (
                isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            header_end = end
            continue
        while start > 0 and lines[start - 1].startswith("#"):  # comments above stay with it
            start -= 1
        if isinstance(node, ast.FunctionDef):
            command = _command_decorator(node)
            if command:  # the decorator becomes a line of the command table
                comments = "".join(ln for ln in lines[start:node.lineno - 1] if ln.startswith("#"))
                src = comments + "".join(lines[node.lineno - 1:end])
            else:
                src = "".join(lines[start:end])
            funcs[node.name] = (pending + src, command)
            stmt_names[node.name] = pending_names
            pending, pending_names = "", []
            order.append(node.name)
        elif isinstance(node, ast.If):  # if __name__ == "__main__": main()
            continue
        elif not order:  # before the first function: the app, consoles and option types
            shared_src.append((start, end))
        else:
            pending += "".join(lines[start:end]) + "\n\n"
            pending_names += [t.id for t in ast.walk(node) if isinstance(t, ast.Name)
                              and isinstance(t.ctx, ast.Store)]
    imports = "".join(lines[:header_end]).split('"""', 2)[2].lstrip("\n")
    first, last = shared_src[0][0], shared_src[-1][1]
    shared_block = "".join(lines[first:last])
    grouped = {f for _, fs in GROUPS.values() for f in fs} | set(APP_FUNCS)
    missing = [f for f in order if f not in grouped]
    if missing:
        raise SystemExit(f"split_cli: no module for {missing}; add them to GROUPS")
    pkg = cli_py.with_suffix("")
    pkg.mkdir(exist_ok=True)
    shared_import = "from ftlab.cli._app import " + ", ".join(SHARED) + "\n"
    helpers = GROUPS["_print"][1] + [
        n for f in GROUPS["_print"][1] for n in stmt_names.get(f, [])]
    for mod, (doc, names) in GROUPS.items():
        body = "\n\n".join(funcs[n][0].rstrip() + "\n" for n in names if n in funcs)
        extra = "" if mod == "_print" else (
            "from ftlab.cli._print import " + ", ".join(helpers) + "\n")
        out = f'"""{doc}"""\n\n{imports}{shared_import}{extra}\n\n{body}'
        (pkg / f"{mod}.py").write_text(out, encoding="utf-8")
    app_body = "\n\n".join(funcs[n][0].rstrip() + "\n" for n in APP_FUNCS)
    (pkg / "_app.py").write_text(
        '"""The Typer app, the consoles and the entry point: user errors print one clear message and\n'
        'exit 2, never a traceback."""\n\n' + imports + "\n" + shared_block
        + "\n\n" + app_body, encoding="utf-8")
    table = []
    for name in order:
        command = funcs[name][1]
        if command is not None:
            table.append(f"{command[1]}({name})")
    mod_of = {f: m for m, (_, fs) in GROUPS.items() for f in fs}
    commands = [n for n in order if funcs[n][1] is not None]
    imports_init = "".join(
        f"from ftlab.cli.{m} import {', '.join(n for n in commands if mod_of.get(n) == m)}\n"
        for m in GROUPS if any(mod_of.get(n) == m for n in commands))
    (pkg / "__init__.py").write_text(
        '"""The ``ftlab`` command line: thin command modules (parse arguments, call the library,\n'
        'print), one per command group; the table below registers them in ``ftlab --help`` order.\n\n'
        "``ftlab = ftlab.cli:main`` is the console script; ``python -m ftlab`` runs the same.\n"
        '"""\n\nfrom ftlab.cli._app import app, console, data_app, err_console, main\n'
        + imports_init + "\n" + "\n".join(table) + "\n\n"
        '__all__ = ["app", "console", "data_app", "err_console", "main"]\n', encoding="utf-8")
    cli_py.unlink()


if __name__ == "__main__":
    split(Path(sys.argv[1] if len(sys.argv) > 1 else "src/ftlab/cli.py"))
