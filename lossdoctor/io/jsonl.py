"""JSON Lines (.jsonl, .ndjson, or .json holding one object per line), read with pyarrow's JSON
reader: scalar fields become columns, a list field (`"probs": [0.1, 0.9]`) a list column.

A JSON array (`[{...}, {...}]`) is not JSON Lines: it is refused with the command that
converts it, as reading it would take the whole document into Python objects first.
"""

from __future__ import annotations

import io

from lossdoctor.errors import InputError
from lossdoctor.io.arrow import arrow_columns, arrow_errors, dedup
from lossdoctor.io.sources import (
    _Loader,
    _Src,
    _stream,
    first_byte,
    head_bytes,
    open_regular,
    reading,
)

# A row of predictions nests a level or two (a list of class probabilities in an object).
MAX_JSON_DEPTH = 1000
_DEPTH_CHUNK = 1 << 22

JSON_ARRAY_TO_LINES = (
    'python -c "import json, sys; [print(json.dumps(row)) for row in json.load(sys.stdin)]" '
    "< F.json > F.jsonl"
)


def _jsonl_table(src: _Src, source: str) -> tuple[list[str], _Loader]:
    """Parsed once (JSON has no header to read the names from); the loader selects columns."""
    import pyarrow as pa
    import pyarrow.json as pajson

    head = src[:4096] if isinstance(src, bytes) else head_bytes(src, 4096)
    if first_byte(head) == b"[":
        raise InputError(
            f"{source} is a JSON array, not JSON Lines (one object per line); convert it: "
            f"{JSON_ARRAY_TO_LINES} (or jq -c '.[]' F.json > F.jsonl)"
        )
    if not first_byte(head):
        raise InputError(f"{source} is empty; expected one JSON object per line")
    with reading(source, "JSON Lines", (OSError,)):
        _check_depth(src, source)
    with reading(source, "JSON Lines", arrow_errors()):
        stream = pa.BufferReader(src) if isinstance(src, bytes) else _stream(src)
        table = pajson.read_json(stream)
    names = table.column_names

    def load(cols: list[str]) -> dict[str, object]:
        with reading(source, "JSON Lines", arrow_errors()):
            return arrow_columns(table.select([names.index(c) for c in cols]), source)

    return dedup(names), load


def _check_depth(src: _Src, source: str) -> None:
    """Nesting deeper than MAX_JSON_DEPTH is refused before pyarrow's parser, which aborts the
    process on depths of 10**5. Brackets are counted in chunks, vectorised; those inside strings
    count too, which only ever overstates the depth."""
    import numpy as np

    steps = np.zeros(256, np.int32)
    steps[[ord("{"), ord("[")]] = 1
    steps[[ord("}"), ord("]")]] = -1
    depth = 0
    with io.BytesIO(src) if isinstance(src, bytes) else open_regular(src) as f:
        while chunk := f.read(_DEPTH_CHUNK):
            levels = np.cumsum(steps[np.frombuffer(chunk, np.uint8)]) + depth
            if levels.max() > MAX_JSON_DEPTH:
                raise InputError(
                    f"{source} nests objects or lists more than {MAX_JSON_DEPTH:,} deep; a row "
                    "of predictions nests one or two: check the file"
                )
            depth = int(levels[-1])
