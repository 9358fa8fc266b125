"""The one exception users see: bad input, told in one line."""


class InputError(Exception):
    """A file or an argument lossdoctor cannot use; the message says what to do.

    The command line prints it as one line on stderr and exits with code 2.
    """


class NotPredictions(InputError):
    """A table with no column that looks like labels or predictions: most likely some other
    data file, which `check --skip-non-predictions` (the pre-commit hook) passes over."""
