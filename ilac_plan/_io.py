"""Atomic output files: write to a temporary name in the same folder, then rename.

Temporary names are ``.NAME.HEX.part[.EXT]``, created with ``O_EXCL | O_NOFOLLOW`` (never
through a planted link, never shared by two writers); :mod:`ilac_plan._outdir` removes
those a dead run left.
"""

import contextlib
import os
import secrets


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it to ``path`` if the block succeeds.

    An interrupted or failed write never leaves a partial file under the final name:
    the temporary file is removed on error.

    Parameters
    ----------
    path : str or os.PathLike
        Final file name. Its folder must exist and be writable.
    """
    path = os.fspath(path)
    tmp, fd = _create_temporary(path)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def _create_temporary(path):
    """A new temporary file beside ``path``: its name and an open write descriptor."""
    folder = os.path.dirname(os.path.abspath(path))
    stem, suffix = os.path.splitext(os.path.basename(path))
    tmp = os.path.join(folder, f".{stem}.{secrets.token_hex(6)}.part{suffix}")
    try:
        # Mode 0o666 filtered by the umask, like any new file (mkstemp would give 0o600).
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o666)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write {path}: {exc.strerror}", path) from None
    return tmp, fd


def write_bytes(path, data):
    """Write ``data`` to ``path`` atomically, through the descriptor that created the
    temporary file (nothing can swap a link in between)."""
    path = os.fspath(path)
    tmp, fd = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def write_csv(frame, path):
    """Write a DataFrame as CSV atomically (``path`` of ``"-"`` writes to stdout)."""
    if path in ("-", None):
        import sys

        frame.to_csv(sys.stdout, index=False)
        return
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
