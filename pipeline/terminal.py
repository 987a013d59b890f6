"""What the command line prints of values it did not write itself (stored case ids, names, reasons, paths): as text,
never as Rich markup, with control characters made visible so none reaches the terminal raw; and its one-line
errors."""

from __future__ import annotations

import re
from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text

errors = Console(stderr=True)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0 (ESC, newline, bell...), DEL and C1 (CSI...)


def visible(value: object) -> str:
    """``value`` as text, each control character written as its \\x.. escape."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", "" if value is None else str(value))


def text(value: object, style: str = "") -> Text:
    """``value`` for Rich to print as it is (a table cell, a line): no markup is read in it."""
    return Text(visible(value), style=style)


def say(console: Console, line: object) -> None:
    """Print one line made of ``line``'s text exactly (made visible), neither markup nor highlighting read in it."""
    console.print(text(line), highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """The one-line error: `error: <what>: <problem>` on stderr, then exit with ``code``."""
    errors.print(Text.assemble(("error:", "red"), " ", visible(message)), highlight=False, soft_wrap=True)
    raise typer.Exit(code)
