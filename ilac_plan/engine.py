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
import hashlib
import io
import itertools
import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from .errors import ParameterError
from .grid import Tile, make_tiles  # noqa: F401 - re-exported

CHECKPOINT_DIR = ".ilac-checkpoints"
ENGINES = ("local", "dask")
#: Test hook: a file whose existence makes the next tile computation kill its process
#: (and removes the file), to simulate a lost worker.
CRASH_ONCE_ENV = "ILAC_PLAN_TEST_CRASH_ONCE"


@dataclass(frozen=True)
class TileJob:
    """What a worker needs to compute any tile of a plan (no point arrays)."""

    grid: object                 # planner.GridSpec
    area_wkb: bytes              # the planning area minus exclusions
    cells: object                # site table, with wrap-around copies if any
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
    marker = os.environ.get(CRASH_ONCE_ENV)
    if marker and os.path.exists(marker):
        os.remove(marker)
        os._exit(17)
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
    serving = df["serving_cell"].to_numpy()
    if "source_row" in job.cells.columns:
        serving = job.cells["source_row"].to_numpy()[serving] if serving.size else serving
    out["serving_cell"][inside] = serving
    out["snr_db"][inside] = df["snr_db"].to_numpy()
    out["best_scheme"][inside] = df["best_scheme"].cat.codes.to_numpy()
    for col in df.columns:
        if col.endswith(("_capacity_bps", "_error_m", "_loc_share")):
            arr = np.full(shape, np.nan, np.float32)
            arr[inside] = df[col].to_numpy()
            out[col] = arr
    return out


def _checksum(arrays):
    """CRC-32 of every array's name, type, shape and bytes (damage and edits, not attacks:
    the checkpoint folder is the user's own)."""
    crc = 0
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        crc = zlib.crc32(f"{name}|{a.dtype}|{a.shape}".encode(), crc)
        crc = zlib.crc32(memoryview(a).cast("B"), crc)
    return f"{crc:08x}"


class CheckpointStore:
    """Finished tiles as ``.npz`` files in ``<out>/.ilac-checkpoints``.

    The folder records the job's key; a store made by another job is refused, and so is a
    tile file whose checksum, job key or index does not match (altered or damaged).
    """

    def __init__(self, out_dir, job_key):
        self.folder = Path(out_dir) / CHECKPOINT_DIR
        self.job_key = job_key
        stamp = self.folder / "job.json"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if stamp.exists():
                try:
                    found = json.loads(stamp.read_text()).get("job_key")
                except (ValueError, AttributeError):
                    raise ParameterError(f"checkpoints in {str(self.folder)!r}: job.json is "
                                         "damaged; remove that folder to start afresh") \
                        from None
                if found != job_key:
                    raise ParameterError(
                        f"checkpoints in {str(self.folder)!r} are from a different scenario "
                        f"(job {found}, this one {job_key}); remove that folder or choose "
                        "another --out")
            else:
                tmp = stamp.with_suffix(".part")
                tmp.write_text(json.dumps({"job_key": job_key}))
                os.replace(tmp, stamp)
        except OSError as exc:
            raise ParameterError(f"cannot write to output folder {str(Path(out_dir))!r}: "
                                 f"{exc.strerror or exc}") from None

    def path(self, tile):
        return self.folder / f"tile_{tile.index:06d}.npz"

    def load(self, tile):
        """The tile's arrays, or None when it has not been computed yet."""
        path = self.path(tile)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["__meta__"]))
                arrays = {k: data[k] for k in data.files if k != "__meta__"}
        except Exception as exc:  # noqa: BLE001 - zip, json, numpy format errors
            raise ParameterError(f"checkpoint {path.name} is damaged ({type(exc).__name__}); "
                                 "delete it to recompute that tile") from None
        if meta.get("job_key") != self.job_key or meta.get("tile") != tile.index \
                or meta.get("crc32") != _checksum(arrays) \
                or any(a.shape != (tile.nrows, tile.ncols) for a in arrays.values()):
            raise ParameterError(f"checkpoint {path.name} does not match this run (altered, "
                                 "damaged or from another scenario); delete it to recompute")
        return arrays

    def save(self, tile, arrays):
        meta = json.dumps({"job_key": self.job_key, "tile": tile.index,
                           "crc32": _checksum(arrays)})
        path = self.path(tile)
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as fh:
            np.savez(fh, __meta__=np.array(meta), **arrays)   # fast; zlib would dominate
        os.replace(tmp, path)

    def remove(self):
        import shutil

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
