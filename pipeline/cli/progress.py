"""Progress on the terminal: a run's progress lines, and a rich progress bar for fetching (one bar per stage)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pipeline.cli import terminal


class FetchProgressBar:
    """pipeline.fetch.updates.Progress drawn as rich bars (the protocol is duck-typed, so a run that does not fetch never
    loads the fetching code)."""

    def __init__(self, console: Console):
        self._bars = Progress(TextColumn("{task.description:24s}"), BarColumn(), MofNCompleteColumn(),
                              TimeElapsedColumn(), console=console, transient=False)
        self._task = None

    def __enter__(self) -> "FetchProgressBar":
        self._bars.start()
        return self

    def __exit__(self, *exc) -> None:
        self._bars.stop()

    def stage(self, name: str, total: int) -> None:
        self._task = self._bars.add_task(name, total=max(total, 0))

    def advance(self, count: int = 1) -> None:
        if self._task is not None:
            self._bars.advance(self._task, count)


_console = terminal.console()


def say_progress(message: str) -> None:
    """One progress line of a run. It lives in an importable module so that Dask ships the flow's parameters
    by reference (a function of ``__main__`` would be pickled by value, console lock and all)."""
    _console.print(f"[cyan]•[/cyan] {message}", highlight=False)
