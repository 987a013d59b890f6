"""The command line's rich consoles: a terminal's width on a terminal, whole lines when piped or redirected."""

from __future__ import annotations

import sys

from rich.console import Console

# rich wraps at 80 columns where it finds no terminal: a path or a table piped to a file or a grep came out cut
PIPED_WIDTH = 10_000


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    if stream is not None and stream.isatty():
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=PIPED_WIDTH, soft_wrap=True)
