"""JSON Lines (.jsonl, .ndjson, or .json holding one object per line), read with pyarrow's JSON
reader: scalar fields become columns, a list field (`"probs": [0.1, 0.9]`) a list column.

A JSON array (`[{...}, {...}]`) is not JSON Lines: it is refused with the command that
converts it, as reading it would take the whole document into Python objects first.
"""

from __future__ import annotations

from lossdoctor.errors import InputError
from lossdoctor.io.arrow import _arrow_columns, _arrow_errors, _dedup
from lossdoctor.io.sources import _head, _Loader, _reading, _Src, first_byte

JSON_ARRAY_TO_LINES = (
    'python -c "import json, sys; [print(json.dumps(row)) for row in json.load(sys.stdin)]" '
    "< F.json > F.jsonl"
)


def _jsonl_table(src: _Src, source: str) -> tuple[list[str], _Loader]:
    """Parsed once (JSON has no header to read the names from); the loader selects columns."""
    import pyarrow as pa
    import pyarrow.json as pajson

    head = src[:4096] if isinstance(src, bytes) else _head(src, 4096)
    if first_byte(head) == b"[":
        raise InputError(
            f"{source} is a JSON array, not JSON Lines (one object per line); convert it: "
            f"{JSON_ARRAY_TO_LINES} (or jq -c '.[]' F.json > F.jsonl)"
        )
    if not first_byte(head):
        raise InputError(f"{source} is empty; expected one JSON object per line")
    with _reading(source, "JSON Lines", _arrow_errors()):
        stream = pa.BufferReader(src) if isinstance(src, bytes) else src
        table = pajson.read_json(stream)
    names = table.column_names

    def load(cols: list[str]) -> dict[str, object]:
        with _reading(source, "JSON Lines", _arrow_errors()):
            return _arrow_columns(table.select([names.index(c) for c in cols]), source)

    return _dedup(names), load
