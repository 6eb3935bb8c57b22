"""Failures of the service itself.

Bad data in a cooperative's sheet is *not* an exception: it becomes an `Issue` (see
`validation.py`) and the cycle goes on. These exceptions are for the service being unable to
run at all: a broken config, an output it cannot write. The CLI maps them to exit codes in one
place.
"""


class KkmpError(Exception):
    """Base class: the service cannot do what it was asked. The message says what to fix."""

    exit_code = 1


class ConfigError(KkmpError):
    """The configuration file is missing, unreadable or has a wrong value."""

    exit_code = 2


class OutputError(KkmpError):
    """An output (the city status workbook, an outbox) cannot be written."""

    exit_code = 3


class SourceError(KkmpError):
    """The registry of cooperatives itself cannot be read (a single workbook failing is an Issue)."""

    exit_code = 4


class ServiceLocked(KkmpError):
    """Another `kkmp-sheets serve` already runs with the same data folder."""

    exit_code = 5


class NotFound(KkmpError):
    """What was asked for (a cooperative, a snapshot, a tab) is not in the history store."""

    exit_code = 6


class UsageError(KkmpError):
    """The command asks for something that cannot be: an ID not in the registry, no target."""

    exit_code = 2


class ChecksFailed(KkmpError):
    """`kkmp-sheets check` found at least one GALAT (each printed with its fix)."""

    exit_code = 7
