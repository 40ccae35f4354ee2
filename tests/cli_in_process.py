"""``nnmass ARGV`` run in the test's own process, with what a subprocess would give back
(a subprocess pays torch's import, seconds, on every call)."""
from __future__ import annotations

import contextlib
import io
import types

from nnmass.cli import main


def run_cli(*argv) -> types.SimpleNamespace:
    """``returncode``, ``stdout`` and ``stderr`` of ``nnmass ARGV``, as ``subprocess.run`` gives them."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return types.SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())
