"""Small enough to read: no module in bot/ (the sandbox aside) over MAX_MODULE_LINES lines, no function
over MAX_FUNCTION_LINES (from its `def` to its last line, nested functions counted in their parent too)."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"
SANDBOX = BOT / "sandbox"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def _modules() -> list[Path]:
    return sorted(p for p in BOT.rglob("*.py") if SANDBOX not in p.parents)


def test_the_walk_finds_the_app():
    names = {p.relative_to(BOT).as_posix() for p in _modules()}
    assert {"app.py", "jobs/worker.py", "services/wins.py", "slack/errors.py"} <= names
    assert not any(n.startswith("sandbox/") for n in names)


def test_no_module_is_over_the_limit():
    long = {p.relative_to(BOT).as_posix(): n for p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}, f"modules over {MAX_MODULE_LINES} lines: split them by what they hold"


def test_no_function_is_over_the_limit():
    long = {}
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(BOT).as_posix()}:{node.lineno} {node.name}"] = n
    assert long == {}, f"functions over {MAX_FUNCTION_LINES} lines"
