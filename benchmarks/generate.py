"""Write the benchmark's prediction files into benchmarks/data/, once, from a fixed seed.

    python benchmarks/generate.py [--quick]

Each file is written only when it is missing or was written by other generator settings (the
settings are stored in the Parquet metadata and in a small JSON file next to the CSV), and is
renamed into place only once complete, so an interrupted run never leaves a half file behind.

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
POSITIVE_RATE = 0.3
BINARY_SHIFT = 1.466  # Phi(1.466 / sqrt(2)) = 0.85
N_CLASSES = 10
CLASS_PRIORS = (0.2, 0.15, 0.12, 0.1, 0.1, 0.08, 0.08, 0.07, 0.05, 0.05)
MULTICLASS_SHIFT = 2.0
CHUNK = 1_000_000  # rows generated at a time: bounds the generator's memory

# name -> rows, full and --quick
SIZES = {
    "binary": {"full": 10_000_000, "quick": 200_000},
    "multiclass": {"full": 1_000_000, "quick": 50_000},
    "small": {"full": 500, "quick": 500},
}


def file_names(quick: bool) -> dict[str, str]:
    """The file of each data set, relative to benchmarks/data/."""
    if quick:
        return {
            "binary": "binary_200k.parquet",
            "multiclass": "multiclass_50k.parquet",
            "small": "small_500.csv",
        }
    return {
        "binary": "binary_10m.parquet",
        "multiclass": "multiclass_1m.parquet",
        "small": "small_500.csv",
    }


def _settings(kind: str, rows: int) -> dict:
    common = {"generator_version": GENERATOR_VERSION, "seed": SEED, "rows": rows}
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


def _chunks(kind: str, rows: int):
    """The rows in chunks of CHUNK, from one generator: the same data for any chunk size."""
    rng = np.random.default_rng([SEED, 0 if kind == "binary" else 1])
    make = _binary_chunk if kind == "binary" else _multiclass_chunk
    for start in range(0, rows, CHUNK):
        yield make(rng, min(CHUNK, rows - start))


def _parquet_is_current(path: Path, settings: dict) -> bool:
    if not path.is_file():
        return False
    try:
        metadata = pq.read_metadata(path).metadata or {}
    except (OSError, pa.ArrowException):
        return False
    stored = metadata.get(b"benchmark_settings")
    return stored is not None and json.loads(stored) == settings


def write_parquet(path: Path, kind: str, rows: int) -> bool:
    """Write one Parquet file unless an identical one is there; True when written."""
    settings = _settings(kind, rows)
    if _parquet_is_current(path, settings):
        return False
    names = ["label", "prob"] if kind == "binary" else ["label"]
    if kind == "multiclass":
        names += [f"prob_{k}" for k in range(N_CLASSES)]
    types = [pa.int8()] + [pa.float32()] * (len(names) - 1)
    schema = pa.schema(list(zip(names, types, strict=True)))
    schema = schema.with_metadata({"benchmark_settings": json.dumps(settings)})
    partial = path.with_suffix(".partial")
    with pq.ParquetWriter(partial, schema) as writer:
        for label, prob in _chunks(kind, rows):
            columns = [label] + ([prob] if prob.ndim == 1 else list(prob.T))
            writer.write_table(pa.table(columns, schema=schema))
    os.replace(partial, path)
    return True


def write_small_csv(path: Path, rows: int) -> bool:
    """The start-up file: rows binary predictions as text, label,prob."""
    settings = _settings("small", rows)
    stamp = path.with_suffix(".json")
    if path.is_file() and stamp.is_file() and json.loads(stamp.read_text()) == settings:
        return False
    rng = np.random.default_rng([SEED, 2])
    label, prob = _binary_chunk(rng, rows)
    lines = ["label,prob"] + [
        f"{y},{p!r}" for y, p in zip(label.tolist(), prob.tolist(), strict=True)
    ]
    partial = path.with_suffix(".partial")
    partial.write_text("\n".join(lines) + "\n")
    os.replace(partial, path)
    stamp.write_text(json.dumps(settings))
    return True


def generate(quick: bool) -> dict[str, Path]:
    DATA.mkdir(parents=True, exist_ok=True)
    mode = "quick" if quick else "full"
    paths = {kind: DATA / name for kind, name in file_names(quick).items()}
    for kind, path in paths.items():
        rows = SIZES[kind][mode]
        if kind == "small":
            written = write_small_csv(path, rows)
        else:
            written = write_parquet(path, kind, rows)
        state = "written" if written else "cached"
        print(f"  {path.relative_to(DATA.parent.parent)}: {rows:,} rows ({state})", flush=True)
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small development sizes")
    generate(parser.parse_args().quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
