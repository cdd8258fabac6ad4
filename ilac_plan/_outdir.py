"""The output folder of a run: one run at a time, replaced as a whole, never half-written.

:func:`output_folder` is the only way a run writes into ``OUT``:

1. *Before anything is created*: ``OUT`` must be a folder (or not exist), and no name the
   run will write may be a link.
2. *Lock*: ``OUT/.ilac-lock`` held with ``flock`` for the whole run; a second run on the
   same folder is refused with a message naming the process that holds it. The lock dies
   with its process, so a killed run never leaves a stale lock.
3. *Clean-up*: with the lock held, no other run is alive in ``OUT``, so whatever a dead
   run left is removed: staging folders (``.ilac-partial-*``), temporary files
   (``.*.part*``, also in the checkpoint folder), and a swap that was killed half-way is
   rolled back (its journal says how).
4. *Staging*: the run writes every file into a fresh ``mkdtemp`` folder inside ``OUT``.
5. *Swap* (:meth:`OutputFolder.commit`): the previous files are moved aside into a backup
   folder with a journal, the new ones moved in, then the backup is deleted. When a rename
   fails the previous set is put back; SIGINT and SIGTERM are held off during the swap, and
   a swap cut short by SIGKILL is rolled back by the next run (step 3).

A failure while writing is reported as :class:`~ilac_plan.errors.OutputError` (one line,
with the free space when the disk is full); the folder is then as it was before the run,
and the folders the run created are removed while they are empty (checkpoints to resume
from keep them).
"""

import contextlib
import errno
import json
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
from pathlib import Path

from .engine import CHECKPOINT_DIR
from .errors import OutputError, ParameterError

LOCK_NAME = ".ilac-lock"
STAGE_PREFIX = ".ilac-partial-"
BACKUP_PREFIX = ".ilac-old-"
JOURNAL = "journal.json"
COMMITTED = "committed"

_held: dict[str, list] = {}      # resolved folder -> [fd, count, thread]: re-entrant in its own thread only
_held_guard = threading.Lock()


_TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{8,12}\.part(\.[A-Za-z0-9]{1,8})?$")


def _is_temporary(name):
    """Names of the temporary files written by :mod:`ilac_plan._io`
    (``.NAME.HEX.part[.EXT]``; never a user's)."""
    return bool(_TEMPORARY.match(name))


def _describe(exc):
    return exc.strerror or str(exc)


#: A write that fails with less free space than this is reported as a full disk (GDAL's
#: errors do not carry ENOSPC: "Write failed", "Write error at scanline 8").
FULL_DISK_FREE_BYTES = 4 * 2**20


def disk_full(exc, folder=None):
    """True when ``exc`` (or an exception it was raised from) says the disk is full, or
    when ``folder``'s file system has almost no space left."""
    if folder is not None:
        try:
            if shutil.disk_usage(folder).free < FULL_DISK_FREE_BYTES:
                return True
        except OSError:
            pass
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(exc).lower()
        if "no space left" in text or "disk full" in text or "quota exceeded" in text:
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _free_text(folder):
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return ""
    return f" ({free / 2**20:.1f} MiB free)"


def _missing_ancestor(path):
    """The outermost folder of ``path`` that does not exist yet (None if it exists)."""
    top = None
    p = path
    while not p.exists() and not p.is_symlink():
        top = p
        if p.parent == p:
            break
        p = p.parent
    return top


class FolderLock:
    """An exclusive ``flock`` on ``folder/.ilac-lock`` (re-entrant within a process)."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.key = str(self.folder.resolve())

    def acquire(self):
        import fcntl

        self.fresh = False
        with _held_guard:
            entry = _held.get(self.key)
            if entry is not None:
                if entry[2] != threading.get_ident():
                    raise ParameterError(
                        f"--out {str(self.folder)!r} is in use by another run in this "
                        "process; wait for it to finish or choose another folder")
                entry[1] += 1
                return self
        path = self.folder / LOCK_NAME
        for _ in range(20):
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise ParameterError(f"--out: {str(path)!r} is a link; remove it") from None
                raise ParameterError(f"cannot write to output folder {str(self.folder)!r}: "
                                     f"{_describe(exc)}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _read_holder(fd)
                os.close(fd)
                raise ParameterError(
                    f"--out {str(self.folder)!r} is in use by another ilac-plan run "
                    f"({holder}); wait for it to finish or choose another --out") from None
            try:        # the file may have been removed by the holder we waited on
                same = os.fstat(fd).st_ino == os.stat(path, follow_symlinks=False).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        else:
            raise OutputError(f"cannot lock output folder {str(self.folder)!r}")
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(path)
            os.close(fd)
            raise
        with _held_guard:
            _held[self.key] = [fd, 1, threading.get_ident()]
        self.fresh = True
        return self

    def release(self):
        with _held_guard:
            entry = _held.get(self.key)
            if entry is None:
                return
            entry[1] -= 1
            if entry[1] > 0:
                return
            del _held[self.key]
        with contextlib.suppress(OSError):
            os.remove(self.folder / LOCK_NAME)        # still locked: no one else has it
        os.close(entry[0])

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def _read_holder(fd):
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        pid, _, host = os.read(fd, 200).decode("utf-8", "replace").strip().partition(" ")
    except OSError:
        return "another process"
    if not pid.isdigit():
        return "another process"
    return f"PID {pid}" + (f" on {host}" if host and host != socket.gethostname() else "")


def _rollback(backup, out):
    """Undo a swap recorded in ``backup``'s journal: the previous files go back."""
    try:
        doc = json.loads((backup / JOURNAL).read_text(encoding="utf-8"))
        names, fresh = list(doc["names"]), set(doc["fresh"])
    except (OSError, ValueError, KeyError, TypeError):
        # no readable journal: put back what was moved aside and is missing now
        for entry in os.scandir(backup):
            if entry.name not in (JOURNAL, COMMITTED) and not (out / entry.name).exists():
                os.replace(entry.path, out / entry.name)
        return
    for name in names:
        if not isinstance(name, str) or "/" in name or name.startswith("."):
            continue
        if (backup / name).exists():
            os.replace(backup / name, out / name)
        elif name in fresh:
            with contextlib.suppress(FileNotFoundError):
                os.remove(out / name)


def clean_stale(out):
    """Remove what dead runs left in ``out`` (call with the folder's lock held)."""
    removed = 0
    try:
        entries = list(os.scandir(out))
    except OSError:
        return 0
    for entry in entries:
        name = entry.name
        try:
            if name.startswith(BACKUP_PREFIX) and entry.is_dir(follow_symlinks=False):
                if not (Path(entry.path) / COMMITTED).exists():
                    _rollback(Path(entry.path), Path(out))
                _remove_backup(Path(entry.path))
                removed += 1
            elif name.startswith((STAGE_PREFIX, ".ilac-tif-")) \
                    and entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
                removed += 1
            elif _is_temporary(name) and not entry.is_dir(follow_symlinks=False):
                os.remove(entry.path)
                removed += 1
        except OSError:
            pass
    ck = Path(out) / CHECKPOINT_DIR
    if ck.is_dir() and not ck.is_symlink():
        for entry in os.scandir(ck):
            if _is_temporary(entry.name) and not entry.is_dir(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.remove(entry.path)
                    removed += 1
    return removed


def _remove_backup(backup):
    """Delete a backup folder, its journal first: a deletion cut short never leaves a
    journal without its ``committed`` mark (which would roll a finished swap back)."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(backup / JOURNAL)
    shutil.rmtree(backup)


def _write_synced(path, text):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


@contextlib.contextmanager
def _signals_held():
    """Defer SIGINT and SIGTERM while the block runs (main thread only): a signal that
    arrives is recorded and its previous handler called once the block has finished."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived = []
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        try:
            previous[signum] = signal.signal(signum, lambda n, f: arrived.append((n, f)))
        except (ValueError, OSError):
            pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            if handler is not None:        # None: installed from C, not restorable
                signal.signal(signum, handler)
        for signum, frame in arrived[:1]:
            handler = previous.get(signum)
            if callable(handler):
                handler(signum, frame)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(signum)


class OutputFolder:
    """A run's hold on ``OUT``: the lock, a staging folder, and the swap at the end."""

    def __init__(self, out, names=(), protect=()):
        self.out = Path(out)
        self.names = set(names)
        self.protected = {Path(p).resolve() for p in protect}
        self.created = None
        self.lock = None
        self.stage = None
        self.committed = False

    def open(self):
        out = self.out
        if out.exists() and not out.is_dir():
            raise ParameterError(f"--out {str(out)!r} exists and is a file, not a folder")
        if out.is_dir():
            for name in sorted(self.names | {CHECKPOINT_DIR}):
                if (out / name).is_symlink():
                    raise ParameterError(f"--out: {str(out / name)!r} is a link; this run "
                                         "writes that name itself: remove the link")
        try:
            self.created = _missing_ancestor(out)
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:          # a bad --out: refused like any bad option
            raise ParameterError(f"cannot write to output folder {str(out)!r}: "
                              f"{_describe(exc)}") from None
        try:
            self.lock = FolderLock(out).acquire()
            if self.lock.fresh:          # re-entered by this thread: nothing is stale
                clean_stale(out)
            self.stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=out))
        except BaseException:
            self.close(ok=False)
            raise
        return self

    def previous(self):
        """The files the last run wrote into ``out`` (from its manifest), if any."""
        from .exports import OUTPUT_FILES

        try:
            doc = json.loads((self.out / "manifest.json").read_text(encoding="utf-8"))
            files = doc.get("files")
        except (OSError, ValueError, AttributeError):
            return set()
        return {f for f in files if isinstance(f, str) and f in OUTPUT_FILES} \
            if isinstance(files, list) else set()

    def commit(self):
        """Replace the previous outputs by the staged ones, all or none; return the names."""
        out, stage = self.out, self.stage
        names = sorted(n for n in os.listdir(stage) if not n.startswith("."))
        for name in names:
            if (out / name).resolve() in self.protected:
                raise ParameterError(f"--out: this run would overwrite its own input "
                                     f"{str(out / name)!r}; choose another output folder")
            if (out / name).is_symlink() or (out / name).is_dir():
                raise ParameterError(f"--out: {str(out / name)!r} is a link or a folder; "
                                     "this run writes that name itself: remove it")
        stale = sorted(n for n in self.previous() - set(names)
                       if (out / n).resolve() not in self.protected and not
                       (out / n).is_symlink())
        with _signals_held():
            backup = Path(tempfile.mkdtemp(prefix=BACKUP_PREFIX, dir=out))
            try:
                moving = names + stale
                fresh = [n for n in moving if not (out / n).exists()]
                _write_synced(backup / JOURNAL, json.dumps({"names": moving, "fresh": fresh}))
                for name in moving:             # the previous set aside, then the new in
                    if (out / name).exists():
                        os.replace(out / name, backup / name)
                for name in names:
                    os.replace(stage / name, out / name)
                (backup / COMMITTED).touch()
                self.committed = True
            except BaseException:
                with contextlib.suppress(OSError):
                    _rollback(backup, out)
                raise
            finally:
                with contextlib.suppress(OSError):
                    if (backup / COMMITTED).exists() or not any(
                            (backup / n).exists() for n in os.listdir(backup)
                            if n != JOURNAL):
                        _remove_backup(backup)
        return names

    def close(self, ok):
        if self.stage is not None:
            shutil.rmtree(self.stage, ignore_errors=True)
            self.stage = None
        if self.lock is not None:
            self.lock.release()
            self.lock = None
        if not (ok or self.committed) and self.created is not None:
            # the folders this run created, from OUT up, while they are empty: never a
            # file of another run (or the checkpoints to resume from)
            folder = self.out
            while True:
                try:
                    os.rmdir(folder)
                except OSError:
                    break
                if folder == self.created or folder.parent == folder:
                    break
                folder = folder.parent


def output_folder_run(out_dir, fill, *, names=(), protect=()):
    """Run ``fill(stage)`` in a staging folder of ``out_dir`` and swap its files in.

    Returns ``(names, fill's result)``. Refusals (``ParameterError``) pass through; a
    write that fails is one :class:`OutputError` line (the disk's free space when full).
    """
    folder = OutputFolder(out_dir, names, protect)
    ok = False
    try:
        try:
            folder.open()
            result = fill(folder.stage)
            written = folder.commit()
        except (ParameterError, KeyboardInterrupt, MemoryError):
            raise
        except Exception as exc:
            if disk_full(exc, folder.out):
                kept = ", finished tiles are kept" \
                    if (folder.out / CHECKPOINT_DIR / "job.json").exists() else ""
                raise OutputError(f"disk full while writing to {str(folder.out)!r}"
                                  f"{_free_text(folder.out)}; the previous outputs are "
                                  f"unchanged{kept}: free some space or choose another "
                                  "--out") from None
            if isinstance(exc, OSError):
                raise OutputError(f"cannot write to output folder {str(folder.out)!r}: "
                                  f"{_describe(exc)}") from None
            raise
        ok = True
        return written, result
    finally:
        folder.close(ok)


@contextlib.contextmanager
def locked(out_dir):
    """Hold ``out_dir``'s lock (created if missing) for a block: the API's checkpoints."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"checkpoint_dir {str(out)!r} exists and is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(f"cannot write to folder {str(out)!r}: {_describe(exc)}") \
            from None
    lock = FolderLock(out).acquire()
    try:
        if lock.fresh:
            clean_stale(out)
        yield out
    finally:
        lock.release()
