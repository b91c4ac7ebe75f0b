"""Set-up hygiene: installing packages is the README set-up's job, never a test's."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
_RUNNERS = {"run", "Popen", "call", "check_call", "check_output", "system"}
_INSTALLERS = ("apt-get", "apt", "dpkg", "pip", "pip3", "conda", "uv")


def _words(node: ast.AST) -> list[str]:
    return [w for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            for w in n.value.split()]


def _is_install(words: list[str]) -> bool:
    return any(w.rsplit("/", 1)[-1] in _INSTALLERS for w in words) and "install" in words


def installing_calls(source: str) -> list[int]:
    """Lines in ``source`` that would install packages: a subprocess/os.system call whose
    command names an installer and ``install``, or such a command built as a list first."""
    out = set()
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in _RUNNERS and _is_install(_words(node))):
            out.add(node.lineno)
        elif isinstance(node, ast.List | ast.Tuple) and _is_install(_words(node)):
            out.add(node.lineno)
    return sorted(out)


def test_the_detector_finds_installs():
    planted = ("import subprocess, os\n"
               "subprocess.run(['apt-get', 'install', '-y', 'postgresql'])\n"
               "subprocess.check_call([sys.executable, '-m', 'pip', 'install', 'x'])\n"
               "os.system('pip install x')\n"
               "cmd = ['apt-get', 'install', '-y', 'postgresql']\n"  # run later as subprocess.run(cmd)
               "subprocess.run(['apt-get', 'update'])\n"  # no install: fine
               "msg = 'apt-get install wordnet-base'\n")  # a message naming the fix: fine
    assert installing_calls(planted) == [2, 3, 4, 5]


def test_no_test_installs_packages():
    found = {str(p.relative_to(TESTS)): lines for p in sorted(TESTS.rglob("*.py"))
             if p.name != Path(__file__).name
             and (lines := installing_calls(p.read_text(encoding="utf-8")))}
    assert found == {}, f"tests that install packages (move it to scripts/system-deps.sh): {found}"
