"""Fuzzing the command line: whatever a file holds, `lossdoctor check` ends with exit 0, 1 or 2 and
never a traceback; with --format json, stdout is strict JSON (a report for exit 0 and 1, an error
object for exit 2).

Random tables (names, dtypes, NaN, inf, 0..n rows) in every format, random arrays of any shape in
.npy/.npz, random options, and valid files truncated or with bytes flipped. Examples are few and
small so that the whole file runs in well under a minute.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lossdoctor.cli import cli
from tests.conftest import run_bounded

# LOSSDOCTOR_FUZZ_EXAMPLES=5000 for a long, random search; by default a short, repeatable one.
EXAMPLES = int(os.environ.get("LOSSDOCTOR_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=EXAMPLES or 40,
    deadline=None,
    derandomize=not EXAMPLES,  # the same examples on every CI run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# arrow: an IPC file in several record batches, text dictionary-encoded; ipc: an IPC stream,
# LZ4-compressed
TABLE_FORMATS = ("csv", "csv.gz", "parquet", "feather", "arrow", "ipc", "jsonl")
NAMES = [
    "label",
    "labels",
    "y",
    "y_true",
    "target",
    "class",
    "prob",
    "probs",
    "proba",
    "score",
    "scores",
    "pred",
    "logit",
    "logits",
    "prob_0",
    "prob_1",
    "prob_2",
    "label_0",
    "label_1",
    "Label",
    "PROB",
    "x",
    "id",
]


def _reject_constant(name: str) -> None:
    raise ValueError(f"not strict JSON: {name}")


def run(args: list[str], stdin: bytes | None = None) -> Result:
    """The CLI in-process, with the invariants every run must keep."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # an overflow or a 0/0 is a bug here too
        result = CliRunner().invoke(cli, ["check", *args], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1, 2), result.output
    event(f"exit {result.exit_code}")  # --hypothesis-show-statistics: how often each ending came
    if "json" in args:
        parsed = json.loads(result.stdout, parse_constant=_reject_constant)
        assert parsed["exit_code"] == result.exit_code
        if result.exit_code == 2:
            assert parsed.keys() == {"schema_version", "path", "error", "exit_code"}
    if result.exit_code == 2:
        assert result.stderr.startswith("lossdoctor: error: ")
        assert len(result.stderr.splitlines()) == 1, result.stderr
    return result


# ---- strategies -------------------------------------------------------------------------------
# Biased towards files that get as far as a report: a recognised label column and prediction
# column(s) of one length come first, then random columns that may make the choice ambiguous.

floats = st.floats(allow_nan=True, allow_infinity=True) | st.floats(0, 1)
KINDS = ["float", "float32", "prob", "label", "int", "bool", "text"]
# Characters that CSV quoting, rich markup ("[/x]") and one-line messages must survive.
TRICKY = st.sampled_from(list('ab[/]\\,"\n\r '))
SPECIAL = ["[/x]", "[bold]", "[", "nan", "inf", "", " ", "true", "1", "-1", "1e999"]


@st.composite
def columns(draw, n: int, kinds: list[str] = KINDS) -> np.ndarray:
    """One column of n values: floats with NaN and inf, probabilities, labels, ints, bools, text."""
    kind = draw(st.sampled_from(kinds))
    if kind == "float":
        return draw(hnp.arrays(np.float64, n, elements=floats))
    if kind == "float32":
        return draw(hnp.arrays(np.float32, n, elements=st.floats(width=32)))
    if kind == "prob":
        return draw(hnp.arrays(np.float64, n, elements=st.floats(0, 1)))
    if kind == "label":
        return draw(hnp.arrays(np.int64, n, elements=st.integers(-1, 3)))
    if kind == "int":
        return draw(hnp.arrays(np.int64, n))
    if kind == "bool":
        return draw(hnp.arrays(np.bool_, n))
    texts = st.sampled_from(SPECIAL) | st.text(
        TRICKY | st.characters(exclude_categories=["Cs"]), max_size=5
    )
    return np.array(draw(st.lists(texts, min_size=n, max_size=n)), dtype=object)


@st.composite
def tables(draw) -> list[tuple[str, np.ndarray]]:
    n = draw(st.integers(0, 3) | st.integers(4, 40))
    label = draw(st.sampled_from(["label", "y", "target", "class", "Label"]))
    table = [(label, draw(columns(n, ["label", "label", "bool", "text", "float"])))]
    prediction = draw(st.sampled_from(["prob", "score", "logit", "prob_", "logits_"]))
    k = draw(st.integers(2, 5)) if prediction.endswith("_") else 0
    keys = [f"{prediction}{i}" for i in range(k)] or [prediction]
    table += [(key, draw(columns(n, ["prob", "prob", "float", "float32", "int"]))) for key in keys]
    extra = draw(st.lists(st.sampled_from(NAMES) | st.text(max_size=6), max_size=2))
    table += [(key, draw(columns(n))) for key in extra]  # duplicate names happen, as in files
    return draw(st.permutations(table))


@st.composite
def array_pairs(draw) -> tuple[np.ndarray, np.ndarray]:
    """(labels, scores): usually of one length, with 1, 2 or K columns; sometimes any shape."""
    n, k = draw(st.integers(1, 30) | st.just(0)), draw(st.integers(1, 5))
    dtypes = st.sampled_from([np.float64, np.float32, np.float16, np.int64, np.uint8, np.bool_])
    odd = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)

    def shape(typical: list[tuple[int, ...]]) -> tuple[int, ...]:
        return draw(odd) if draw(st.integers(0, 9)) == 0 else draw(st.sampled_from(typical))

    values = st.integers(-1, k) | floats | st.just(-100)  # -100: PyTorch's ignore_index
    labels = draw(hnp.arrays(np.float64, shape([(n,)] * 3 + [(n, k), (n, 1)]), elements=values))
    typical = [(n,), (n, k), (n, k), (n, 1), (n, k, 3)]  # (n, k, 3): tokens of (n, k) labels
    scores = draw(hnp.arrays(np.float64, shape(typical), elements=values))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NaN cast to an integer is whatever numpy makes of it
        labels = labels.astype(draw(dtypes | st.just(np.dtype("<U4"))))
        scores = scores.astype(draw(dtypes))
    return labels, scores


options = st.lists(
    st.sampled_from(
        [
            ["--task", "binary"],
            ["--task", "multiclass"],
            ["--task", "multilabel"],
            ["--from-logits"],
            ["--from-probabilities"],
            ["--threshold", "0"],
            ["--threshold", "1"],
            ["--positive-label", "1"],
            ["--positive-label", "a"],
            ["--classes", "0,1"],
            ["--classes", "a,b,c"],
            ["--fail-on", "never"],
            ["--fail-on", "info"],
            ["--label-col", "label"],
            ["--pred-col", "prob*"],
            ["--reported-accuracy", "0.9"],
            ["--loss", "binary_crossentropy"],
        ]
    ),
    max_size=3,
).map(lambda chosen: [arg for option in chosen for arg in option])
output = st.sampled_from([["--format", "json"], ["--format", "terminal"]])


# ---- writers ----------------------------------------------------------------------------------


def write_table(path: Path, fmt: str, table: list[tuple[str, np.ndarray]]) -> None:
    if fmt == "jsonl":  # as Python writes it: NaN and Infinity are not JSON, json.dumps writes them
        names = [name for name, _ in table]
        rows = zip(*(column.tolist() for _, column in table), strict=True)
        path.write_text(
            "".join(json.dumps(dict(zip(names, row, strict=True))) + "\n" for row in rows)
        )
        return
    if fmt.startswith("csv"):
        text = io.StringIO()
        writer = csv.writer(text, escapechar="\\")  # Python 3.10 refuses some fields without one
        writer.writerow([name for name, _ in table])
        writer.writerows(zip(*(column.tolist() for _, column in table), strict=True))
        data = text.getvalue().encode()
        path.write_bytes(gzip.compress(data) if fmt == "csv.gz" else data)
        return
    arrow = pa.Table.from_arrays(
        [pa.array(column.tolist() if column.dtype == object else column) for _, column in table],
        names=[name for name, _ in table],
    )
    if fmt == "parquet":
        pq.write_table(arrow, path)
    elif fmt == "arrow":
        encoded = [
            column.dictionary_encode() if pa.types.is_string(column.type) else column
            for column in arrow.columns
        ]
        arrow = pa.Table.from_arrays(encoded, names=arrow.column_names)
        with pa.ipc.new_file(path, arrow.schema) as writer:
            writer.write_table(arrow, max_chunksize=7)
    elif fmt == "ipc":
        options = pa.ipc.IpcWriteOptions(compression="lz4")
        with pa.ipc.new_stream(path, arrow.schema, options=options) as writer:
            writer.write_table(arrow)
    else:
        feather.write_feather(arrow, path)


# ---- the fuzz tests ---------------------------------------------------------------------------


@FUZZ
@given(fmt=st.sampled_from(TABLE_FORMATS), table=tables(), extra=options, out=output)
def test_random_tables_in_every_format(fmt, table, extra, out):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"p.{fmt}"
        write_table(path, fmt, table)
        run([str(path), *extra, *out])


@FUZZ
@given(arrays=array_pairs(), extra=options, out=output)
def test_random_arrays_as_npy_with_a_labels_file(arrays, extra, out):
    labels, scores = arrays
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "p.npy", scores)
        np.save(Path(tmp) / "y.npy", labels)
        run([str(Path(tmp) / "p.npy"), "--labels", str(Path(tmp) / "y.npy"), *extra, *out])


@FUZZ
@given(
    keys=st.sampled_from(
        [
            ("y_true", "y_pred"),
            ("labels", "logits"),
            ("y", "probs"),
            ("label_ids", "predictions"),
            ("a", "b"),
        ]
    ),
    arrays=array_pairs(),
    extra=options,
    out=output,
)
def test_random_arrays_in_npz(keys, arrays, extra, out):
    labels, scores = arrays
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.npz"
        np.savez(path, **{keys[0]: labels, keys[1]: scores})
        run([str(path), *extra, *out])


def _valid_file(fmt: str) -> bytes:
    """A small healthy file of each format, to damage."""
    rng = np.random.default_rng(0)
    table = [("label", rng.integers(0, 2, 30)), ("prob", rng.uniform(size=30))]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"p.{fmt}"
        if fmt == "npz":
            np.savez(path, y_true=table[0][1], y_pred=table[1][1])
        else:
            write_table(path, fmt, table)
        return path.read_bytes()


VALID = {fmt: _valid_file(fmt) for fmt in (*TABLE_FORMATS, "npz")}


@FUZZ
@given(
    fmt=st.sampled_from(sorted(VALID)),
    cut=st.floats(0, 1),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=4),
)
def test_truncated_or_damaged_files(fmt, cut, flips):
    data = bytearray(VALID[fmt][: int(len(VALID[fmt]) * cut)] if cut < 0.99 else VALID[fmt])
    for where, byte in flips:
        if data:
            data[int(where * (len(data) - 1))] = byte
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"p.{fmt}"
        path.write_bytes(bytes(data))
        run([str(path), "--format", "json"])


@FUZZ
@given(
    data=st.binary(max_size=300),
    name=st.sampled_from(
        ["p.csv", "p.parquet", "p.npy", "p.npz", "p.feather", "p.jsonl", "p.json", "p.bin", "p"]
    ),
)
def test_random_bytes_under_any_name_and_on_stdin(data, name):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        args = [str(path), "--labels", str(path)] if name.endswith(".npy") else [str(path)]
        run([*args, "--format", "json"])
    run(["-", "--format", "json"], stdin=data)


def test_the_fuzzing_helper_catches_a_traceback(monkeypatch):
    """run() would notice a crash: the tests above can fail."""
    import lossdoctor.pipeline

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(lossdoctor.pipeline, "diagnose", boom)
    sample = Path(__file__).resolve().parent.parent / "sample_data" / "healthy_binary.csv"
    result = CliRunner().invoke(cli, ["check", str(sample)])
    assert result.exit_code == 3
    try:
        run([str(sample)])
    except AssertionError:
        return
    raise AssertionError("run() accepted exit code 3")


def _arrow_to_damage() -> bytes:
    """An IPC file with what a forged file can lie about: string offsets, dictionary indices,
    list offsets, validity bitmaps, several record batches."""
    rng = np.random.default_rng(1)
    n = 60
    names = rng.choice(["cat", "dog", "bird"], n)
    scores = rng.dirichlet(np.ones(3), n)
    table = pa.table(
        {
            "label": pa.array(names).dictionary_encode(),
            "note": pa.array([None if i % 7 == 0 else f"row {i}" for i in range(n)]),
            "prob": pa.array(list(scores), type=pa.list_(pa.float64())),
            "extra": pa.array([None if i % 5 == 0 else float(i) for i in range(n)]),
            # read as sample weights, so damage to a float column is read too
            "weight": pa.array([float(i % 4 + 1) for i in range(n)]),
        }
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=20)
    return sink.getvalue().to_pybytes()


def test_damaged_arrow_files_end_in_a_report_or_one_line_never_a_crash(tmp_path):
    """Hundreds of IPC files with bytes flipped, int32/int64 fields overwritten with extreme
    values, or cut short, read by one bounded child process (a native crash there is a failed
    test, not a dead test run): exit 0, 1 or 2, one line per unreadable file."""
    valid = _arrow_to_damage()
    rng = np.random.default_rng(2)
    extremes = [0, 1, 255, 2**31 - 1, 2**31, 2**32 - 1, 2**40, 2**63 - 1, 2**64 - 1]
    paths = []
    for i in range(300):
        data = bytearray(valid)
        kind = i % 3
        if kind == 0:
            for at in rng.integers(0, len(data), rng.integers(1, 5)):
                data[at] = int(rng.integers(0, 256))
        elif kind == 1:
            width = int(rng.choice([4, 8]))
            at = int(rng.integers(0, len(data) - width))
            value = int(rng.choice(extremes)) % (1 << (8 * width))
            data[at : at + width] = value.to_bytes(width, "little")
        else:
            data = data[: int(rng.integers(0, len(data)))]
        path = tmp_path / f"damaged-{i:03d}.arrow"
        path.write_bytes(bytes(data))
        paths.append(str(path))

    result = run_bounded("-q", *paths, memory=3 << 30, timeout=300)
    assert result.returncode in (0, 1, 2), (result.returncode, result.stderr[-3000:])
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("lossdoctor: ")]
    assert all(line.startswith("lossdoctor: error: ") for line in errors)
    assert len(errors) == len(result.stderr.splitlines())
    assert 0 < len(errors) < len(paths)  # some damage is refused, and some goes unnoticed
