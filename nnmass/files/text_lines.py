"""A user's text file read line by line, with the checks of
:func:`nnmass.files.reading.read_text_file`: a size bound (so ``/dev/zero`` or a
huge file is refused, not read into memory), UTF-8, one line on any problem.

The lines are those of ``str.splitlines()`` on the whole text, so a caller that
streams sees exactly the lines a caller that read everything saw, while holding
one line at a time. Standard library only."""
from __future__ import annotations

import io
from typing import Iterator

from ..errors import UsageError
from .reading import cannot_read, not_utf8, too_large

CHUNK_BYTES = 1 << 16  # bytes read at once


class _BoundedRaw(io.RawIOBase):
    """A binary file that refuses to be read past ``max_bytes``."""

    def __init__(self, file, max_bytes: int, what: str, path):
        self._file, self._max, self._left = file, max_bytes, max_bytes
        self._what, self._path = what, path

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            n = self._file.readinto(buffer)
        except OSError as e:
            raise UsageError(cannot_read(self._what, self._path, e)) from None
        self._left -= n or 0
        if self._left < 0:
            raise UsageError(too_large(self._what, self._path, self._max))
        return n


class TextLines:
    """The lines of ``path``, without their line ends, as they are asked for.

    Use as a context manager; iterate once. :meth:`check_rest` reads what is left, so
    that a problem of the file as a whole (too large, not UTF-8) is told before a
    problem found in one of its lines, as when the whole file was read first.

    Raises:
        UsageError: the file cannot be read, is over ``max_bytes``, or is not UTF-8.
    """

    def __init__(self, path, what: str, max_bytes: int):
        self._not_utf8 = not_utf8(what, path)
        try:
            file = open(path, "rb", buffering=0)
        except OSError as e:
            raise UsageError(cannot_read(what, path, e)) from None
        raw = _BoundedRaw(file, max_bytes, what, path)
        self._file = file
        # newline="": lines end at \n, \r or \r\n and keep their ends; str.splitlines
        # below then splits at the rarer line ends it also knows (\x0b, \x0c, \x1c..\x1e, ...).
        self._text = io.TextIOWrapper(io.BufferedReader(raw, CHUNK_BYTES), encoding="utf-8", newline="")

    def __enter__(self) -> "TextLines":
        return self

    def __exit__(self, *exc) -> None:
        self._text.close()  # its buffer and the bounded reader; the file is closed here
        self._file.close()

    def __iter__(self) -> Iterator[str]:
        first = True
        try:
            for physical in self._text:
                if first:
                    physical, first = physical.removeprefix("\ufeff"), False  # a spreadsheet's BOM
                yield from physical.splitlines()
        except UnicodeDecodeError:
            raise UsageError(self._not_utf8) from None

    def check_rest(self) -> None:
        """Read the rest of the file for its size and encoding only."""
        try:
            while self._text.read(CHUNK_BYTES):
                pass
        except UnicodeDecodeError:
            raise UsageError(self._not_utf8) from None
