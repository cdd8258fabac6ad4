"""Exceptions raised by ilac_plan."""


class ParameterError(ValueError):
    """A parameter is missing, of the wrong kind or outside its allowed range.

    The message is one line that names the parameter and the allowed range, so the
    command line can print it as it is.
    """
