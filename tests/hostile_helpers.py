"""What every hostile-input test asserts: the exit code, no traceback, one short line
on stderr naming the problem, and (where data could be lost) files unchanged."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

from nnmass.cli import main

MAX_LINE = 400  # characters: a message names the problem, the valid range and a file path or two
# The folders of pytest's temporary paths, which are longer under pytest-xdist: a
# message's length is measured with each such path cut to its file name.
_TEST_FOLDERS = re.compile(re.escape(tempfile.gettempdir()) + r"/pytest-of-[^/]+/[^'\"\s]*/")


def refused(capsys, argv, needle: str, code: int = 2) -> str:
    """Run ``nnmass argv`` in this process and check it fails with one short line."""
    rc = main([str(a) for a in argv])
    out = capsys.readouterr()
    assert rc == code, out.err
    assert "Traceback" not in out.err
    lines = out.err.splitlines()
    assert len(lines) == 1, out.err
    assert lines[0].startswith("nnmass: error: "), lines[0]
    assert len(_TEST_FOLDERS.sub("", lines[0])) <= MAX_LINE, len(lines[0])
    assert needle in lines[0], lines[0]
    return lines[0]


def noted(capsys, argv, needle: str) -> str:
    """Run ``nnmass argv``: it succeeds, with exactly one note on stderr; returns stdout."""
    rc = main([str(a) for a in argv])
    out = capsys.readouterr()
    assert rc == 0, out.err
    lines = out.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nnmass: note: "), out.err
    assert needle in lines[0] and len(_TEST_FOLDERS.sub("", lines[0])) <= MAX_LINE, lines[0]
    return out.out


def snapshot(*paths) -> dict:
    """Each path's bytes (None where there is no file), to compare before and after."""
    return {str(p): Path(p).read_bytes() if Path(p).is_file() else None for p in paths}
