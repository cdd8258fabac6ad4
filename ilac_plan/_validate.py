"""Input checks shared by the model functions, the kernel wrapper and the CLI.

Every check raises :class:`ilac_plan.errors.ParameterError` with one line naming the
parameter, the allowed range and the first offending value.
"""

import decimal
import numbers
import os

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


def short_repr(value, limit=60):
    """``repr(value)`` cut to ``limit`` characters (errors never echo large inputs)."""
    try:
        text = " ".join(repr(value).split())
    except Exception:  # noqa: BLE001 - a repr that fails is still named
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


#: numpy kinds that are numbers (unsigned and signed integers, floats).
_NUMERIC_KINDS = "uif"


def _as_float_array(name, value):
    """``value`` as float64, refusing what only looks numeric: booleans, complex numbers,
    dates and durations, strings, ragged nestings."""
    if isinstance(value, (bool, np.bool_)):
        raise ParameterError(f"{name} must be a number, not a boolean; got {value!r}")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError, OverflowError):
        raise ParameterError(f"{name} must be a number or a regular array of numbers; got "
                             f"{short_repr(value)}") from None
    kind = raw.dtype.kind
    if kind in _NUMERIC_KINDS:
        return raw.astype(np.float64, copy=False)
    what = {"b": "booleans", "c": "complex numbers", "M": "dates", "m": "durations",
            "U": "text", "S": "bytes", "V": "records"}.get(kind)
    if what is not None:
        raise ParameterError(f"{name} must be numeric, not {what}; got {short_repr(value)}")
    try:   # an object array: real numbers of mixed Python types are fine, nothing else
        flat = raw.ravel()
        if not all(_is_real(v) for v in flat[:100_000]):
            raise TypeError
        with np.errstate(over="raise"):
            return np.asarray(raw, dtype=np.float64)
    except OverflowError:
        raise ParameterError(f"{name} must be a number within the float range; got "
                             f"{short_repr(value)}") from None
    except (TypeError, ValueError, FloatingPointError):
        raise ParameterError(f"{name} must be a number or a regular array of numbers; got "
                             f"{short_repr(value)}") from None


def _is_real(v):
    return (isinstance(v, (numbers.Real, decimal.Decimal))
            and not isinstance(v, (bool, np.bool_)))


def check_flag(name, value):
    """A switch: ``True`` or ``False`` (numpy booleans too), nothing that only looks like
    one (``0.0``, ``"no"``, ``None``, a date)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ParameterError(f"{name} must be True or False; got {short_repr(value)}")


def check_names(name, value, *, allow_empty=False):
    """One name or a list of names (strings) -> a tuple of str."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, np.ndarray) and value.dtype.kind == "U" and value.ndim == 1:
        value = [str(v) for v in value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        if not value and not allow_empty:
            raise ParameterError(f"{name} must name at least one")
        return tuple(value)
    raise ParameterError(f"{name} must be a name or a list of names (strings); got "
                         f"{short_repr(value)}")


def check_path(name, value):
    """A file or folder name: ``str`` or ``os.PathLike``, not empty."""
    if isinstance(value, (str, os.PathLike)) and os.fspath(value) != "":
        return value
    raise ParameterError(f"{name} must be a file or folder name; got {short_repr(value)}")


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
    arr = _as_float_array(name, value)
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
    try:
        ok = isinstance(value, str) and value in choices if all(
            isinstance(c, str) for c in choices) else value in choices
    except TypeError:            # an unhashable or incomparable value
        ok = False
    if not ok:
        allowed = ", ".join(repr(c) for c in choices)
        raise ParameterError(f"{name} must be one of {allowed}; got {short_repr(value)}")
    return value
