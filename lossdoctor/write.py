"""Where a report is written: a file replaced whole or not at all, or a file appended to."""

from __future__ import annotations

import contextlib
import os

from lossdoctor.errors import InputError
from lossdoctor.render.escape import visible


def write_text(path: str, text: str, what: str, *, append: bool = False) -> None:
    """Replace `path` with `text` whole or not at all: a failed write leaves the previous file as
    it was. Appending (the job summary) and a path that is no regular file (/dev/stdout, a pipe)
    are written in place. `what` names the file in the error (exit 2)."""
    try:
        target = os.path.realpath(path)  # through a symbolic link, which stays one
        if not append and (not os.path.exists(target) or os.path.isfile(target)):
            _replace(target, text.encode("utf-8"))
            return
        with open(path, "a" if append else "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as error:
        raise InputError(f"cannot write {what} {visible(path)}: {error.strerror}") from None


def _replace(target: str, data: bytes) -> None:
    """A temporary file beside `target`, written and synced, then renamed over it: readers see
    the old file or the new one, never a truncated one. The permissions are the old file's, or
    what the umask gives a new one."""
    import tempfile

    directory, name = os.path.split(target)
    if os.path.exists(target):
        mode = os.stat(target).st_mode & 0o7777
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
