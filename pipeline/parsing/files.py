"""Opening a document file: a regular file only, never a device, FIFO or socket."""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a link"))


def file_kind(mode: int) -> str:
    """What a file that is not a regular one is, for a person: "a FIFO", "a character device", ..."""
    return next((name for is_kind, name in _KINDS if is_kind(mode)), "an unknown kind of file")


class NotARegularFile(OSError):
    def __init__(self, mode: int):
        super().__init__(f"not a regular file ({file_kind(mode)})")


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """The file open for reading if it is a regular file, else NotARegularFile. The kind is checked on what was
    opened, not on the path (which may change in between); opening a FIFO does not wait for a writer
    (O_NONBLOCK) and a terminal does not become the controlling one (O_NOCTTY)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFile(mode)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
