"""Write the benchmark's prediction files into benchmarks/data/, once, from a fixed seed.

    python benchmarks/generate.py [--quick] [--manifest FILE]

Each file is written only when it is missing or was written by other generator settings (the
settings are stored in the Parquet metadata and in a small JSON file next to the CSV), and is
renamed into place only once complete, so an interrupted run never leaves a half file behind.
Rows are generated CHUNK at a time, so memory stays bounded whatever the size. --manifest
writes each data set's path, rows and files as JSON, for run.py.

The data sets (full size; --quick in brackets):

- binary_10m.parquet (binary_200k.parquet): binary predictions, one file;
- binary_10m_parts/ (binary_200k_parts/): the same rows, in the same order, split into 10
  files part-00.parquet ... part-09.parquet, to compare streaming with reading into memory;
- binary_100m/ (binary_2m/): 100 M (2 M) binary rows in 20 files of 5 M (100 k), from the same
  model with seed streams of their own, one per file;
- multiclass_1m.parquet (multiclass_50k.parquet): 1 M (50 k) rows × 10 classes;
- small_500.csv: 500 binary rows as text, for start-up;
- binary_10m_candidate.parquet (binary_200k_candidate.parquet): the binary file's rows and
  labels with a slightly different model's probabilities, for `lossdoctor compare`;
- paired_1m/ (paired_50k/): the first 1 M (50 k) rows of both as baseline.parquet and
  candidate.parquet, and as one CSV (label, baseline, candidate) for R's pROC.

The predictions are those of a calibrated model on Gaussian class scores:

- binary: 30 % positives; the score is N(0, 1) shifted by D for positives, and the model's
  probability is the exact posterior sigmoid(D * s + log(0.3 / 0.7) - D**2 / 2), so ROC-AUC is
  Phi(D / sqrt(2)) = 0.85. Stored as float32, as most models save them: 10 M float32
  probabilities hold many exact ties (float32 has ~2**23 values per octave).
- multi-class: unequal class priors, a 10-dimensional score with the true class's coordinate
  shifted by M, and the posterior softmax(M * s + log(prior)), computed in float64 and stored
  as float32 rows (they sum to 1 within float32 rounding).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DATA = Path(__file__).resolve().parent / "data"
SEED = 20240611
GENERATOR_VERSION = 1
# Seed streams: [SEED, stream] (the 100 M data set's files: [SEED, stream, file])
STREAMS = {
    "binary": 0,
    "multiclass": 1,
    "small": 2,
    "binary_large": 3,
    "candidate": 4,
    "segments": 5,
}
STORES = 1_000  # distinct values of the segments data set's `store` column (--by store)
# The candidate: the baseline's logit times CANDIDATE_SCALE plus N(0, CANDIDATE_NOISE) noise.
CANDIDATE_SCALE = 0.95
CANDIDATE_NOISE = 0.3
POSITIVE_RATE = 0.3
BINARY_SHIFT = 1.466  # Phi(1.466 / sqrt(2)) = 0.85
N_CLASSES = 10
CLASS_PRIORS = (0.2, 0.15, 0.12, 0.1, 0.1, 0.08, 0.08, 0.07, 0.05, 0.05)
MULTICLASS_SHIFT = 2.0
# Rows generated at a time: bounds the generator's memory. The rows drawn depend on it (each
# chunk draws its labels, then its scores), so it is one of the stored settings.
CHUNK = 1_000_000
PARTS = {"binary_parts": 10, "binary_large": 20}  # files of the data sets stored as directories

# data set -> (name in benchmarks/data/, rows), full and --quick
DATA_SETS = {
    "full": {
        "binary": ("binary_10m.parquet", 10_000_000),
        "binary_parts": ("binary_10m_parts", 10_000_000),
        "binary_large": ("binary_100m", 100_000_000),
        "multiclass": ("multiclass_1m.parquet", 1_000_000),
        "small": ("small_500.csv", 500),
        "binary_candidate": ("binary_10m_candidate.parquet", 10_000_000),
        "paired": ("paired_1m", 1_000_000),
        "binary_segments": ("binary_10m_segments.parquet", 10_000_000),
    },
    "quick": {
        "binary": ("binary_200k.parquet", 200_000),
        "binary_parts": ("binary_200k_parts", 200_000),
        "binary_large": ("binary_2m", 2_000_000),
        "multiclass": ("multiclass_50k.parquet", 50_000),
        "small": ("small_500.csv", 500),
        "binary_candidate": ("binary_200k_candidate.parquet", 200_000),
        "paired": ("paired_50k", 50_000),
        "binary_segments": ("binary_200k_segments.parquet", 200_000),
    },
}


def _settings(kind: str, rows: int) -> dict:
    common = {"generator_version": GENERATOR_VERSION, "seed": SEED, "rows": rows, "chunk": CHUNK}
    if kind == "multiclass":
        return common | {"priors": list(CLASS_PRIORS), "shift": MULTICLASS_SHIFT}
    return common | {"positive_rate": POSITIVE_RATE, "shift": BINARY_SHIFT}


def _binary_chunk(rng: np.random.Generator, rows: int) -> tuple[np.ndarray, np.ndarray]:
    label = rng.random(rows) < POSITIVE_RATE
    score = rng.standard_normal(rows) + BINARY_SHIFT * label
    bias = np.log(POSITIVE_RATE / (1 - POSITIVE_RATE)) - BINARY_SHIFT**2 / 2
    prob = 1.0 / (1.0 + np.exp(-(BINARY_SHIFT * score + bias)))
    return label.astype(np.int8), prob.astype(np.float32)


def _multiclass_chunk(rng: np.random.Generator, rows: int) -> tuple[np.ndarray, np.ndarray]:
    label = rng.choice(N_CLASSES, size=rows, p=CLASS_PRIORS)
    score = rng.standard_normal((rows, N_CLASSES))
    score[np.arange(rows), label] += MULTICLASS_SHIFT
    logits = MULTICLASS_SHIFT * score + np.log(CLASS_PRIORS)
    logits -= logits.max(axis=1, keepdims=True)
    proba = np.exp(logits)
    proba /= proba.sum(axis=1, keepdims=True)
    return label.astype(np.int8), proba.astype(np.float32)


def _chunks(kind: str, rows: int, stream: list[int]):
    """The rows in chunks of CHUNK, from one generator seeded with [SEED, *stream]."""
    rng = np.random.default_rng([SEED, *stream])
    make = _multiclass_chunk if kind == "multiclass" else _binary_chunk
    for start in range(0, rows, CHUNK):
        yield make(rng, min(CHUNK, rows - start))


def _schema(kind: str, settings: dict) -> pa.Schema:
    probs = [f"prob_{k}" for k in range(N_CLASSES)] if kind == "multiclass" else ["prob"]
    names = ["label", *probs]
    types = [pa.int8()] + [pa.float32()] * (len(names) - 1)
    schema = pa.schema(list(zip(names, types, strict=True)))
    return schema.with_metadata({"benchmark_settings": json.dumps(settings)})


def _parquet_is_current(path: Path, settings: dict) -> bool:
    if not path.is_file():
        return False
    try:
        metadata = pq.read_metadata(path).metadata or {}
    except (OSError, pa.ArrowException):
        return False
    stored = metadata.get(b"benchmark_settings")
    return stored is not None and json.loads(stored) == settings


def _write_tables(path: Path, schema: pa.Schema, tables) -> None:
    """Write the tables to path.partial, then rename it into place."""
    partial = path.with_suffix(".partial")
    with pq.ParquetWriter(partial, schema) as writer:
        for table in tables:
            writer.write_table(table)
    os.replace(partial, path)


def _tables(kind: str, schema: pa.Schema, rows: int, stream: list[int]):
    for label, prob in _chunks(kind, rows, stream):
        columns = [label] + ([prob] if prob.ndim == 1 else list(prob.T))
        yield pa.table(columns, schema=schema)


def write_parquet(path: Path, kind: str, rows: int) -> bool:
    """Write one Parquet file unless an identical one is there; True when written."""
    settings = _settings(kind, rows)
    if _parquet_is_current(path, settings):
        return False
    schema = _schema(kind, settings)
    _write_tables(path, schema, _tables(kind, schema, rows, [STREAMS[kind]]))
    return True


def _part_names(parts: int) -> list[str]:
    return [f"part-{k:02d}.parquet" for k in range(parts)]


def _clear_others(directory: Path, keep: list[str]) -> None:
    """Remove all but the parts: whoever reads the directory must find those only."""
    for path in directory.iterdir():
        if path.name not in keep and path.is_file():
            path.unlink()


def write_large(directory: Path, rows: int, parts: int) -> int:
    """The binary data set in `parts` files, each from its own seed stream; files written."""
    directory.mkdir(exist_ok=True)
    names = _part_names(parts)
    _clear_others(directory, names)
    per_part, written = rows // parts, 0
    for part, name in enumerate(names):
        settings = _settings("binary", per_part) | {"part": part, "parts": parts}
        path = directory / name
        if _parquet_is_current(path, settings):
            continue
        schema = _schema("binary", settings)
        stream = [STREAMS["binary_large"], part]
        _write_tables(path, schema, _tables("binary", schema, per_part, stream))
        written += 1
    return written


def _sliced(source: Path, start: int, stop: int):
    """Rows [start, stop) of a Parquet file, read one row group at a time."""
    reader = pq.ParquetFile(source)
    offset = 0
    for group in range(reader.num_row_groups):
        size = reader.metadata.row_group(group).num_rows
        if offset < stop and offset + size > start:
            table = reader.read_row_group(group)
            low, high = max(start - offset, 0), min(stop - offset, size)
            yield table.slice(low, high - low)
        offset += size


def write_split(directory: Path, source: Path, parts: int) -> int:
    """The rows of `source`, in order, split into `parts` files; files written."""
    directory.mkdir(exist_ok=True)
    names = _part_names(parts)
    _clear_others(directory, names)
    source_settings = json.loads(pq.read_metadata(source).metadata[b"benchmark_settings"])
    rows = source_settings["rows"]
    bounds = [rows * k // parts for k in range(parts + 1)]
    written = 0
    for part, name in enumerate(names):
        start, stop = bounds[part], bounds[part + 1]
        settings = {"split_of": source_settings, "part": part, "parts": parts, "rows": stop - start}
        path = directory / name
        if _parquet_is_current(path, settings):
            continue
        schema = _schema("binary", settings)
        tables = (t.replace_schema_metadata(schema.metadata) for t in _sliced(source, start, stop))
        _write_tables(path, schema, tables)
        written += 1
    return written


def write_candidate(path: Path, source: Path) -> bool:
    """The source's rows and labels, with another model's probabilities; True when written."""
    source_settings = json.loads(pq.read_metadata(source).metadata[b"benchmark_settings"])
    settings = {
        "candidate_of": source_settings,
        "scale": CANDIDATE_SCALE,
        "noise": CANDIDATE_NOISE,
        "rows": source_settings["rows"],
    }
    if _parquet_is_current(path, settings):
        return False
    schema = _schema("binary", settings)
    rng = np.random.default_rng([SEED, STREAMS["candidate"]])

    def tables():
        for table in _sliced(source, 0, source_settings["rows"]):
            prob = table.column("prob").to_numpy().astype(np.float64)
            logit = np.log(prob) - np.log1p(-prob)
            logit = CANDIDATE_SCALE * logit + rng.normal(scale=CANDIDATE_NOISE, size=prob.size)
            moved = (1.0 / (1.0 + np.exp(-logit))).astype(np.float32)
            yield pa.table([table.column("label"), moved], schema=schema)

    _write_tables(path, schema, tables())
    return True


def write_segments(path: Path, source: Path) -> bool:
    """The source's rows with a `store` column of STORES values drawn uniformly (--by store);
    True when written."""
    source_settings = json.loads(pq.read_metadata(source).metadata[b"benchmark_settings"])
    settings = {"segments_of": source_settings, "stores": STORES, "rows": source_settings["rows"]}
    if _parquet_is_current(path, settings):
        return False
    schema = _schema("binary", settings).append(pa.field("store", pa.int16()))
    rng = np.random.default_rng([SEED, STREAMS["segments"]])

    def tables():
        for table in _sliced(source, 0, source_settings["rows"]):
            store = rng.integers(0, STORES, table.num_rows).astype(np.int16)
            yield pa.table([table.column("label"), table.column("prob"), store], schema=schema)

    _write_tables(path, schema, tables())
    return True


def write_paired(directory: Path, baseline: Path, candidate: Path, rows: int) -> bool:
    """The first rows of the baseline and the candidate, as two Parquet files and one CSV."""
    directory.mkdir(exist_ok=True)
    stamp = directory / "settings.json"
    settings = {
        "rows": rows,
        "of": [
            json.loads(pq.read_metadata(p).metadata[b"benchmark_settings"])
            for p in (baseline, candidate)
        ],
    }
    if stamp.is_file() and json.loads(stamp.read_text()) == settings:
        return False
    first = pa.concat_tables(_sliced(baseline, 0, rows))
    second = pa.concat_tables(_sliced(candidate, 0, rows))
    pq.write_table(first, directory / "baseline.parquet")
    pq.write_table(second, directory / "candidate.parquet")
    columns = (first.column("label"), first.column("prob"), second.column("prob"))
    label, a, b = (np.asarray(column.to_numpy()) for column in columns)
    lines = ["label,baseline,candidate"] + [
        f"{y},{p!r},{q!r}" for y, p, q in zip(label.tolist(), a.tolist(), b.tolist(), strict=True)
    ]
    (directory / "paired.csv").write_text("\n".join(lines) + "\n")
    stamp.write_text(json.dumps(settings))
    return True


def write_small_csv(path: Path, rows: int) -> bool:
    """The start-up file: rows binary predictions as text, label,prob."""
    settings = _settings("small", rows)
    stamp = path.with_suffix(".json")
    if path.is_file() and stamp.is_file() and json.loads(stamp.read_text()) == settings:
        return False
    rng = np.random.default_rng([SEED, STREAMS["small"]])
    label, prob = _binary_chunk(rng, rows)
    lines = ["label,prob"] + [
        f"{y},{p!r}" for y, p in zip(label.tolist(), prob.tolist(), strict=True)
    ]
    partial = path.with_suffix(".partial")
    partial.write_text("\n".join(lines) + "\n")
    os.replace(partial, path)
    stamp.write_text(json.dumps(settings))
    return True


def generate(quick: bool) -> dict[str, dict]:
    """Write what is missing; each data set's path (from the repository root), rows, files."""
    DATA.mkdir(parents=True, exist_ok=True)
    sets = DATA_SETS["quick" if quick else "full"]
    manifest = {}
    for kind, (name, rows) in sets.items():  # binary comes first: binary_parts is split from it
        path = DATA / name
        if kind == "small":
            written = write_small_csv(path, rows)
        elif kind == "binary_parts":
            written = write_split(path, DATA / sets["binary"][0], PARTS[kind])
        elif kind == "binary_large":
            written = write_large(path, rows, PARTS[kind])
        elif kind == "binary_candidate":
            written = write_candidate(path, DATA / sets["binary"][0])
        elif kind == "binary_segments":
            written = write_segments(path, DATA / sets["binary"][0])
        elif kind == "paired":
            binary, candidate = DATA / sets["binary"][0], DATA / sets["binary_candidate"][0]
            written = write_paired(path, binary, candidate, rows)
        else:
            written = write_parquet(path, kind, rows)
        state = "written" if written else "cached"
        if kind in PARTS:
            state = f"{PARTS[kind]} files, " + (f"{written} written" if written else "cached")
        shown = str(path.relative_to(DATA.parent.parent))
        print(f"  {shown}: {rows:,} rows ({state})", flush=True)
        manifest[kind] = {"path": shown, "rows": rows, "files": PARTS.get(kind, 1)}
    return manifest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small development sizes")
    parser.add_argument("--manifest", type=Path, help="write the data sets' paths and rows here")
    args = parser.parse_args()
    manifest = generate(args.quick)
    if args.manifest is not None:
        args.manifest.write_text(json.dumps(manifest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
