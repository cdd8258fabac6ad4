"""Tiled execution of a plan: a local thread pool or a Dask cluster, with checkpoints.

The grid is cut into :class:`Tile` windows. A :class:`TileJob` (sites, area, grid and
options: small and picklable) is all a worker needs; it generates the points of a tile
itself (:func:`compute_tile`), so no point array is ever shipped. Every computed tile can
be written to a :class:`CheckpointStore`; a run started again with the same job resumes
from it, and a store made by another job, or altered, is refused.

One level of parallelism: the local engine runs tiles on a thread pool with one kernel
thread each (the kernel releases the GIL), or, with one worker, one tile at a time with
all OpenMP threads. Dask workers run one task at a time each; their default
``OMP_NUM_THREADS=1`` (set by ``distributed``'s nanny, with ``MALLOC_TRIM_THRESHOLD_``)
is kept on purpose, so a 2-worker cluster uses 2 cores without oversubscription.
"""

import concurrent.futures as cf
import contextlib
import hashlib
import io
import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from ._io import write_bytes
from .errors import ParameterError
from .grid import Tile, make_tiles  # noqa: F401 - re-exported

CHECKPOINT_DIR = ".ilac-checkpoints"
ENGINES = ("local", "dask")


@dataclass(frozen=True)
class TileJob:
    """What a worker needs to compute any tile of a plan (no point arrays)."""

    grid: object                 # planner.GridSpec
    area_wkb: bytes              # the planning area minus exclusions
    cells: object                # site table (wrap-around images are evaluate options)
    options: dict                # keyword arguments of ilac_plan.evaluate
    n_threads: int = 1
    n_sites: int = 0             # rows of the site table (serving cells are its rows)
    preview_step: int = 1        # decimation of the preview rasters
    tile_px: int = 0             # tile side: part of the checkpoint key

    def with_threads(self, n_threads):
        """The same job with another kernel thread count."""
        from dataclasses import replace

        return replace(self, n_threads=n_threads)

    def key(self):
        """A digest of everything that determines the results (for checkpoints)."""
        from . import __version__

        h = hashlib.sha256()
        h.update(__version__.encode())
        h.update(repr(self.grid).encode())
        h.update(f"tile_px={self.tile_px}".encode())
        h.update(self.area_wkb)
        buf = io.StringIO()
        self.cells.to_csv(buf, index=False, float_format="%.17g")
        h.update(buf.getvalue().encode())
        h.update(json.dumps(self.options, sort_keys=True, default=_canon).encode())
        return h.hexdigest()[:32]


def _canon(obj):
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if hasattr(obj, "__dict__"):
        return {k: v for k, v in vars(obj).items() if not k.startswith("_")}
    return repr(obj)


def compute_tile(job, tile):
    """Evaluate every pixel centre of ``tile`` inside the area; return its arrays.

    Returns
    -------
    dict of ndarray
        ``(nrows, ncols)`` arrays: ``mask``, ``serving_cell`` (-1 outside), ``best_scheme``
        (category code, -1 outside), and NaN-filled float32 arrays for ``snr_db`` and each
        ``<scheme>_capacity_bps``, ``_error_m``, ``_loc_share``.
    """
    from .coverage import evaluate

    grid = job.grid
    rows, cols = np.meshgrid(np.arange(tile.row0, tile.row0 + tile.nrows),
                             np.arange(tile.col0, tile.col0 + tile.ncols), indexing="ij")
    x, y = grid.centres(rows, cols)
    area = shapely.from_wkb(job.area_wkb)
    inside = shapely.contains_xy(area, x, y)
    shape = (tile.nrows, tile.ncols)
    # continuous values as float32, what the GeoTIFFs hold: every output of a plan is
    # derived from these, so that a tile resumed from its checkpoint gives the same files
    out = {"mask": inside, "serving_cell": np.full(shape, -1, np.int32),
           "best_scheme": np.full(shape, -1, np.int16),
           "snr_db": np.full(shape, np.nan, np.float32)}
    df = evaluate(job.cells, x[inside] if inside.any() else np.empty(0),
                  y[inside] if inside.any() else np.empty(0), n_threads=job.n_threads,
                  **job.options)
    out["serving_cell"][inside] = df["serving_cell"].to_numpy()
    out["snr_db"][inside] = df["snr_db"].to_numpy()
    out["best_scheme"][inside] = df["best_scheme"].cat.codes.to_numpy()
    for col in df.columns:
        if col.endswith(("_capacity_bps", "_error_m", "_loc_share", "_gdop",
                         "_capacity_gain_bps")) or col == "cells_used":
            arr = np.full(shape, np.nan, np.float32)
            arr[inside] = df[col].to_numpy()
            out[col] = arr
    return out


def _key_folder():
    """Where the per-user checkpoint key lives (never inside an output folder)."""
    env = os.environ.get("ILAC_PLAN_KEY_DIR")
    if env:
        return Path(env)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "ilac_plan"


_MEMORY_KEY = os.urandom(32)


def checkpoint_key():
    """The secret that authenticates checkpoints: 32 random bytes in a per-user file
    (mode 0600, created once), or a key of this process only when that file cannot be
    kept (then a resumed run recomputes its tiles instead of trusting them)."""
    folder = _key_folder()
    path = folder / "checkpoint.key"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            fd = None
        if fd is not None:
            with os.fdopen(fd, "wb") as fh:
                fh.write(os.urandom(32))
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as fh:
            key = fh.read(64)
        if len(key) == 32:
            return key
    except OSError:
        pass
    return _MEMORY_KEY


def _digest(key, meta, arrays):
    """HMAC-SHA256 of the tile's metadata and every array's name, type, shape and bytes."""
    import hmac

    mac = hmac.new(key, meta.encode(), hashlib.sha256)
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        mac.update(f"|{name}|{a.dtype.str}|{a.shape}|".encode())
        mac.update(memoryview(a).cast("B"))
    return mac.hexdigest()


def tile_bands(schemes, network=False):
    """The arrays of a computed tile and their types (what a checkpoint must hold)."""
    from .exports import raster_layout

    bands = {"mask": np.dtype(bool), "serving_cell": np.dtype(np.int32),
             "best_scheme": np.dtype(np.int16)}
    for name, _, _ in raster_layout(schemes, network):
        bands[name] = np.dtype(np.float32)
    return bands


class CheckpointStore:
    """Finished tiles as ``.npz`` files in ``<out>/.ilac-checkpoints``.

    The folder records the job's key; a store made by another job is refused. Every tile
    is authenticated with an HMAC under a per-user key kept outside the output folder
    (:func:`checkpoint_key`) and checked against the job key, its index and the name,
    type and shape of every band: a tile that fails (edited, forged, damaged, truncated)
    is deleted and recomputed, never trusted and never a traceback.
    """

    def __init__(self, out_dir, job_key, schemes=(), network=False):
        self.folder = Path(out_dir) / CHECKPOINT_DIR
        self.job_key = job_key
        self.bands = tile_bands(schemes, network)
        self.key = checkpoint_key()
        self.rejected = 0
        stamp = self.folder / "job.json"
        try:
            if self.folder.is_symlink() or (self.folder.exists() and not self.folder.is_dir()):
                raise ParameterError(f"checkpoints: {str(self.folder)!r} is a link or a file, "
                                     "not a folder of this run; remove it")
            self.folder.mkdir(parents=True, exist_ok=True)
            found = None
            if stamp.is_symlink():
                raise ParameterError(f"checkpoints: {str(stamp)!r} is a link; remove the "
                                     "folder to start afresh")
            if stamp.exists():
                try:
                    doc = json.loads(stamp.read_text(encoding="utf-8"))
                    found = doc.get("job_key") if isinstance(doc, dict) else None
                except (ValueError, UnicodeDecodeError):
                    found = None
                if found is None:        # damaged: nothing in it can be trusted
                    self._clear()
                elif found != job_key:
                    raise ParameterError(
                        f"checkpoints in {str(self.folder)!r} are from a different scenario "
                        f"(job {str(found)[:32]}, this one {job_key}); remove that folder or "
                        "choose another --out")
            if found is None:
                write_bytes(stamp, json.dumps({"job_key": job_key}).encode())
        except OSError as exc:
            raise ParameterError(f"cannot write to output folder {str(Path(out_dir))!r}: "
                                 f"{exc.strerror or exc}") from None

    def _clear(self):
        for p in self.folder.iterdir():
            if p.name.startswith(("tile_", ".tile_", "job.json", ".job.json")):
                with contextlib.suppress(OSError):
                    os.remove(p)

    def path(self, tile):
        return self.folder / f"tile_{tile.index:06d}.npz"

    def load(self, tile):
        """The tile's arrays, or None when it is to be computed (absent or not verified)."""
        import hmac

        path = self.path(tile)
        if not path.exists() and not path.is_symlink():
            return None
        arrays = None
        try:
            if path.is_symlink():
                raise ValueError("a link")
            with np.load(path, allow_pickle=False) as data:
                meta = str(data["__meta__"])
                mac = str(data["__hmac__"])
                arrays = {k: data[k] for k in data.files if k not in ("__meta__", "__hmac__")}
            want = json.dumps({"job_key": self.job_key, "tile": tile.index})
            shape = (tile.nrows, tile.ncols)
            ok = (meta == want and hmac.compare_digest(mac, _digest(self.key, meta, arrays))
                  and set(arrays) == set(self.bands)
                  and all(a.shape == shape and a.dtype == self.bands[k]
                          for k, a in arrays.items()))
        except Exception:  # noqa: BLE001 - zip, npy, key and format errors alike
            ok = False
        if not ok:
            self.rejected += 1
            with contextlib.suppress(OSError):
                os.remove(path)
            return None
        return arrays

    def save(self, tile, arrays):
        meta = json.dumps({"job_key": self.job_key, "tile": tile.index})
        buf = io.BytesIO()
        np.savez(buf, __meta__=np.array(meta),
                 __hmac__=np.array(_digest(self.key, meta, arrays)), **arrays)
        write_bytes(self.path(tile), buf.getbuffer())

    def remove(self):
        import shutil

        if not self.folder.is_symlink():
            shutil.rmtree(self.folder, ignore_errors=True)


def run_tiles(job, tiles, *, derive=None, engine="local", n_workers=None, scheduler=None,
              store=None, progress=False):
    """Compute every tile (or load it from ``store``); yield results as they finish.

    Parameters
    ----------
    job : TileJob
    tiles : list of Tile
    derive : callable, optional
        ``derive(job, tile, arrays) -> products``, run where the tile is computed (a pool
        thread, a Dask worker) and on tiles loaded from checkpoints; a top-level
        function, so that it pickles.
    engine : {"local", "dask"}
    n_workers : int, optional
        Local threads (default: the CPU count) or LocalCluster workers (default 2).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); without it a
        LocalCluster is started for the run.
    store : CheckpointStore, optional
    progress : bool
        A tqdm progress bar over tiles.

    Yields
    ------
    tile, arrays, products
    """
    if engine not in ENGINES:
        raise ParameterError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tiles), unit="tile", desc="planning", leave=False)
    runner = _run_dask if engine == "dask" else _run_local
    try:
        for item in runner(job, tiles, derive, n_workers, scheduler, store):
            if bar is not None:
                bar.update(1)
            yield item
    finally:
        if bar is not None:
            bar.close()


def _task(job, tile, derive, store):
    """Load or compute one tile (saving it to ``store``), then derive its products."""
    arrays = store.load(tile) if store is not None else None
    if arrays is None:
        arrays = compute_tile(job, tile)
        if store is not None:
            store.save(tile, arrays)
    return arrays, (derive(job, tile, arrays) if derive is not None else None)


def _run_local(job, tiles, derive, n_workers, _scheduler, store):
    workers = n_workers or os.cpu_count() or 1
    if workers <= 1 or len(tiles) <= 1:
        for tile in tiles:                      # one tile at a time, all kernel threads
            yield (tile, *_task(job, tile, derive, store))
        return
    single = job.with_threads(1)
    pending = iter(tiles)
    with cf.ThreadPoolExecutor(max_workers=workers) as pool:
        # at most `workers + 1` tiles in flight: finished tiles wait for the consumer, and
        # memory stays bounded by a few tiles whatever the grid
        running = {pool.submit(_task, single, t, derive, store): t
                   for t in itertools.islice(pending, workers + 1)}
        while running:
            done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: running[f].index):
                tile = running.pop(fut)
                nxt = next(pending, None)
                if nxt is not None:
                    running[pool.submit(_task, single, nxt, derive, store)] = nxt
                yield (tile, *fut.result())


def _remote_task(job, tile, derive):
    return _task(job, tile, derive, None)


def check_scheduler(address, timeout_s=5.0):
    """Refuse a Dask scheduler address that is malformed or does not answer (a TCP
    connection within ``timeout_s``), before a run creates anything.

    Raises
    ------
    ParameterError
        One line naming ``--scheduler``.
    """
    import socket
    from urllib.parse import urlsplit

    text = str(address).strip()
    try:
        parts = urlsplit(text if "://" in text else f"tcp://{text}")
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ParameterError(f"--scheduler {text!r}: expected tcp://HOST:PORT") from None
    if parts.scheme not in ("tcp", "tls") or not host or port is None:
        raise ParameterError(f"--scheduler {text!r}: expected tcp://HOST:PORT")
    if parts.scheme == "tcp":
        try:
            socket.create_connection((host, port), timeout=timeout_s).close()
        except OSError as exc:
            raise ParameterError(f"--scheduler {text!r}: cannot connect: "
                                 f"{exc.strerror or exc}") from None
    return text


def _run_dask(job, tiles, derive, n_workers, scheduler, store):
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ParameterError("the dask engine needs dask.distributed: "
                             "pip install 'ilac-plan[dask]'") from None
    todo = []
    for tile in tiles:              # checkpoints are read where they were written
        arrays = store.load(tile) if store is not None else None
        if arrays is None:
            todo.append(tile)
        else:
            yield tile, arrays, (derive(job, tile, arrays) if derive is not None else None)
    if not todo:
        return
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=n_workers or 2, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, ValueError, TypeError) as exc:
            raise ParameterError(f"--scheduler {scheduler!r}: cannot connect: "
                                 f"{' '.join(str(exc).split())}") from None
    try:
        # kernel threads: what the worker's OMP_NUM_THREADS allows (1 by dask's default)
        job_future = client.scatter(job.with_threads(-1), broadcast=True)
        window = 2 * max(len(client.scheduler_info().get("workers", {})), 1) + 1
        pending = iter(todo)
        index = {}

        def submit(tile):
            fut = client.submit(_remote_task, job_future, tile, derive, retries=3, pure=False)
            index[fut.key] = tile
            return fut

        # a bounded window of tasks, so that finished tiles do not pile up in memory
        queue = as_completed([submit(t) for t in itertools.islice(pending, window)])
        for fut in queue:
            nxt = next(pending, None)
            if nxt is not None:
                queue.add(submit(nxt))
            arrays, products = fut.result()
            fut.release()
            tile = index.pop(fut.key)
            if store is not None:
                store.save(tile, arrays)
            yield tile, arrays, products
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
