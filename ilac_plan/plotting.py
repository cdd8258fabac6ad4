"""Figures of the trade-off (the paper's Figs. 2 and 3), with matplotlib (extra ``plot``)."""

import numpy as np

from ._io import atomic_path
from .errors import ParameterError

SCHEME_STYLE = {"frequency": ("-", "frequency split (FDD)"), "time": (":", "time split (TDD)")}
#: Line styles of other (plugin) schemes, in name order.
_OTHER_STYLES = ("--", "-.", (0, (5, 1, 1, 1)), (0, (1, 1)))


def _require_matplotlib():
    """matplotlib's Figure, or a one-line ParameterError saying how to install it."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ParameterError(
            "plots need matplotlib: pip install 'ilac-plan[plot]'") from None
    return Figure


def _figure(n_panels):
    Figure = _require_matplotlib()
    fig = Figure(figsize=(5.2 * n_panels, 4.2), layout="constrained")
    axes = fig.subplots(1, n_panels, squeeze=False)[0]
    return fig, axes


def bound_label(bound="paper", epre="paper", dl_prs="orthogonal"):
    """The bound and energy convention of a figure, in words (for titles)."""
    text = "paper's CRB (Eqs. 5-7)" if bound == "paper" else \
        f"achievable CRB, {dl_prs} downlink PRS"
    return text + ("; equal energy per RE" if epre == "equal" else "; paper's energy convention")


def _panels(frame, draw, xlabel, ylabel, path, legend_loc, subtitle=None):
    """One panel per antenna count, one colour per SNR, one line style per scheme."""
    antennas = sorted(frame["n_antennas"].unique())
    fig, axes = _figure(len(antennas))
    snrs = sorted(frame["snr_db"].round(6).unique())
    colours = {s: f"C{i}" for i, s in enumerate(snrs)}
    for ax, n_t in zip(axes, antennas):
        sub = frame[frame["n_antennas"] == n_t]
        for (scheme, snr), curve in sub.groupby(["scheme", sub["snr_db"].round(6)], sort=True):
            if scheme in SCHEME_STYLE:
                style, label = SCHEME_STYLE[scheme]
            else:        # plugin schemes: a line style each, in name order
                others = sorted(set(frame["scheme"]) - set(SCHEME_STYLE))
                style, label = _OTHER_STYLES[others.index(scheme) % len(_OTHER_STYLES)], scheme
            draw(ax, curve, style, colours[snr], f"{label}, SNR {snr:g} dB")
        ax.set_title(f"$N_T$ = {n_t}")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc=legend_loc)
    if subtitle:
        fig.suptitle(subtitle, fontsize=10)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=130, format=_format(path))


def check_plot_path(path):
    """Return the image format of ``path`` (png, pdf or svg) or raise ParameterError
    (also when its folder does not exist: refused before any work)."""
    import os

    fmt = _format(path)
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    if not os.path.isdir(folder):
        raise ParameterError(f"plot file {os.fspath(path)!r}: no such folder {folder!r}")
    _require_matplotlib()      # before any work, not after it
    return fmt


def _format(path):
    suffix = str(path).rsplit(".", 1)[-1].lower() if "." in str(path) else ""
    if suffix not in {"png", "pdf", "svg"}:
        raise ParameterError(f"plot file must end in .png, .pdf or .svg; got {path!r}")
    return suffix


def _plot(frame, path, x, y, xlabel, ylabel, legend_loc, subtitle=None):
    """Draw column functions ``x`` and ``y`` of each curve of a trade-off frame."""
    _format(path)

    def draw(ax, curve, style, colour, label):
        ax.plot(x(curve), y(curve), style, color=colour, label=label)

    _panels(frame, draw, xlabel, ylabel, path, legend_loc, subtitle)


def plot_tradeoff(frame, path, subtitle=None):
    """Capacity against position CRB, as the paper's Fig. 2.

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`ilac_plan.tradeoff.tradeoff_curves`.
    path : str or os.PathLike
        Image file (.png, .pdf or .svg), written atomically.
    subtitle : str, optional
        Figure title, e.g. :func:`bound_label` of the curves' bound.
    """
    _plot(frame, path, lambda c: 10 * np.log10(c["crb_m2"]), lambda c: c["capacity_bps"] / 1e6,
          "position CRB [dB re 1 m²]", "capacity [Mbit/s]", "lower right", subtitle)


def plot_losses(frame, path, subtitle=None):
    """Capacity loss against CRB loss, as the paper's Fig. 3.

    Parameters are those of :func:`plot_tradeoff`.
    """
    _plot(frame, path, lambda c: c["capacity_loss_bps"] / 1e6,
          lambda c: 10 * np.log10(c["crb_loss"]), "capacity loss [Mbit/s]", "CRB loss [dB]",
          "upper right", subtitle)
