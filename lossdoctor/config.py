"""Project settings, so that CI and a developer's terminal run the same checks and gates.

This module reads a config file into the fields of `lossdoctor.settings.Settings`, and holds
the readers of values that the command line and `diagnose()` share with the file.

They live under `[tool.lossdoctor]` in pyproject.toml or at the top level of lossdoctor.toml,
found from the current directory upwards; the command line wins over the file, key by key. A
file that lossdoctor cannot fully understand is refused (exit 2): a typo in a gate must not
silently switch the gate off.
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lossdoctor.checks import BY_ID
from lossdoctor.checks.base import Severity
from lossdoctor.errors import InputError
from lossdoctor.gates import ID as GATE_ID
from lossdoctor.gates import Gate, parse_gate
from lossdoctor.io.segments import SEGMENT_CHECKS, parse_by
from lossdoctor.io.sources import open_regular
from lossdoctor.settings import FAIL_ON

PYPROJECT = "pyproject.toml"
DEDICATED = "lossdoctor.toml"  # wins over pyproject.toml in the same directory
SEVERITIES = {str(s): s for s in sorted(Severity, reverse=True)}
# A config is a few lines. Past this size a path names something else (a log, /dev/zero), and
# reading it whole would only fill memory before the parser could say so.
MAX_CONFIG_BYTES = 1 << 20


def project_config(
    path: str | None, *, use: bool = True, start: Path | None = None
) -> dict[str, Any]:
    """The settings the config a run uses says (field of Settings -> value): `path`
    (--config), else the one found upwards from `start` (the current directory); nothing with
    `use=False` (--no-config)."""
    if not use:
        return {}
    found = Path(path) if path is not None else find_config(start or Path.cwd())
    return load_config(found) if found is not None else {}


def find_config(start: Path) -> Path | None:
    """The first lossdoctor.toml, or pyproject.toml with [tool.lossdoctor], from `start` up."""
    start = start.resolve()
    for directory in (start, *start.parents):
        dedicated = directory / DEDICATED
        if dedicated.is_file():
            return dedicated
        pyproject = directory / PYPROJECT
        if pyproject.is_file() and _has_section(pyproject):
            return pyproject
    return None


def _has_section(pyproject: Path) -> bool:
    # A pyproject.toml that never names lossdoctor is not parsed: a broken one elsewhere in
    # the tree is not ours to refuse.
    try:
        if b"lossdoctor" not in _read_bytes(pyproject):
            return False
    except InputError:  # unreadable, or not a config: not ours either
        return False
    return _section(pyproject, _read_toml(pyproject)) is not None


def load_config(path: Path) -> dict[str, Any]:
    """The validated settings of one file; an InputError naming the file and key otherwise."""
    table = _section(path, _read_toml(path))
    if table is None:
        raise InputError(f"{path}: no [tool.lossdoctor] table; add one, or pass --no-config")
    where = f"{path}: [tool.lossdoctor]" if path.name == PYPROJECT else f"{path}:"
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in KEYS:
            from difflib import get_close_matches  # for a typo's hint only

            close = get_close_matches(key, KEYS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise InputError(f"{where} unknown key {key!r}{hint}; keys: {', '.join(KEYS)}")
        field_name, read = KEYS[key]
        values[field_name] = read(value, f"{where} {key}")
    return values


def _read_toml(path: Path) -> dict[str, Any]:
    # imported when a config is found: most runs have none
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # the same parser, before it joined the standard library
        import tomli as tomllib
    try:
        return tomllib.loads(_read_bytes(path).decode("utf-8"))
    except ValueError as error:  # TOMLDecodeError, or bytes that are not UTF-8
        raise InputError(f"{path}: not valid TOML: {error}") from None
    except RecursionError:  # the parser recurses once per level of nested arrays and tables
        raise InputError(
            f"{path}: nested too deeply to be a lossdoctor config; check the file"
        ) from None


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, if it is a regular file of at most MAX_CONFIG_BYTES."""
    try:
        with open_regular(path) as f:
            data = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise InputError(f"{path}: cannot read the config: {error.strerror}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise InputError(
            f"{path}: larger than {MAX_CONFIG_BYTES // 2**20} MB, which no lossdoctor config "
            "is; check the path"
        )
    return data


def _section(path: Path, data: dict[str, Any]) -> dict[str, Any] | None:
    if path.name != PYPROJECT:
        return data
    table = data.get("tool", {}).get("lossdoctor") if isinstance(data.get("tool"), dict) else None
    if table is not None and not isinstance(table, dict):
        raise InputError(f"{path}: tool.lossdoctor must be a table, [tool.lossdoctor]")
    return table


# ---- one reader per key: the value as the command line would give it, or an InputError ------


def _kind(value: Any) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "a list",
        dict: "a table",
    }
    return names.get(type(value), f"a {type(value).__name__}")


def _wrong(where: str, wanted: str, value: Any) -> InputError:
    return InputError(f"{where}: expected {wanted}, got {value!r} ({_kind(value)})")


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _wrong(where, "a list of strings", value)
    return value


def _fail_on(value: Any, where: str) -> str:
    if value not in FAIL_ON:
        raise _wrong(where, f"one of {', '.join(FAIL_ON)}", value)
    return value


def _threshold(value: Any, where: str) -> float:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or not 0 <= value <= 1:
        raise _wrong(where, "a number from 0 to 1", value)
    return float(value)


def _confidence(value: Any, where: str) -> float:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or not 0 < value < 1:
        raise _wrong(where, "a number between 0 and 1, e.g. 0.95", value)
    return float(value)


def _alpha(value: Any, where: str) -> float:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or not 0 < value < 1:
        raise _wrong(where, "a number between 0 and 1, e.g. 0.05", value)
    return float(value)


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _wrong(where, "true or false", value)
    return value


def gates_of(value: Any, where: str) -> tuple[Gate, ...]:
    gates = []
    for i, text in enumerate(_strings(value, where)):
        try:
            gates.append(parse_gate(text))
        except InputError as error:
            raise InputError(f"{where}[{i}]: {error}") from None
    return tuple(gates)


def check_ids(value: Any, where: str) -> tuple[str, ...]:
    known = [*BY_ID, *SEGMENT_CHECKS]
    for check in _strings(value, where):
        if check not in known:
            raise InputError(f"{where}: unknown check {check!r}; checks: {', '.join(known)}")
    return tuple(value)


def _severity(value: Any, where: str) -> dict[str, Severity]:
    if not isinstance(value, dict):
        raise _wrong(where, "a table of check id = severity", value)
    known = [*BY_ID, GATE_ID, *SEGMENT_CHECKS]
    for check, level in value.items():
        if check not in known:
            raise InputError(f"{where}: unknown check {check!r}; checks: {', '.join(known)}")
        if level not in SEVERITIES:
            raise _wrong(f"{where}.{check}", f"one of {', '.join(SEVERITIES)}", level)
    return {check: SEVERITIES[level] for check, level in value.items()}


def _columns(value: Any, where: str) -> tuple[str, ...]:
    names = [value] if isinstance(value, str) else value
    named = isinstance(names, list) and all(isinstance(name, str) and name for name in names)
    if not named or not names:
        raise _wrong(where, "a column name or a list of them", value)
    return tuple(names)


def _column(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise _wrong(where, "a column name", value)
    return value


def _by(value: Any, where: str) -> tuple[str, ...]:
    names = _columns(value, where)
    for name in names:
        parse_by(name)
    return names


def _count(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _wrong(where, "a whole number, 0 or more", value)
    return value


def timeout_of(value: Any, where: str) -> float:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or not 0 < value < float("inf"):
        raise _wrong(where, "a number of seconds above 0", value)
    return float(value)


def parse_classes(value: Any, where: str) -> tuple[str, ...]:
    """The class order: "A,B,C" (the command line) or a list of names (the config file)."""
    names = value.split(",") if isinstance(value, str) else value
    named = (str, numbers.Integral)  # model.classes_ holds numpy integers or strings
    if isinstance(names, list) and all(
        isinstance(n, named) and n is not True and n is not False for n in names
    ):
        names = [str(name).strip() for name in names]
        if len(names) >= 2 and all(names):
            return tuple(names)
    raise _wrong(where, 'two class names or more, e.g. A,B,C or ["A", "B", "C"]', value)


# The file's keys, in the order the README lists them: (Settings field, reader).
KEYS: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    "fail-on": ("fail_on", _fail_on),
    "gates": ("gates", gates_of),
    "disable": ("disable", check_ids),
    "severity": ("severity", _severity),
    "label-col": ("label_col", _columns),
    "pred-col": ("pred_col", _columns),
    "weight-col": ("weight_col", _column),
    "classes": ("classes", parse_classes),
    "threshold": ("threshold", _threshold),
    "confidence": ("confidence", _confidence),
    "bootstrap": ("bootstrap", _count),
    "seed": ("seed", _count),
    "timeout": ("timeout", timeout_of),
    "by": ("by", _by),
    "top": ("top", _count),
    "min-segment-rows": ("min_segment_rows", _count),
    "segment-gates": ("segment_gates", gates_of),
    # lossdoctor compare's
    "alpha": ("alpha", _alpha),
    "id-col": ("id_col", _column),
    "unpaired-ok": ("unpaired_ok", _flag),
}
