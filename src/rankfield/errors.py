"""Exceptions shared by all rankfield packages.

:class:`InputError` marks a problem with what the user gave (a file, a shape, a config value).
The CLI turns it into a one-line message and exit code 2, without a traceback.
"""


class InputError(ValueError):
    """Bad user input: an unreadable file, a wrong shape, an invalid config value."""


class TrainingDivergedError(RuntimeError):
    """The loss became NaN/Inf during training. The message names the last good checkpoint."""
