"""Exceptions raised by ilac_plan."""


class ParameterError(ValueError):
    """A parameter is missing, of the wrong kind or outside its allowed range.

    The message is one line that names the parameter and the allowed range, so the
    command line can print it as it is.
    """


class OutputError(OSError):
    """An output could not be written (disk full, permissions, a file system that refuses
    renames). The message is one line; the output folder is left as it was before the
    run."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return self.message


class IlacWarning(UserWarning):
    """Something in the input was taken in a way the user should know about (a column
    not used, ids made up, a quantity not modelled). The command line prints it as one
    line."""
