"""Loading the frameworks a command runs on (Prefect, pydantic, SQLAlchemy, FastAPI: some 170,000 objects that
live as long as the process) without the cyclic garbage collector walking them again and again.

While they load, collections are triggered by the sheer number of new objects and find nothing to free; every
later full collection, and the one at interpreter exit, walks them all once more. Loaded with the collector off
and then frozen (gc.freeze), they are left out of every collection: a re-run of 1,000 cached documents took 5.8 s
instead of 6.4 (medians of 7), the interpreter's exit 0.2 s instead of 1.0. Only the command-line process does
this (see ``for_this_process``): tests and other hosts that import pecrs keep their collector as it is.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_this_process = False


def for_this_process() -> None:
    """Called by the command line's entry point (pipeline.__main__): this process is pecrs's own."""
    global _this_process
    _this_process = True


@contextmanager
def long_lived_imports() -> Iterator[None]:
    if not _this_process or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()  # what is alive now (the modules loaded) moves out of the collector's generations
        gc.enable()
