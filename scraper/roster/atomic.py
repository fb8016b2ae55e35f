"""Replace a file so that a reader, or a crash, sees the old file or the new
one, never half of one; and, for a roster, only once the new text loads."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomically(path: Path, text: str, check: Callable[[Path], object] | None = None) -> None:
    """Write ``text`` beside ``path``, flush it to disk, call ``check`` on the
    new file (its exception leaves ``path`` as it was), then rename it over
    ``path``."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        else:  # mkstemp makes the file private; a new file gets the usual mode
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(temporary, 0o666 & ~mask)
        if check is not None:
            check(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
