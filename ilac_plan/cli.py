"""The ``ilac-plan`` command line.

Errors in the input are reported as one line on stderr with exit code 2, never a
traceback.
"""

import contextlib
import io
import math
import os
import sys
import tempfile
from pathlib import Path

import click
import numpy as np

from . import __version__
from ._io import write_csv
from .errors import OutputError, ParameterError
from .plugins import PluginError
from .radio import RadioParams

PROG = "ilac-plan"


def _fail(message, code=2):
    click.echo(f"{PROG}: error: {' '.join(str(message).split())}", err=True)
    sys.exit(code)


#: The warning texts shown in this run (:func:`_show_warning`).
_WARNED: set[str] = set()


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as one line each: ``ilac-plan: warning: ...`` (no source line), each text
    once per run (a run's stages may meet the same condition again)."""
    text = ' '.join(str(message).split())
    if text in _WARNED:
        return
    _WARNED.add(text)
    click.echo(f"{PROG}: warning: {text}", err=True)



#: What C libraries print straight to the process's stderr that the one-line error
#: already says (libtiff on a full disk: "_tiffWriteProc: No space left on device.").
_C_NOISE = ("No space left on device", "Disk quota exceeded")


@contextlib.contextmanager
def _c_stderr_filtered():
    """Lines C libraries write to file descriptor 2 go to a temporary file, while
    Python's ``sys.stderr`` keeps the terminal; afterwards, lines other than known noise
    are repeated as one-line warnings: all of them after a success, none after a refusal
    or an interrupt (the one-line error says what went wrong), the last five after a
    crash. A no-op when stderr is not a real file (tests)."""
    try:
        sys.stderr.flush()
        if sys.stderr.fileno() != 2:
            raise ValueError
        saved = os.dup(2)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        yield
        return
    capture = tempfile.TemporaryFile()
    python_stderr = sys.stderr
    sys.stderr = open(os.dup(saved), "w", buffering=1,
                      encoding=getattr(python_stderr, "encoding", None) or "utf-8",
                      errors="backslashreplace")
    os.dup2(capture.fileno(), 2)
    shown = None                    # None: every line; an int: the last so many
    try:
        yield
    except (ParameterError, OutputError, KeyboardInterrupt, click.ClickException):
        shown = 0                   # the one-line error says what went wrong
        raise
    except BaseException:
        shown = 5                   # a crash: what C printed may say why
        raise
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        # the wrapper stays open (loggers created during the run hold it); fd 2 again
        sys.stderr = python_stderr
        size = capture.seek(0, os.SEEK_END)
        capture.seek(max(0, size - (1 << 16)))
        text = capture.read().decode("utf-8", "replace")
        capture.close()
        lines = [ln for ln in text.splitlines()
                 if ln.strip() and not any(n in ln for n in _C_NOISE)]
        if shown is not None:
            lines = lines[len(lines) - shown:] if shown else []
        for line in lines:
            click.echo(f"{PROG}: warning: {' '.join(line.split())}", err=True)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C."""


def _terminate(signum, frame):
    raise _Terminated()


class IlacGroup(click.Group):
    """Group whose errors are one line on stderr with exit code 2."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        import signal
        import warnings

        warnings.showwarning = _show_warning
        _WARNED.clear()
        previous = None
        try:   # SIGTERM like Ctrl-C: finally blocks run, checkpoints stay, one line
            previous = signal.signal(signal.SIGTERM, _terminate)
        except ValueError:           # not the main thread (tests, embedding)
            pass
        try:
            with _c_stderr_filtered():
                rv = super().main(args, prog_name or PROG, complete_var,
                                  standalone_mode=False, **extra)
        except click.ClickException as exc:
            _fail(exc.format_message())
        except ParameterError as exc:
            _fail(exc)
        except PluginError as exc:
            _fail(exc)
        except OutputError as exc:
            _fail(exc, 1)
        except OSError as exc:
            _fail(exc.strerror or exc)
        except (click.Abort, KeyboardInterrupt) as exc:
            code = 143 if isinstance(exc.__cause__ or exc, _Terminated) else 130
            _fail("interrupted; finished tiles are kept in OUT/.ilac-checkpoints: the same "
                  "command resumes", code)
        except MemoryError:
            _fail("out of memory (a coarser resolution_m, a smaller area or fewer cells)", 1)
        except Exception as exc:  # noqa: BLE001 - a bug: one line, the traceback on demand
            if os.environ.get("ILAC_PLAN_DEBUG"):
                raise
            _fail(f"internal error, please report it (ILAC_PLAN_DEBUG=1 shows the traceback): "
                  f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}", 1)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        code = rv if isinstance(rv, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


class MultiValueCommand(click.Command):
    """Command whose ``multiple=True`` options also take several values after one flag.

    ``--snr-db 10 20 30`` is read as ``--snr-db 10 --snr-db 20 --snr-db 30``; values
    may also be separated by commas (``--snr-db 10,20,30``).
    """

    def parse_args(self, ctx, args):
        multi = {name for p in self.params if isinstance(p, click.Option) and p.multiple
                 for name in p.opts}
        # a token that is no option of this command is a value ("--formats -png -cdf")
        known = {o for p in self.params for o in (*p.opts, *p.secondary_opts)} | \
            set(ctx.help_option_names)
        out, current, taken = [], None, 0
        for token in args:
            name, eq, value = token.partition("=")
            if token.startswith("--") and name in multi:
                _close(out, current, taken)
                current, taken = name, 0
                if eq:
                    out += [x for v in value.split(",") for x in (name, v)]
                    current = None
                continue
            if current and (not _looks_like_option(token) or name not in known):
                values = [v for v in token.split(",") if v] or [""]   # "": click judges
                out += [x for v in values for x in (current, v)]
                taken += 1
                continue
            _close(out, current, taken)
            current = None
            out.append(token)
        _close(out, current, taken)
        return super().parse_args(ctx, out)


def _close(out, flag, n_values):
    """A multi-value flag that got no value is passed on bare, for click to report."""
    if flag and n_values == 0:
        out.append(flag)


def _looks_like_option(token):
    if not token.startswith("-"):
        return False
    try:
        float(token)
    except ValueError:
        return True
    return False


def _version_message():
    from . import _core

    omp = f"OpenMP on, {_core.max_threads()} threads" if _core.openmp_enabled() else "OpenMP off"
    return f"{PROG} {__version__} ({omp})"


def _print_version(ctx, _param, value):
    if value and not ctx.resilient_parsing:
        click.echo(_version_message())
        ctx.exit()


@click.group(cls=IlacGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show the version and whether OpenMP is on.")
def cli():
    """Planning engine for integrated localization and communication (ILAC)."""


def radio_options(func):
    """The radio parameters of :class:`RadioParams` as options, paper defaults shown."""
    d = RadioParams()
    options = [
        ("--carrier-hz", "carrier_hz", float, d.carrier_hz, "Carrier frequency [Hz]."),
        ("--bandwidth-hz", "bandwidth_hz", float, d.bandwidth_hz, "Total bandwidth B [Hz]."),
        ("--rb-bandwidth-hz", "rb_bandwidth_hz", float, d.rb_bandwidth_hz,
         "Resource-block bandwidth, the unit of frequency splits [Hz]."),
        ("--subcarrier-spacing-hz", "subcarrier_spacing_hz", float, d.subcarrier_spacing_hz,
         "OFDM subcarrier spacing, the achievable bound's PRS grid [Hz]."),
        ("--symbols", "n_symbols", int, d.n_symbols,
         "Symbols per coherence interval tau_T, the unit of time splits."),
        ("--varsigma", "varsigma", float, d.varsigma, "Waveform coefficient of Eq. (6)."),
        ("--gnb-power-dbm", "gnb_power_dbm", float, d.gnb_power_dbm, "gNB power [dBm]."),
        ("--ue-power-dbm", "ue_power_dbm", float, d.ue_power_dbm, "UE power [dBm]."),
        ("--gnb-gain-db", "gnb_gain_db", float, d.gnb_gain_db, "gNB antenna gain [dB]."),
        ("--ue-gain-db", "ue_gain_db", float, d.ue_gain_db, "UE antenna gain [dB]."),
        ("--noise-psd-dbm-hz", "noise_psd_dbm_hz", float, d.noise_psd_dbm_hz,
         "Noise power spectral density [dBm/Hz]."),
        ("--noise-figure-db", "noise_figure_db", float, d.noise_figure_db,
         "Receiver noise figure [dB]."),
        ("--spacing-m", "spacing_m", float, None, "Antenna spacing d_A [m] (default lambda/2)."),
    ]
    for flag, name, kind, default, text in reversed(options):
        func = click.option(flag, name, type=kind, default=default, show_default=True,
                            help=text)(func)
    return func


def bound_options(default=None):
    """--bound, --epre and --dl-prs (default None: the scenario's, else the paper's)."""
    def wrap(func):
        func = click.option(
            "--dl-prs", type=click.Choice(["orthogonal", "beamformed"]), default=default and
            "orthogonal", show_default=bool(default),
            help="Downlink PRS of the achievable bound: orthogonal per-antenna signals, or "
                 "sum and difference beams towards the UE.")(func)
        func = click.option(
            "--epre", type=click.Choice(["paper", "equal"]), default=default, show_default=bool(
                default), help="Energy convention: the paper's (positioning SNR whatever its "
                "band) or equal energy per resource element under one power.")(func)
        return click.option(
            "--bound", type=click.Choice(["paper", "achievable"]), default=default,
            show_default=bool(default), help="Position bound: the paper's Eqs. (5)-(7), or "
            "the one an ML receiver reaches.")(func)
    return wrap


@cli.command(cls=MultiValueCommand)
@click.option("--antennas", "n_antennas", type=int, multiple=True, default=(8,),
              show_default=True, help="gNB antennas N_T (one or more).")
@click.option("--snr-db", type=float, multiple=True,
              help="Received SNR per antenna rho_dl*beta [dB] (one or more; default 10 20 30).")
@click.option("--distance-m", type=float, multiple=True,
              help="UE-gNB distances [m] instead of SNRs (free-space path loss).")
@click.option("--theta-deg", type=float, default=0.0, show_default=True,
              help="UE angle off the array broadside [deg].")
@click.option("--schemes", multiple=True, default=("time", "frequency"), show_default=True,
              help="Splits to compute: time, frequency (Figs. 2-3), or any plan-form scheme "
                   "(see 'ilac-plan schemes').")
@click.option("--scheme-param", "scheme_param", multiple=True, metavar="SCHEME.KEY=VALUE",
              help="A parameter of a plugin scheme, e.g. 'tdd.dl_fraction=0.6' (repeatable).")
@radio_options
@click.option("--approx", is_flag=True,
              help="Capacity from the closed form Eq. (18) instead of Eq. (1) with the best "
                   "integer pilot length.")
@click.option("--threads", "n_threads", type=int, default=None,
              help="Kernel threads (default: all).")
@click.option("--out", "out", default="-", show_default=True, type=click.Path(dir_okay=False),
              help="CSV file to write ('-' for stdout).")
@click.option("--plot", "plot", type=click.Path(dir_okay=False), default=None,
              help="Draw capacity vs CRB (the paper's Fig. 2) into this .png/.pdf/.svg.")
@click.option("--loss-plot", type=click.Path(dir_okay=False), default=None,
              help="Draw capacity loss vs CRB loss (the paper's Fig. 3) into this file.")
@bound_options(default="paper")
def tradeoff(n_antennas, snr_db, distance_m, theta_deg, schemes, scheme_param, approx,
             n_threads, out, plot, loss_plot, bound, epre, dl_prs, **radio_kwargs):
    """Capacity against position CRB for every time and frequency split.

    Writes one CSV row per split: scheme, n_antennas, snr_db, loc_symbols,
    loc_bandwidth_hz, capacity_bps, crb_m2, capacity_loss_bps, crb_loss.
    """
    from .tradeoff import tradeoff_curves

    if snr_db and distance_m:
        raise click.UsageError("give --snr-db or --distance-m, not both")
    radio = RadioParams(**radio_kwargs)
    _check_folder(out, "--out")
    if plot or loss_plot:
        from .plotting import check_plot_path

        for path in filter(None, (plot, loss_plot)):
            check_plot_path(path)
    frame = tradeoff_curves(
        n_antennas=np.array(n_antennas), snr_db=np.array(snr_db) if snr_db else None,
        distance_m=np.array(distance_m) if distance_m else None, radio=radio,
        theta_deg=theta_deg, schemes=schemes, closed_form=approx, n_threads=n_threads,
        bound=bound, epre=epre, dl_prs=dl_prs, scheme_params=_scheme_params(scheme_param))
    if plot or loss_plot:
        from .plotting import bound_label, plot_losses, plot_tradeoff

        label = bound_label(bound, epre, dl_prs)
        if plot:
            plot_tradeoff(frame, plot, subtitle=label)
        if loss_plot:
            plot_losses(frame, loss_plot, subtitle=label)
    if frame.empty:
        click.echo(f"{PROG}: warning: every split has an infinite CRB (one antenna or an "
                   "end-fire angle); the CSV has no rows", err=True)
    write_csv(frame, out)
    if out != "-":
        click.echo(f"wrote {len(frame)} splits to {out}", err=True)


def _check_folder(path, option):
    """Refuse an output file whose folder does not exist, before any work."""
    if path in (None, "-"):
        return
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise click.BadParameter(f"no such folder {str(folder)!r}", param_hint=option)


def _prefetch_imports():
    """Import the output libraries on a side thread while the plan is computed (the
    kernel runs without the GIL), so that writing does not wait for them."""
    import importlib
    import threading

    def load():
        for name in ("rasterio", "rasterio.shutil", "rasterio.features", "pyogrio",
                     "geopandas", "matplotlib.figure", "mpl_toolkits.axes_grid1.anchored_artists",
                     "tomli_w"):
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - a missing extra is reported where it is used
                pass

    threading.Thread(target=load, name="ilac-plan-imports", daemon=True).start()


@cli.command("map", cls=MultiValueCommand)
@click.option("--scenario", "scenario_path", type=click.Path(dir_okay=False), default=None,
              help="TOML scenario (default: the built-in one: 19 three-sector sites, 500 m "
                   "ISD, the paper's radio, in Berlin).")
@click.option("--sites", type=click.Path(dir_okay=False), default=None,
              help="Site table (CSV, Excel, Parquet, or a point layer: GeoPackage, "
                   "Shapefile, GeoJSON, ...); overrides the scenario's.")
@click.option("--column-map", multiple=True, metavar="HEADER=COLUMN",
              help="Read a site-table header as an ilac_plan column, e.g. "
                   "'Leistung=power_dbm' (repeatable).")
@click.option("--encoding", default=None, help="Text encoding of a CSV site table "
              "(default: detected; UTF-8, Windows-1252, Latin-1).")
@click.option("--sites-layer", default=None,
              help="Layer of a GeoPackage (or sheet of a workbook) holding the sites.")
@click.option("--area", type=click.Path(dir_okay=False), default=None,
              help="Planning area: any polygon layer GDAL reads (GeoPackage, Shapefile, KML, "
                   "FlatGeobuf, GeoParquet, GeoJSON) in its own CRS, or a WKT file in the "
                   "working CRS; overrides the scenario's.")
@click.option("--area-layer", default=None, help="Layer of a GeoPackage area file.")
@click.option("--exclude", "excludes", multiple=True, type=click.Path(dir_okay=False),
              help="Zones not planned (a polygon file; repeatable), added to the "
                   "scenario's exclusions.")
@click.option("--resolution-m", type=float, default=None, help="Pixel size [m] (default 5).")
@click.option("--target-error-m", type=float, default=None,
              help="Positioning target: RMSE bound sqrt(CRB) [m] (default 0.05).")
@click.option("--max-capacity-loss", type=float, default=None,
              help="Alternative objective: lowest error for at most this fraction of capacity.")
@click.option("--schemes", multiple=True, help="Allocation schemes (see 'ilac-plan schemes').")
@click.option("--scheme-param", "scheme_param", multiple=True, metavar="SCHEME.KEY=VALUE",
              help="A scheme parameter, e.g. 'tdd.dl_fraction=0.6' (repeatable; see "
                   "'ilac-plan schemes'); the scenario's [schemes] params in TOML.")
@click.option("--propagation", default=None, help="Propagation model name (see 'ilac-plan "
              "models').")
@click.option("--propagation-param", "propagation_param", multiple=True, metavar="KEY=VALUE",
              help="A parameter of the propagation model, e.g. 'reliability=0.95' "
                   "(repeatable); the scenario's [propagation] params in TOML.")
@click.option("--antenna", type=click.Choice(["3gpp", "horizontal", "omni"]), default=None,
              help="Cell antenna: the TR 38.901 3-D pattern with the sites' heights and tilts "
                   "(default), its horizontal cut, or none.")
@bound_options()
@click.option("--positioning", type=click.Choice(["serving", "network"]), default=None,
              help="Position bound of the split search: the serving cell's (default), or the "
                   "fused bound of the strongest cells (network positioning).")
@click.option("--n-cells", type=click.IntRange(1, 8), default=None,
              help="Cells fused by --positioning network (default 4).")
@click.option("--measurements", type=click.Choice(["toa_aoa", "tdoa", "aoa"]), default=None,
              help="Network measurements: synchronised ToA and AoA, time differences and "
                   "AoA, or AoA only (default toa_aoa).")
@click.option("--prs-interference/--no-prs-interference", default=None,
              help="Network positioning: the other cells' PRS on a cell's slot interfere "
                   "(default: orthogonal).")
@click.option("--prs-reuse", type=click.IntRange(1, 64), default=None,
              help="PRS reuse factor of network positioning: each cell gets 1/reuse of the "
                   "positioning resource (default 1).")
@click.option("--drop-seed", type=click.IntRange(0, 2**63 - 1), default=None,
              help="A random drop instead of the deterministic losses: per link a LOS state "
                   "and a shadow-fading draw of the propagation model (a TR 38.901 "
                   "scenario), from this seed; the same map for any tiling or engine.")
@click.option("--crs", default=None, help="Working CRS, projected in metres, e.g. EPSG:32632.")
@click.option("--max-points", type=int, default=None, help="Refuse grids with more pixels.")
@click.option("--threads", "n_threads", type=int, default=None, help="Kernel threads.")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local",
              show_default=True, help="Run tiles on a local thread pool or on Dask.")
@click.option("--scheduler", default=None,
              help="Dask scheduler address (default: start a LocalCluster).")
@click.option("--workers", "n_workers", type=int, default=None,
              help="Local threads or LocalCluster workers.")
@click.option("--tile-px", type=int, default=None, help="Tile side in pixels.")
@click.option("--formats", multiple=True,
              help="Outputs: a list (tif gpkg geojson kml fgb parquet cells summary cdf png, "
                   "or all) or changes to the default set (+kml -png). Default: tif gpkg "
                   "geojson cells summary cdf png.")
@click.option("--stream/--in-memory", default=None,
              help="Write the rasters tile by tile as they are computed (bounded memory), or "
                   "keep them in memory and write them at the end (same files). Default: in "
                   "memory when the estimate is within --max-memory-gb, else streamed.")
@click.option("--max-memory-gb", type=float, default=None,
              help="Memory bound of the run [GiB] (default 2): --in-memory above it is "
                   "refused, and the default switches to streaming.")
@click.option("--keep-checkpoints", is_flag=True,
              help="Keep OUT/.ilac-checkpoints after a successful run.")
@click.option("--no-geotiff", is_flag=True, help="Same as --formats -tif.")
@click.option("--no-png", is_flag=True, help="Same as --formats -png.")
@click.option("--report", "report", is_flag=True,
              help="Also write OUT/report.html, the interactive report (same as --formats "
                   "+html; needs bokeh: pip install 'ilac-plan[report]').")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars, no summary on stdout.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Output folder (created if missing).")
def map_command(scenario_path, sites, column_map, encoding, sites_layer, area, area_layer,
                excludes, resolution_m, target_error_m, max_capacity_loss, schemes,
                scheme_param, propagation, propagation_param, antenna, bound, epre, dl_prs,
                positioning, n_cells, measurements, prs_reuse, prs_interference, drop_seed,
                crs, max_points, n_threads, engine,
                scheduler, n_workers, tile_px, formats, stream, max_memory_gb,
                keep_checkpoints, no_geotiff, no_png, report, quiet, out_dir):
    """Plan a coverage area: best-scheme regions, tables, rasters, map and manifest.

    Writes into OUT: coverage.tif, best_scheme.tif and serving_cell.tif (Cloud-Optimized
    GeoTIFFs), regions.gpkg and regions.geojson, summary.csv, schemes.csv, cells.csv,
    cdf.csv, map.png, manifest.json and scenario.toml (which reproduces the run).
    Options override the scenario file, which overrides the built-in default scenario.
    Finished tiles are checkpointed in OUT/.ilac-checkpoints: the same command started
    again after an interruption resumes.
    """
    from .exports import parse_formats
    from .planner import plan_to_folder
    from .scenario import default_scenario, load_scenario, parse_scenario, to_inputs

    if not out_dir.strip():
        raise click.BadParameter("must name a folder", param_hint="--out")
    if engine == "dask" and scheduler is not None:
        from .engine import check_scheduler

        check_scheduler(scheduler)          # before anything is read or written
    base = load_scenario(scenario_path) if scenario_path else default_scenario()
    chosen = parse_formats(formats or base.output.formats)
    chosen = [f for f in chosen if not (no_geotiff and f == "tif")
              and not (no_png and f == "png")]
    if not chosen:
        raise click.BadParameter("--no-geotiff/--no-png leave nothing to write",
                                 param_hint="--formats")
    if report:
        chosen = parse_formats(list(chosen) + ["html"])
    if n_workers is not None and n_workers < 1:
        raise click.BadParameter("must be >= 1", param_hint="--workers")
    data = base.model_dump()
    if sites:
        data["sites"] = {"file": str(Path(sites).resolve()) if Path(sites).exists() else sites}
        if not scenario_path:       # the built-in scenario's place and name are its layout's
            data["crs"] = None
            data["name"] = Path(sites).stem
    if column_map or encoding or sites_layer:
        if not data["sites"].get("file"):
            raise click.UsageError("--column-map, --encoding and --sites-layer apply to a "
                                   "site file (--sites or the scenario's [sites] file)")
        pairs = {}
        for item in column_map:
            old, eq, new = item.rpartition("=")
            if not eq or not old.strip() or not new.strip():
                raise click.BadParameter(f"expected HEADER=COLUMN; got {item!r}",
                                         param_hint="--column-map")
            pairs[old.strip()] = new.strip()
        data["sites"]["column_map"] = {**data["sites"].get("column_map", {}), **pairs}
        if encoding:
            data["sites"]["encoding"] = encoding
        if sites_layer:
            data["sites"]["layer"] = sites_layer
    if area:
        data["area"] = {**data["area"], "file": str(Path(area).resolve())
                        if Path(area).exists() else area, "wkt": None, "margin_m": None}
    if area_layer:
        data["area"]["layer"] = area_layer
    for path in excludes:
        if not Path(path).is_file():
            raise click.BadParameter(f"no such file {path!r}", param_hint="--exclude")
        data["area"]["exclusions"] = list(data["area"]["exclusions"]) + [
            str(Path(path).resolve())]
    if resolution_m is not None:
        data["grid"]["resolution_m"] = resolution_m
    if max_points is not None:
        data["grid"]["max_points"] = max_points
    if tile_px is not None:
        data["grid"]["tile_px"] = tile_px
    if target_error_m is not None or max_capacity_loss is not None:
        data["objective"] = {"target_error_m": target_error_m,
                             "max_capacity_loss": max_capacity_loss}
    if schemes:
        data["schemes"]["names"] = list(schemes)
        data["schemes"]["params"] = {k: v for k, v in data["schemes"]["params"].items()
                                     if k in schemes}
    if propagation:
        data["propagation"]["model"] = propagation
        data["propagation"]["params"] = {}
    for name, values in _scheme_params(scheme_param).items():
        data["schemes"]["params"].setdefault(name, {}).update(values)
    for item in propagation_param:
        key, value = _key_value(item, "--propagation-param", "KEY=VALUE")
        data["propagation"]["params"][key] = value
    if antenna:
        data["propagation"]["antenna"] = antenna
        data["propagation"]["sector_pattern"] = None
    if drop_seed is not None:
        data["propagation"]["drop_seed"] = drop_seed
    for key, value in (("bound", bound), ("epre", epre), ("dl_prs", dl_prs),
                       ("mode", positioning), ("n_cells", n_cells),
                       ("measurements", measurements), ("prs_reuse", prs_reuse),
                       ("prs_interference", prs_interference)):
        if value is not None:
            data["positioning"][key] = value
    if crs:
        data["crs"] = crs
    data["output"] = {"formats": chosen}
    scenario = parse_scenario(data, "(with command-line options)")
    inputs = to_inputs(scenario)
    _prefetch_imports()
    written, products, notes = plan_to_folder(
        inputs, out_dir, formats=chosen, stream=stream, progress=not quiet,
        max_memory_gb=max_memory_gb, n_threads=n_threads, engine=engine, n_workers=n_workers,
        scheduler=scheduler, checkpoint_dir=out_dir)
    if products.checkpoints is not None and not keep_checkpoints:
        from ._outdir import locked

        with locked(out_dir):            # not under a run that started meanwhile
            products.checkpoints.remove()
    for note in notes:
        click.echo(f"{PROG}: note: {note}", err=True)
    if not quiet:
        summary = products.stats.summary()
        click.echo(summary.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        click.echo(f"{products.n_points:,} points planned in {products.plan_time_s:.1f} s; "
                   f"wrote {', '.join(written)} to {out_dir}", err=True)


@cli.command()
@click.option("--trials", type=click.IntRange(100, 200_000), default=40000,
              show_default=True,
              help="Monte Carlo trials per communication case (positioning: trials/80); "
                   "100 to 200,000.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True,
              help="Random seed (>= 0).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="JSON report to write.")
@click.option("--plot", "plot", type=click.Path(dir_okay=False), default=None,
              help="Draw the report into this .png.")
def validate(trials, seed, out, plot):
    """Check the analytical model against Monte Carlo simulation.

    Communication: the use-and-then-forget rate of simulated MR downlink with MMSE
    channel estimates against Eq. (1) and Eq. (18), and the genie-aided rate; the uplink
    (MR combining) and TDD frames against their closed forms. Positioning:
    a maximum-likelihood ToA/AoA estimator on a simulated OFDM reference signal against
    the paper's CRBs (Eqs. 4-6), the achievable bound (--bound achievable elsewhere) and
    the simulated model's numerical Fisher information.
    """
    import json

    from ._io import atomic_path
    from .validation import plot_report
    from .validation import validate as run_validation

    _check_folder(out, "--out")
    if plot:
        from .plotting import check_plot_path

        check_plot_path(plot)
    report = run_validation(trials=trials, seed=seed)
    if plot:                 # the plot first: a failed one leaves the previous report
        plot_report(report, plot)
    with atomic_path(out) as tmp, open(tmp, "w") as fh:
        json.dump(report, fh, indent=1)
    comm = [c for c in report["cases"] if c["kind"] == "communication"]
    worst = max(abs(c["ratio"]["uatf_over_eq1"] - 1) for c in comm
                if c["inputs"]["snr_db"] >= 0)
    click.echo(f"communication: {len(comm)} cases, simulated UatF rate within "
               f"{100 * worst:.2f} % of Eq. (1) at SNR >= 0 dB")
    for kind, what in (("uplink", "its uplink counterpart"), ("tdd", "the TDD frame rate")):
        frames = [c for c in report["cases"] if c["kind"] == kind]
        if frames:
            worst = max(abs(c["ratio"]["uatf_over_closed_form"] - 1) for c in frames
                        if c["inputs"]["snr_db"] - 10 * math.log10(c["inputs"]["eps"]) >= 0)
            click.echo(f"{kind}: {len(frames)} cases, simulated UatF rate within "
                       f"{100 * worst:.2f} % of {what} at uplink SNR >= 0 dB")
    net = [c for c in report["cases"] if c["kind"] == "network"]
    if net:
        ratios = [c["position_m2"]["ratio"] for c in net]
        click.echo(f"network: {len(net)} cases (3 cells, ToA+AoA and TDoA), ML position MSE "
                   f"{min(ratios):.3f}-{max(ratios):.3f}x the fused CRB")
    pos = [c for c in report["cases"] if c["kind"] == "positioning"]
    for t in report["thresholds"]:
        n_t = t["inputs"]["n_antennas"]
        above = [c["position_m2"] for c in pos if c["inputs"]["n_antennas"] == n_t
                 and t["threshold_snr_db"] is not None
                 and c["inputs"]["snr_db"] >= t["threshold_snr_db"]]
        text = ""
        if above:
            lo = min(c["ratio"] for c in above)
            hi = max(c["ratio"] for c in above)
            text = f"; the paper's CRB_L is {lo:.2f}-{hi:.2f}x below the ML MSE there"
        click.echo(f"positioning, N_T = {n_t}: ML within 1 dB of the achievable CRB_L from "
                   f"{t['threshold_snr_db']} dB on{text}")
    click.echo(f"wrote {out}", err=True)


@cli.command()
@click.option("--scenario", type=click.Choice(["UMa", "UMi", "InH"]), required=True,
              help="TR 38.901 scenario: urban macro, urban micro street canyon, indoor "
                   "open office.")
@click.option("--carrier-ghz", type=click.Choice(["6", "30", "70"]), required=True,
              help="Carrier frequency [GHz].")
@click.option("--drops", type=click.IntRange(1, 10_000), default=400, show_default=True,
              help="Independent drops, 1 to 10,000.")
@click.option("--ues-per-cell", type=click.IntRange(1, 1_000), default=10, show_default=True,
              help="UEs per cell in each drop, 1 to 1,000.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True,
              help="Random seed (>= 0); a run is a function of it.")
@click.option("--with-noise", is_flag=True,
              help="Geometry with the thermal noise, S/(I+N) (default S/I, as the 3GPP "
                   "reference curves).")
@click.option("--engine", "engine", type=click.Choice(["kernel", "numpy"]), default="kernel",
              show_default=True,
              help="Links through the planner's kernel (evaluate with a random drop and the "
                   "panel antenna) or numpy (every formula written out).")
@click.option("--indoor-los-distance", type=click.Choice(["total", "outdoor"]),
              default="total", show_default=True,
              help="2-D distance of an indoor UE's LOS probability: the whole one (TR "
                   "38.900, the reference's) or its outdoor part d2D-out (TR 38.901).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="CSV to write: percentile, coupling_loss_db, geometry_db (5..95 %).")
@click.option("--plot", "plot", type=click.Path(dir_okay=False), default=None,
              help="Draw both CDFs beside the 3GPP reference into this .png.")
def calibrate(scenario, carrier_ghz, drops, ues_per_cell, seed, with_noise, engine,
              indoor_los_distance, out, plot):
    """Reproduce the TR 38.901 large-scale calibration (Sec. 7.8.1, Table 7.8-1).

    Drops UEs on the 3GPP layout (19 sites x 3 cells with wrap-around for UMa and UMi,
    12 x 3 for InH), draws every link's LOS state and shadow fading, and writes the
    CDFs of the serving cell's coupling loss (a positive loss) and of the geometry at
    5, 10, ..., 95 %. docs/calibration.md compares them with the 3GPP reference.
    Needs the ilac-plan-3gpp plugin.
    """
    from ._io import write_csv

    _check_folder(out, "--out")
    if not str(out).lower().endswith(".csv"):
        raise click.BadParameter(f"must end in .csv; got {out!r}", param_hint="--out")
    if plot:
        from .plotting import check_plot_path

        if check_plot_path(plot) != "png":
            raise click.BadParameter(f"must end in .png; got {plot!r}", param_hint="--plot")
    cal = _calibration_module()
    result = cal.calibrate(scenario, int(carrier_ghz), drops=drops, ues_per_cell=ues_per_cell,
                           seed=seed, with_noise=with_noise, engine=engine,
                           indoor_los_distance=indoor_los_distance)
    if plot:
        cal.plot(result, plot)
    write_csv(result.table(), out)
    if not with_noise:
        cmp = result.comparison()
        click.echo(f"{scenario} {carrier_ghz} GHz, {result.coupling_loss_db.size:,} UEs: "
                   f"largest difference to the 3GPP reference (5-95 %): coupling loss "
                   f"{cmp['coupling_loss_diff_db'].abs().max():.2f} dB, geometry "
                   f"{cmp['geometry_diff_db'].abs().max():.2f} dB")
    click.echo(f"wrote {out}" + (f" and {plot}" if plot else ""), err=True)


def _calibration_module():
    """ilac_plan_3gpp.calibration, or a one-line refusal when the plugin is missing."""
    try:
        from ilac_plan_3gpp import calibration
    except ImportError:
        raise click.UsageError("calibrate needs the ilac-plan-3gpp plugin "
                               "(pip install ./plugins/ilac-plan-3gpp)") from None
    return calibration


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="The HTML file to write (default FOLDER/report.html).")
@click.option("--basemap", default=None, metavar="URL",
              help="Draw web map tiles under the plan (an XYZ template such as "
                   "https://tile.openstreetmap.org/{z}/{x}/{y}.png); the page then loads "
                   "them when opened online. Without it the page makes no network request.")
def report(folder, out, basemap):
    """Write the interactive HTML report of the plan in FOLDER.

    One self-contained file (works offline, opened by double-click): the map with
    switchable layers and a readout of every value under the cursor, the sites, the
    best-scheme partition, the per-cell table, the CDFs per scheme and the scenario.
    It reads only the files the plan wrote, so a copied output folder works too.
    """
    from .report import write_report

    path = write_report(folder, out, basemap=basemap)
    click.echo(f"wrote {path}", err=True)


@cli.command()
@click.argument("a", type=click.Path(file_okay=False))
@click.argument("b", type=click.Path(file_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="The comparison's output folder.")
@click.option("--resample", type=click.Choice(["nearest", "bilinear"]), default=None,
              help="Bring B onto A's grid when the plans' grids or CRSs differ (otherwise "
                   "refused); categories are always taken nearest.")
@click.option("--basemap", default=None, metavar="URL",
              help="Web map tiles under the report's maps (an XYZ URL template).")
def compare(a, b, out_dir, resample, basemap):
    """Compare two plans A and B (output folders of 'ilac-plan map').

    Writes into OUT: diff.tif (B - A: capacity, error, positioning share and SNR of the
    best scheme, scheme changed), scheme_change.tif (categories "A scheme -> B scheme"),
    moved.csv (area moved between schemes), cell_changes.csv, report.html (both maps
    side by side with linked pan and zoom, and the difference layers) and manifest.json.
    """
    from .compare import compare_plans

    if not out_dir.strip():
        raise click.BadParameter("must name a folder", param_hint="--out")
    names = compare_plans(a, b, out_dir, resample=resample, basemap=basemap)
    click.echo(f"wrote {', '.join(sorted(names))} to {out_dir}", err=True)


def _scheme_params(items):
    """``{scheme: {key: value}}`` from ``SCHEME.KEY=VALUE`` options."""
    out = {}
    for item in items:
        key, value = _key_value(item, "--scheme-param", "SCHEME.KEY=VALUE")
        name, dot, param = key.partition(".")
        if not dot or not name or not param:
            raise click.BadParameter(f"expected SCHEME.KEY=VALUE; got {item!r}",
                                     param_hint="--scheme-param")
        out.setdefault(name, {})[param] = value
    return out


def _key_value(item, option, form):
    """``KEY=VALUE`` with VALUE read as a TOML value (numbers, true/false, "text"), bare
    words as text."""
    from .scenario import tomllib          # tomli on Python 3.10

    key, eq, raw = item.partition("=")
    if not eq or not key.strip() or not raw.strip():
        raise click.BadParameter(f"expected {form}; got {item!r}", param_hint=option)
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key.strip(), value


def _parameters_cell(parameters, as_json):
    """A listing's parameters: dicts for JSON, ``name=default unit, ...`` for a table."""
    if as_json:
        return [p.to_dict() for p in parameters]
    return ", ".join(f"{p.name}={p.default}{' ' + p.unit if p.unit else ''}"
                     + (f" (run's {p.geometry})" if getattr(p, "geometry", None) else "")
                     for p in parameters)


def _emit(rows, as_json, columns):
    """Print rows as JSON or as an aligned text table."""
    import json

    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    widths = {c: max([len(c)] + [len(str(r.get(c) or "")) for r in rows]) for c in columns}
    click.echo("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    for r in rows:
        click.echo("  ".join(str(r.get(c) or "").ljust(widths[c]) for c in columns).rstrip())


def _list_registered(table, as_json, extra):
    """Rows of a registry table (schemes or models): name, plugin, version, parameters,
    description, and the columns ``extra(obj)`` adds."""
    rows = []
    for name, entry in table.items():
        obj, info = entry.obj, entry.plugin
        rows.append({"name": name, **extra(obj), "plugin": info.name,
                     "distribution": info.distribution, "version": info.version,
                     "description": obj.description,
                     "parameters": _parameters_cell(getattr(obj, "parameters", ()), as_json)})
    return rows


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def schemes(as_json):
    """List the registered allocation schemes, with their plugin and version."""
    from .plugins import get_registry

    rows = _list_registered(get_registry().schemes, as_json, lambda s: {"kind": s.kind})
    _emit(rows, as_json, ["name", "kind", "distribution", "version", "parameters", "description"])


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def models(as_json):
    """List the registered propagation models, with their plugin and parameters, and
    whether they draw random drops (--drop-seed)."""
    from .plugins import get_registry
    from .propagation import PropagationModel

    def drop(model):
        able = type(model).build_drop is not PropagationModel.build_drop
        return {"drop": able if as_json else ("yes" if able else "no")}

    rows = _list_registered(get_registry().models, as_json, drop)
    _emit(rows, as_json, ["name", "drop", "distribution", "version", "parameters",
                          "description"])


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins(as_json):
    """List the loaded plugins (built-in and from entry points), with any load error."""
    from .plugins import get_registry

    rows = []
    for info in get_registry().plugins:
        row = info.to_dict()
        if not as_json:
            row["schemes"] = ", ".join(info.schemes)
            row["models"] = ", ".join(info.models)
            row["builtin"] = "yes" if info.builtin else "no"
            row["status"] = f"ERROR: {info.error}" if info.error else "ok"
        rows.append(row)
    _emit(rows, as_json, ["name", "distribution", "version", "builtin", "schemes", "models",
                          "status"])


def main(argv=None):
    """Entry point of the ``ilac-plan`` console script."""
    return cli.main(args=argv, prog_name=PROG)


if __name__ == "__main__":  # pragma: no cover
    main()
