"""Writing output files (exports, specs, figures) without harming what is there.

Each output is checked before any work (a folder, a missing folder, a special file,
the results store itself, an unwritable folder: one line each), then written to a
temporary file beside its target and renamed over it in one step. A write that
fails or is interrupted leaves the target exactly as it was, and a device node
or other special file is never opened, let alone deleted. Standard library only.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Iterable

from ..errors import UsageError

FIGURE_SUFFIXES = ("png", "pdf", "svg", "jpg", "jpeg")


def check_output(path, flag: str, protect: Iterable = (), suffixes: Iterable[str] = (),
                 guarding: str = "the results store") -> Path:
    """The file ``path`` names (symlinks followed), if nnmass may write it.

    Args:
        flag: the option that named it, for messages (``--csv``).
        protect: files that must never be written (a store and its ``-wal``/``-shm``).
        suffixes: allowed file types (``png``...); empty allows any.
        guarding: what ``protect`` holds, for the message.

    Raises:
        UsageError: one line naming what is wrong with ``path``.
    """
    where = repr(str(path))
    if not str(path).strip():
        raise UsageError(f"{flag} needs a file name, got {where}")
    target = Path(os.path.realpath(path))  # write through a symlink to its file, not over the link
    if target.is_dir():
        raise UsageError(f"cannot write {flag} {where}: it is a folder; give a file name")
    if (os.path.exists(path) or target.exists()) and not (os.path.isfile(path) and target.is_file()):
        raise UsageError(f"cannot write {flag} {where}: not a regular file (a device, pipe or socket)")
    if not target.parent.is_dir():
        raise UsageError(f"cannot write {flag} {where}: folder {str(target.parent)!r} does not exist")
    for other in protect:
        if same_file(target, Path(other)):
            raise UsageError(f"cannot write {flag} {where}: it is {guarding} {str(other)!r} or one of its "
                             "files, which writing would destroy; give another file name")
    if suffixes and target.suffix.lower().lstrip(".") not in tuple(suffixes):
        raise UsageError(f"{flag} {where}: use a {', '.join('.' + s for s in suffixes)} file name")
    if target.exists() and not os.access(target, os.W_OK):
        raise UsageError(f"cannot write {flag} {where}: the file is read-only")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {flag} {where}: folder {str(target.parent)!r} is not writable")
    return target


def check_output_folder(path, flag: str = "--out", parents: bool = False) -> Path:
    """The folder ``path`` names, if nnmass may write into it: an existing folder, or a
    new one inside an existing, writable folder. With ``parents`` the missing folders
    above it may be made too (a study's default folder); without, a mistyped parent is
    refused rather than created.

    Raises:
        UsageError: one line naming what is wrong with ``path``.
    """
    where = repr(str(path))
    if not str(path).strip():
        raise UsageError(f"{flag} needs a folder name, got {where}")
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_dir():
        raise UsageError(f"cannot write {flag} {where}: it is a file; give a folder path")
    if parents or target.exists():
        return target
    if not target.parent.is_dir():
        raise UsageError(f"cannot write {flag} {where}: folder {str(target.parent)!r} does not exist")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {flag} {where}: folder {str(target.parent)!r} is not writable")
    return target


def write_atomically(path, flag: str, write: Callable[[str], object], protect: Iterable = (),
                     suffixes: Iterable[str] = ()) -> Path:
    """Check ``path`` (:func:`check_output`), call ``write(temp_path)`` to fill a temporary
    file beside it, then rename that over ``path``. Returns the written file.

    On any failure the temporary file is removed and the target is left untouched;
    an ``OSError`` (disk full, no permission) becomes a one-line :class:`UsageError`.
    """
    target = check_output(path, flag, protect, suffixes)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part" + target.suffix)
        os.close(fd)
        write(tmp)
        _fsync(tmp)
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
        tmp = None
    except OSError as e:
        raise UsageError(f"cannot write {flag} {str(path)!r}: {e.strerror or e}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    _fsync_dir(target.parent)
    return target


def write_text_atomically(path, flag: str, text: str) -> Path:
    return write_atomically(path, flag, lambda tmp: Path(tmp).write_text(text))


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (symlinks followed, hard links too)."""
    if str(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links to the same file
    except OSError:
        return False


def _mode_for(target: Path) -> int:
    """An existing target's permissions; else what ``open`` would give (0666 less the umask)."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _fsync(path: str) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable; some file systems cannot, which loses nothing."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
