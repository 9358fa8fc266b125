"""What a dataset is made of: its files, found under a directory or by a glob, and the checks
that make them one table. Every engine finds files here, the same way, on a filesystem.

Files are taken in sorted path order (component by component, so a directory's files come
together). Names starting with '.' or '_' (_SUCCESS, _metadata, .crc) are skipped, as pyarrow
does, unless the path names the file itself. Symlinks are followed, each directory once: a link
that leads back to a directory already searched is not searched again. Only regular files are
read (a FIFO would block the read, a device never end), each once whatever links lead to it.

A filesystem is this machine's (`LOCAL`), or any fsspec filesystem (`FsspecFiles`), where
objects have no links to follow.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Protocol

from lossdoctor.errors import InputError
from lossdoctor.io.sources import EXTENSIONS, MAGIC, head_bytes, reading

if TYPE_CHECKING:
    import pyarrow as pa
    from fsspec import AbstractFileSystem

GLOB_CHARS = frozenset("*?[")
PARTITIONINGS = ("hive",)
_WALKED = -1  # a directory's visit by a walk, where a glob's visit is the pattern's position


class Filesystem(Protocol):
    """What discovery asks of a filesystem."""

    def entries(self, directory: str) -> list[tuple[str, bool]]:
        """The names in a directory, and whether each is a directory (a link to one is)."""

    def identity(self, path: str) -> Hashable | None:
        """What two paths to the same file or directory share; None for a dangling path."""

    def is_dir(self, path: str) -> bool: ...

    def is_regular(self, path: str) -> bool: ...

    def head(self, path: str, size: int) -> bytes: ...


class LocalFiles:
    """This machine's filesystem; paths as given, '' for the current directory."""

    def entries(self, directory: str) -> list[tuple[str, bool]]:
        with os.scandir(directory or ".") as found:
            return [(entry.name, entry.is_dir()) for entry in found]

    def identity(self, path: str) -> Hashable | None:
        try:
            status = os.stat(path or ".")
        except OSError:  # vanished, or a dangling link
            return None
        return status.st_dev, status.st_ino

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(path or ".")

    def is_regular(self, path: str) -> bool:
        try:
            return stat.S_ISREG(os.stat(path).st_mode)
        except OSError:
            return False

    def head(self, path: str, size: int) -> bytes:
        return head_bytes(path, size)


class FsspecFiles:
    """An fsspec filesystem (s3, gcs, abfs, ...): paths are its own, without a protocol."""

    def __init__(self, fs: AbstractFileSystem) -> None:
        self.fs = fs

    def entries(self, directory: str) -> list[tuple[str, bool]]:
        found = self.fs.ls(directory, detail=True)
        return [(PurePosixPath(e["name"]).name, e.get("type") == "directory") for e in found]

    def identity(self, path: str) -> Hashable | None:
        return path.rstrip("/") if self.fs.exists(path) else None

    def is_dir(self, path: str) -> bool:
        return self.fs.isdir(path)

    def is_regular(self, path: str) -> bool:
        return self.fs.info(path).get("type") == "file"

    def head(self, path: str, size: int) -> bytes:
        return self.fs.cat_file(path, start=0, end=size)


LOCAL = LocalFiles()


def is_dataset(path: str) -> bool:
    """A directory, or a glob pattern lossdoctor expands itself; a file is not a dataset."""
    try:
        if Path(path).is_file():
            return False
        return Path(path).is_dir() or not GLOB_CHARS.isdisjoint(path)
    except OSError:  # a name too long for the file system: the file reader says so
        return False


def check_partitioning(partitioning: str | None) -> None:
    if partitioning is not None and partitioning not in PARTITIONINGS:
        raise InputError(
            f"unknown partitioning {partitioning!r}; use {' or '.join(PARTITIONINGS)}, or none"
        )


def find_files(path: str, fs: Filesystem = LOCAL) -> tuple[list[tuple[str, str | None]], str]:
    """Every file of the dataset at `path` (a directory, searched recursively; a glob; or one
    file) with its format (None: not one lossdoctor reads), in sorted path order; and the
    directory that hive partitions are named under."""
    seen: set[Hashable] = set()
    if fs.is_dir(path):
        matches, base = [path], path
    elif GLOB_CHARS.isdisjoint(path):
        if fs.identity(path) is None:
            raise InputError(no_match(path))
        matches, base = [path], os.path.dirname(path)
    else:
        prefix, pattern = split_glob(path)
        base = prefix or "."
        with reading(path, "a glob", (OSError,)):
            matches = _glob(fs, prefix, pattern, seen)
        if not matches:
            raise InputError(no_match(path))
    candidates: list[str] = []
    for match in matches:
        if fs.is_dir(match):
            candidates += _walk(fs, match, seen)
        elif match == path or not hidden(match):
            candidates.append(match)
    return [(f, file_format(fs, f)) for f in _once(fs, candidates)], base


def hidden(path: str) -> bool:
    """Whether a name is left out of a dataset: it starts with '.' or '_'."""
    return os.path.basename(path.rstrip("/" + os.sep)).startswith((".", "_"))


def file_format(fs: Filesystem, file: str) -> str | None:
    """The format from the extension, else Parquet or Arrow (among others) by magic bytes."""
    fmt = EXTENSIONS.get(PurePosixPath(file).suffix.lower())
    if fmt is not None:
        return fmt
    head = fs.head(file, 8)
    return next((fmt for magic, fmt in MAGIC if head.startswith(magic)), None)


def split_glob(pattern: str) -> tuple[str, tuple[str, ...]]:
    """The directory before the first component with a wildcard ('' for none; hive names are
    read below it), and the components from there on."""
    parts = Path(pattern).parts
    fixed = next((i for i, part in enumerate(parts) if not GLOB_CHARS.isdisjoint(part)), 0)
    return (str(Path(*parts[:fixed])) if fixed else ""), parts[fixed:]


def no_match(path: str) -> str:
    if GLOB_CHARS.isdisjoint(path):
        return f"{path}: no such file or directory; check the path"
    return (
        f"no file matches {path}; check the pattern (quote it, so that lossdoctor expands it "
        "and not the shell)"
    )


def relative(files: Iterable[str], base: str) -> list[str]:
    return sorted(os.path.relpath(f, base) for f in files)


def check_schemas(
    files: Sequence[str],
    schemas: Sequence[pa.Schema],
    columns: Sequence[str],
    source: str,
    keys: Sequence[str] = (),
) -> None:
    """Every file has the chosen columns once, with the first file's types (other columns may
    vary); hive keys that no file stores are left out."""
    first = files[0]
    stored = [c for c in columns if c not in keys or c in schemas[0].names]
    for file, schema in zip(files, schemas, strict=True):
        for name in stored:
            found = len(schema.get_all_field_indices(name))
            if not found:
                raise InputError(
                    f"{file} has no column {name!r}, which {first} has; write every "
                    f"file of {source} with the same columns"
                )
            if found > 1:
                raise InputError(
                    f"column {name!r} appears {found} times in {file}; write each column once"
                )
            want, got = schemas[0].field(name).type, schema.field(name).type
            if got != want:
                raise InputError(
                    f"column {name!r} is {want} in {first} but {got} in {file}; "
                    f"write every file of {source} with the same column types"
                )


def _glob(fs: Filesystem, base: str, pattern: tuple[str, ...], seen: set[Hashable]) -> list[str]:
    """What the pattern's components match below base, as glob does (`**` is any number of
    directories; wildcards match no hidden name) but following each directory once (glob would
    go round a symlink loop forty times, and through two loops 2**40 times)."""
    matches: list[str] = []
    stack = [(base, 0)]
    while stack:
        directory, at = stack.pop()
        if at == len(pattern):
            matches.append(directory)
            continue
        if not _first_visit(fs, directory, at, seen):
            continue
        component, last = pattern[at], at + 1 == len(pattern)
        for name, is_dir in fs.entries(directory):
            if component == "**":
                if is_dir and not name.startswith("."):
                    stack.append((os.path.join(directory, name), at))
            elif (is_dir or last) and _matches(name, component):
                stack.append((os.path.join(directory, name), at + 1))
        if component == "**":  # and none at all
            stack.append((directory, at + 1))
    return matches


def _matches(name: str, component: str) -> bool:
    """As glob: a wildcard matches no hidden name; a component starting with '.' may."""
    is_hidden = name.startswith(".") and not component.startswith(".")
    return not is_hidden and fnmatch.fnmatchcase(name, component)


def _first_visit(fs: Filesystem, directory: str, at: int, seen: set[Hashable]) -> bool:
    """Whether a directory is searched for the first time (for this part of the pattern)."""
    identity = fs.identity(directory)
    if identity is None or (identity, at) in seen:
        return False
    seen.add((identity, at))
    return True


def _walk(fs: Filesystem, directory: str, seen: set[Hashable]) -> list[str]:
    """Every file under directory, skipping hidden and '_' names (and what is under them);
    symlinks to directories are followed, each directory once."""
    found: list[str] = []
    stack = [directory]
    with reading(directory, "a directory", (OSError,)):
        while stack:
            current = stack.pop()
            if not _first_visit(fs, current, _WALKED, seen):
                continue
            for name, is_dir in fs.entries(current):
                if hidden(name):
                    continue
                (stack if is_dir else found).append(os.path.join(current, name))
    return found


def _once(fs: Filesystem, files: list[str]) -> list[str]:
    """Regular files only, each once: the first path in sorted order of a file that several
    links lead to."""
    kept, identities = [], set()
    for file in sorted(files, key=lambda f: Path(f).parts):
        identity = fs.identity(file)
        if identity is not None and identity not in identities and fs.is_regular(file):
            identities.add(identity)
            kept.append(file)
    return kept
