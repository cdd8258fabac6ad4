"""Shared numpydoc parameter descriptions, substituted into model docstrings.

Writing ``{n_antennas}`` in a docstring and decorating the function with
:func:`fill_doc` inserts the one description kept here, so a parameter is described
once for the whole model.
"""

import re

PARAMS = {
    "bandwidth_hz": """bandwidth_hz : array_like
        Total system bandwidth :math:`B`, > 0. [Hz]""",
    "n_symbols": """n_symbols : array_like, default 200
        Symbols per coherence interval :math:`\\tau_T`, an integer >= 1. [symbols]""",
    "n_antennas": """n_antennas : array_like
        Antennas of the gNB's uniform linear array :math:`N_T`, an integer >= 1.""",
    "snr_dl": """snr_dl : array_like
        Downlink received SNR per antenna :math:`\\delta = \\rho_{dl}\\beta`, > 0. [linear]""",
    "snr_ul": """snr_ul : array_like
        Uplink (pilot) received SNR per antenna :math:`\\rho_{ul}\\beta`, > 0; the
        paper's :math:`\\varepsilon = \\rho_{dl}/\\rho_{ul}` is ``snr_dl / snr_ul``. [linear]""",
    "unit": """unit : {"bit", "nat"}, default "bit"
        Logarithm of the capacity: "bit" gives bit/s (log2, the paper's Mbit/s
        figures), "nat" gives nat/s (ln, the paper's equations).""",
    "capacity_loss": """capacity_loss : array_like
        Capacity given up for positioning, between 0 and the closed-form capacity
        with all resources, :math:`\\tilde C(B, \\tau_T)`. [bit/s or nat/s, see ``unit``]""",
}


PARAMS["link"] = "\n    ".join(PARAMS[k] for k in ("n_antennas", "snr_dl", "snr_ul"))
PARAMS["link_frame"] = "\n    ".join(PARAMS[k] for k in ("link", "n_symbols", "unit"))

_PLACEHOLDER = re.compile(r"\{(" + "|".join(PARAMS) + r")\}")


def fill_doc(func):
    """Substitute the shared parameter descriptions into ``func.__doc__``.

    Only ``{name}`` with a name from :data:`PARAMS` is replaced, so LaTeX braces in
    the docstring are left alone.
    """
    if func.__doc__:
        func.__doc__ = _PLACEHOLDER.sub(lambda m: PARAMS[m.group(1)], func.__doc__)
    return func
