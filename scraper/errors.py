"""Errors that the CLI turns into messages and exit codes.

Exit codes (documented in the README):
0 all sources fine; 1 some sources failed (the others were archived);
2 usage or configuration error; 3 archive locked by another process;
4 archive cannot be opened or written (read-only, not a database);
5 ``reactions merge`` refused an input (newer or unknown schema, damaged,
the output itself): nothing was changed.
"""


class ReactionArchiveError(Exception):
    exit_code = 1


class ConfigError(ReactionArchiveError):
    """A config file is malformed: the message names the file, key path and line."""

    exit_code = 2

    def __init__(self, message, path=None, key=None, line=None):
        self.message = message
        self.path = path
        self.key = key
        self.line = line
        where = []
        if path:
            where.append(str(path) + (f":{line}" if line else ""))
        if key:
            where.append(f"key '{key}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class InputError(ReactionArchiveError):
    """An input file or URL given on the command line cannot be read at all."""

    exit_code = 2


class ArchiveLockedError(ReactionArchiveError):
    exit_code = 3


class ArchiveUnwritableError(ReactionArchiveError):
    exit_code = 4


class SourceError(ReactionArchiveError):
    """One source failed (network, refusal, unknown account). Others go on."""

    exit_code = 1


class ParseFailure(ReactionArchiveError):
    """A raw item could not be turned into a post; it is recorded, not dropped."""


class MergeRefused(ReactionArchiveError):
    """An archive cannot be merged (newer or unknown schema, damaged, the
    output itself): nothing was changed."""

    exit_code = 5
