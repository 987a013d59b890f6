"""What the command line prints: consoles with a terminal's width on a terminal and whole lines when piped or
redirected; values it did not write itself (stored case ids, names, reasons, paths) as text, never as Rich markup,
with control characters made visible so none reaches the terminal raw; and its one-line errors."""

from __future__ import annotations

import re
import sys
from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text

# rich wraps at 80 columns where it finds no terminal: a path or a table piped to a file or a grep came out cut
PIPED_WIDTH = 10_000

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0 (ESC, newline, bell...), DEL and C1 (CSI...)


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    if stream is not None and stream.isatty():
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=PIPED_WIDTH, soft_wrap=True)


errors = console(stderr=True)


def visible(value: object) -> str:
    """``value`` as text, each control character written as its \\x.. escape."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", "" if value is None else str(value))


def text(value: object, style: str = "") -> Text:
    """``value`` for Rich to print as it is (a table cell, a line): no markup is read in it."""
    return Text(visible(value), style=style)


def say(out: Console, line: object) -> None:
    """Print one line made of ``line``'s text exactly (made visible), neither markup nor highlighting read in it."""
    out.print(text(line), highlight=False, soft_wrap=True)


def say_error(message: object) -> None:
    """`error: <what>: <problem>` on stderr, one line."""
    errors.print(Text.assemble(("error:", "red"), " ", visible(message)), highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """The one-line error, then exit with ``code``."""
    say_error(message)
    raise typer.Exit(code)
