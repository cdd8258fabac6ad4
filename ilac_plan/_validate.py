"""Input checks shared by the model functions, the kernel wrapper and the CLI.

Every check raises :class:`ilac_plan.errors.ParameterError` with one line naming the
parameter, the allowed range and the first offending value.
"""

import numpy as np

from .errors import ParameterError


def _range_text(low, high, low_open, high_open, integer):
    kind = "an integer" if integer else "a number"
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high:g}")
    return f"{kind} " + " and ".join(parts) if parts else f"a finite {kind[2:].strip()}"


def check_array(name, value, *, low=None, high=None, low_open=False, high_open=False,
                integer=False, allow_inf=False, unit="", labels=None):
    """Return ``value`` as a float64 array after checking it lies in a range.

    Parameters
    ----------
    name : str
        Parameter name used in the error message.
    value : array_like
        Value(s) to check.
    low, high : float, optional
        Bounds of the allowed range.
    low_open, high_open : bool
        Whether the bound itself is excluded.
    integer : bool
        Require whole numbers.
    allow_inf : bool
        Accept +inf (for example an infinite distance).
    unit : str
        Unit shown after the range, e.g. ``"Hz"``.
    labels : sequence, optional
        Row labels of a 1-D value (e.g. a DataFrame index): the error names the row
        instead of the element number.

    Raises
    ------
    ParameterError
        If any element is NaN, infinite (unless allowed), not whole (if required) or
        outside the range.
    """
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be numeric; got {value!r}") from None
    expected = _range_text(low, high, low_open, high_open, integer)
    suffix = f" {unit}" if unit else ""
    bad = np.isnan(arr)
    if not allow_inf:
        bad |= np.isinf(arr)
    with np.errstate(invalid="ignore"):
        if integer:
            bad |= np.isfinite(arr) & (arr != np.round(arr))
        if low is not None:
            bad |= (arr <= low) if low_open else (arr < low)
        if high is not None:
            bad |= (arr >= high) if high_open else (arr > high)
    if np.any(bad):
        flat = np.flatnonzero(bad.ravel())[0]
        if arr.ndim == 0:
            where = ""
        elif labels is not None:
            where = f" (row {labels[flat]!r})"
        else:
            where = f" (element {flat})"
        raise ParameterError(
            f"{name} must be {expected}{suffix}; got {arr.ravel()[flat]:g}{where}"
        )
    return arr


def check_scalar(name, value, **limits):
    """:func:`check_array` for one number: returns a float, refuses arrays by name."""
    arr = check_array(name, value, **limits)
    if arr.ndim != 0:
        raise ParameterError(f"{name} must be a single number; got an array of shape {arr.shape}")
    return float(arr)


def check_choice(name, value, choices):
    """Check that ``value`` is one of ``choices`` and return it."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ParameterError(f"{name} must be one of {allowed}; got {value!r}")
    return value
