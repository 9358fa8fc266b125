"""lossdoctor.io: every format into the same Predictions, and one-line errors for bad input."""

from __future__ import annotations

import gzip
import io
import random
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from lossdoctor.io import Predictions, from_columns, read_predictions, resolve_columns
from lossdoctor.io import csv as io_csv
from lossdoctor.io import sources as io_sources
from tests.conftest import one_line, raises

Y = np.array([0, 1, 1, 0, 1])
P = np.array([0.1, 0.9, 0.8, 0.3, 0.6])
P3 = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])


def write_csv(path: Path, text: str, *, bom: bool = False, crlf: bool = False) -> Path:
    if crlf:
        text = text.replace("\n", "\r\n")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def csv_text(columns: dict[str, np.ndarray]) -> str:
    rows = zip(*columns.values(), strict=True)
    return ",".join(columns) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows)


def stdin_bytes(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=io.BytesIO(data)))


# ---- resolve_columns ---------------------------------------------------------------------------


def test_resolve_finds_recognised_label_and_prediction_names():
    assert resolve_columns(["id", "y_true", "proba"]) == (["y_true"], ["proba"])


def test_resolve_matches_case_insensitively_and_keeps_the_file_spelling():
    assert resolve_columns(["Target", "Y_Score"]) == (["Target"], ["Y_Score"])


def test_resolve_orders_numbered_prediction_columns_numerically():
    names = ["label"] + [f"prob_{i}" for i in (10, 2, 0, 9, 1, 3, 4, 5, 6, 7, 8)]
    assert resolve_columns(names)[1] == [f"prob_{i}" for i in range(11)]


@given(st.permutations([f"logits_{i}" for i in range(12)] + ["y"]))
def test_resolve_numbered_order_does_not_depend_on_file_order(names):
    assert resolve_columns(names) == (["y"], [f"logits_{i}" for i in range(12)])


def test_resolve_finds_one_hot_label_columns():
    names = ["y_true_1", "y_true_0", "prob_0", "prob_1"]
    assert resolve_columns(names) == (["y_true_0", "y_true_1"], ["prob_0", "prob_1"])


def test_resolve_ignores_a_numbered_column_that_is_not_a_class_family():
    assert resolve_columns(["label", "score_2023", "prob"]) == (["label"], ["prob"])


def test_resolve_rejects_gaps_in_numbered_columns():
    with raises(r"prob_0, prob_1, prob_3 .*not numbered 0\.\.K-1.*--pred-col"):
        resolve_columns(["label", "prob_0", "prob_1", "prob_3"])


def test_resolve_given_globs_are_case_insensitive_and_ordered_by_numeric_suffix():
    names = ["Truth", "P_10", "P_2", "P_1", "P_0", "P_3", "P_4", "P_5", "P_6", "P_7", "P_8", "P_9"]
    labels, preds = resolve_columns(names, pred_cols=["p_*"])
    assert labels == ["Truth"]
    assert preds == [f"P_{i}" for i in range(11)]


def test_resolve_given_names_decide_over_recognised_names():
    names = ["label", "target", "prob", "calibrated"]
    assert resolve_columns(names, ["TARGET"], ["calibrated"]) == (["target"], ["calibrated"])


def test_resolve_given_label_column_is_not_taken_as_prediction():
    assert resolve_columns(["prob", "score"], label_cols=["prob"]) == (["prob"], ["score"])


def test_resolve_given_name_matching_nothing_lists_the_columns_seen():
    with raises(r"--label-col 'gold' matches no column in f\.csv \(columns: a, prob\)") as e:
        resolve_columns(["a", "prob"], label_cols=["gold"], source="f.csv")
    one_line(e)


def test_resolve_missing_label_column_says_which_option_names_it():
    with raises(r"no label column found in preds\.csv \(columns: a, b, prob\); .*--label-col") as e:
        resolve_columns(["a", "b", "prob"], source="preds.csv")
    one_line(e)


def test_resolve_missing_prediction_column_says_which_option_names_it():
    with raises(r"no prediction column found in preds\.csv \(columns: label, x\).*--pred-col"):
        resolve_columns(["label", "x"], source="preds.csv")


def test_resolve_long_column_lists_are_shortened_in_messages():
    names = [f"feature_{i}" for i in range(500)]
    with raises(r"\(500 in all\)") as e:
        resolve_columns(names)
    assert len(one_line(e)) < 400


@pytest.mark.parametrize(
    ("names", "shown", "option"),
    [
        (["label", "prob", "logit"], "prob and logit", "--pred-col"),
        (["label", "target", "prob"], "label and target", "--label-col"),
        (
            ["label", "prob", "prob_0", "prob_1", "prob_2"],
            r"prob and prob_0\.\.prob_2",
            "--pred-col",
        ),
    ],
)
def test_resolve_two_candidates_are_ambiguous(names, shown, option):
    with raises(f"several .* columns in x: {shown}; choose one with {option}"):
        resolve_columns(names, source="x")


def test_resolve_a_column_cannot_be_both_label_and_prediction():
    with raises("cannot be both"):
        resolve_columns(["label", "prob"], ["prob"], ["p*"])


# ---- CSV ---------------------------------------------------------------------------------------


def test_csv_with_bom_and_crlf_round_trips(tmp_path):
    path = write_csv(tmp_path / "p.csv", csv_text({"label": Y, "prob": P}), bom=True, crlf=True)
    pred = read_predictions(str(path))
    assert_array_equal(pred.y_true, Y)
    assert_array_equal(pred.y_score, P)
    assert (pred.label_columns, pred.prediction_columns) == (("label",), ("prob",))
    assert (pred.source, pred.format, pred.declared_logits) == (str(path), "csv", False)


def test_csv_integer_labels_stay_integers_and_predictions_are_float(tmp_path):
    path = write_csv(tmp_path / "p.csv", "y,score\n-1,1\n1,0\n+1,3\n")
    pred = read_predictions(str(path))
    assert pred.y_true.dtype == np.int64
    assert_array_equal(pred.y_true, [-1, 1, 1])
    assert pred.y_score.dtype == np.float64


def test_csv_text_labels_come_back_as_strings(tmp_path):
    path = write_csv(tmp_path / "p.csv", "class,prob_0,prob_1\ncat,0.9,0.1\ndog,0.2,0.8\n")
    pred = read_predictions(str(path))
    assert_array_equal(pred.y_true, ["cat", "dog"])
    assert pred.y_true.dtype.kind == "U"
    assert_array_equal(pred.y_score, [[0.9, 0.1], [0.2, 0.8]])


def test_csv_empty_cells_become_nan_and_keep_the_row(tmp_path):
    path = write_csv(tmp_path / "p.csv", "label,prob\n1,0.5\n,\n0,0.25\n")
    pred = read_predictions(str(path))
    assert_array_equal(pred.y_true, [1, np.nan, 0])
    assert_array_equal(pred.y_score, [0.5, np.nan, 0.25])


def test_csv_spaces_after_commas_are_ignored(tmp_path):
    pred = read_predictions(str(write_csv(tmp_path / "p.csv", "label, prob\n1, 0.5\n")))
    assert pred.prediction_columns == ("prob",)
    assert_array_equal(pred.y_score, [0.5])


def test_csv_duplicate_column_names_keep_the_first(tmp_path):
    pred = read_predictions(str(write_csv(tmp_path / "p.csv", "label,prob,prob\n1,0.5,0.7\n")))
    assert_array_equal(pred.y_score, [0.5])


def test_csv_gz_round_trips(tmp_path):
    path = tmp_path / "p.csv.gz"
    path.write_bytes(gzip.compress(csv_text({"label": Y, "logit": P}).encode()))
    pred = read_predictions(str(path))
    assert_array_equal(pred.y_true, Y)
    assert_array_equal(pred.y_score, P)
    assert pred.declared_logits


@pytest.mark.parametrize("compressed", [False, True])
def test_large_csv_read_by_pyarrow_gives_the_same_arrays(tmp_path, monkeypatch, compressed):
    text = "id,label,prob_0,prob_1,Label_name\n" + "".join(
        f"{i},{i % 3 - 1},{i / 7:.6f},{1 - i / 7:.6f},c{i % 2}\n" for i in range(2000)
    )
    path = tmp_path / ("p.csv.gz" if compressed else "p.csv")
    path.write_bytes(gzip.compress(text.encode()) if compressed else text.encode())
    small = read_predictions(str(path))
    monkeypatch.setattr(io_csv, "_CSV_STDLIB_MAX", 0)
    monkeypatch.setattr(io_csv, "_GZ_STDLIB_MAX", 0)
    monkeypatch.setattr(io_csv, "_small_csv", lambda *a: pytest.fail("read by the stdlib"))
    large = read_predictions(str(path))
    assert large.y_true.dtype == small.y_true.dtype == np.int64
    assert_array_equal(large.y_true, small.y_true)
    assert_array_equal(large.y_score, small.y_score)
    assert large.prediction_columns == ("prob_0", "prob_1")


def test_large_csv_reads_only_the_resolved_columns(tmp_path, monkeypatch):
    import pyarrow.csv as pacsv

    path = write_csv(tmp_path / "p.csv", "junk,label,prob,junk\nx,1,0.5,y\nz,0,0.25,w\n", bom=True)
    seen = []
    real = pacsv.read_csv
    monkeypatch.setattr(io_csv, "_CSV_STDLIB_MAX", 0)
    monkeypatch.setattr(pacsv, "read_csv", lambda *a, **k: seen.append(k) or real(*a, **k))
    pred = read_predictions(str(path))
    assert seen[0]["convert_options"].include_columns == ["label", "prob"]
    assert_array_equal(pred.y_score, [0.5, 0.25])


def test_csv_row_with_wrong_number_of_fields_is_an_input_error(tmp_path):
    with raises(r"data row 2 of .*p\.csv has 3 fields but the header has 2"):
        read_predictions(str(write_csv(tmp_path / "p.csv", "label,prob\n1,0.5\n0,0.1,9\n")))


def test_csv_text_prediction_column_is_named_in_the_error(tmp_path):
    with raises(r"prediction column 'prob' in .* is not numeric.*--pred-col"):
        read_predictions(str(write_csv(tmp_path / "p.csv", "label,prob\n1,high\n")))


def test_csv_with_header_only_has_no_rows(tmp_path):
    with raises("no rows in"):
        read_predictions(str(write_csv(tmp_path / "p.csv", "label,prob\n")))


def test_empty_csv_asks_for_a_header(tmp_path):
    with raises("is empty; expected a header row"):
        read_predictions(str(write_csv(tmp_path / "p.csv", "")))


def test_truncated_csv_gz_is_an_input_error(tmp_path):
    path = tmp_path / "p.csv.gz"
    path.write_bytes(gzip.compress(b"label,prob\n1,0.5\n" * 100)[:40])
    with raises(r"cannot read .*p\.csv\.gz as csv"):
        read_predictions(str(path))


def test_corrupt_npz_is_an_input_error(tmp_path):
    path = tmp_path / "p.npz"
    path.write_bytes(b"PK\x03\x04 not a zip archive")
    with raises(r"cannot read .*p\.npz as npz"):
        read_predictions(str(path))


def test_csv_that_is_not_utf8_is_an_input_error(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(b"label,prob\n\xff\xfe,0.5\n")
    with raises(r"cannot read .*p\.csv as csv"):
        read_predictions(str(path))


# ---- parquet, feather, arrow -------------------------------------------------------------------


def test_parquet_keeps_float32_and_int_labels(tmp_path):
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"label": Y.astype(np.int32), "prob": P.astype(np.float32)}), path)
    pred = read_predictions(str(path))
    assert pred.y_score.dtype == np.float32
    assert pred.y_true.dtype == np.int32
    assert_array_equal(pred.y_score, P.astype(np.float32))
    assert pred.format == "parquet"


def test_parquet_float16_stays_float16_and_bool_predictions_become_float64(tmp_path):
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"label": [True, False], "prob": np.array([0.5, 1], np.float16)}), path)
    assert read_predictions(str(path)).y_score.dtype == np.float16
    pq.write_table(pa.table({"label": [1, 0], "pred": [True, False]}), path)
    assert_array_equal(read_predictions(str(path)).y_score, np.array([1.0, 0.0]))


def test_parquet_reads_only_the_resolved_columns(tmp_path, monkeypatch):
    path = tmp_path / "p.pq"
    pq.write_table(pa.table({"feat": P, "prob": P, "label": Y, "other": Y}), path)
    seen = []
    real = pq.ParquetFile.read
    monkeypatch.setattr(
        pq.ParquetFile, "read", lambda self, columns: seen.append(columns) or real(self, columns)
    )
    read_predictions(str(path))
    assert seen == [["label", "prob"]]


@pytest.mark.parametrize(
    "labels",
    [
        pa.array(Y),
        pa.array(Y.astype(bool)),
        pa.array(np.where(Y == 1, "spam", "ham")),
        pa.array(np.where(Y == 1, "spam", "ham"), type=pa.large_string()),
    ],
    ids=["ints", "booleans", "text", "large-text"],
)
def test_reading_parquet_does_not_import_pandas(tmp_path, labels):
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"label": labels, "prob": P}), path)
    code = (
        "import sys; from lossdoctor.io import read_predictions; "
        f"read_predictions({str(path)!r}); print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "column",
    [
        pa.array([True, False, None, True] * 5),
        pa.array([True, False, True, True, False] * 3).slice(2, 11),
        pa.array(["b", None, "a", "ccc", "a"] * 3).slice(1, 12),
        pa.array(["x", "y", None], type=pa.large_string()),
        pa.array([], type=pa.string()),
    ],
    ids=["booleans-with-nulls", "sliced-booleans", "sliced-text-with-nulls", "large-text", "empty"],
)
def test_boolean_and_text_columns_equal_pyarrows_own_conversion(column):
    from lossdoctor.io.arrow import _arrow_array

    got = _arrow_array("label", column, "p.parquet")
    if pa.types.is_boolean(column.type) and column.null_count:
        want = column.cast(pa.float64()).fill_null(float("nan")).to_numpy(zero_copy_only=False)
        np.testing.assert_array_equal(got, want)
        return
    if pa.types.is_boolean(column.type):
        want = column.to_numpy(zero_copy_only=False)
    else:
        want = np.asarray(column.fill_null("").to_numpy(zero_copy_only=False), dtype=str)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "kind", [pa.list_(pa.float32()), pa.large_list(pa.float32()), pa.list_(pa.float32(), 3)]
)
def test_parquet_list_column_becomes_a_2d_array(tmp_path, kind):
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"y": [0, 1, 2], "probs": pa.array(P3.tolist(), type=kind)}), path)
    pred = read_predictions(str(path))
    assert pred.y_score.shape == (3, 3)
    assert pred.y_score.dtype == np.float32
    assert_array_equal(pred.y_score, P3.astype(np.float32))


def test_list_label_column_gives_multi_hot_labels(tmp_path):
    path = tmp_path / "p.parquet"
    pq.write_table(
        pa.table({"labels": [[1, 0, 1], [0, 1, 0]], "scores": [[0.9] * 3, [0.1] * 3]}), path
    )
    pred = read_predictions(str(path))
    assert_array_equal(pred.y_true, [[1, 0, 1], [0, 1, 0]])
    assert pred.y_score.shape == (2, 3)


def test_ragged_list_column_is_named_in_the_error(tmp_path):
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"label": [0, 1], "probs": [[0.5, 0.5], [1.0]]}), path)
    with raises(r"rows of list column 'probs' in .* have different lengths \(1\.\.2\)"):
        read_predictions(str(path))


def test_parquet_nulls_become_nan_and_rows_are_kept(tmp_path):
    path = tmp_path / "p.parquet"
    pq.write_table(
        pa.table({"label": [1, None, 0], "prob": pa.array([0.5, None, 0.2], pa.float32())}), path
    )
    pred = read_predictions(str(path))
    assert_array_equal(pred.y_true, [1.0, np.nan, 0.0])
    assert_array_equal(pred.y_score, np.array([0.5, np.nan, 0.2], np.float32))
    assert pred.y_score.dtype == np.float32


def test_parquet_dictionary_and_string_labels_become_str_arrays(tmp_path):
    path = tmp_path / "p.parquet"
    labels = pa.array(["cat", "dog", "cat"]).dictionary_encode()
    pq.write_table(pa.table({"target": labels, "prob_0": P[:3], "prob_1": 1 - P[:3]}), path)
    pred = read_predictions(str(path))
    assert pred.y_true.dtype.kind == "U"
    assert_array_equal(pred.y_true, ["cat", "dog", "cat"])


def test_parquet_with_several_row_groups_is_read_whole(tmp_path):
    path = tmp_path / "p.parquet"
    pq.write_table(
        pa.table({"label": np.arange(100) % 2, "prob": np.linspace(0, 1, 100)}),
        path,
        row_group_size=7,
    )
    pred = read_predictions(str(path))
    assert_array_equal(pred.y_score, np.linspace(0, 1, 100))


def test_parquet_with_zero_rows_is_an_input_error(tmp_path):
    path = tmp_path / "p.parquet"
    pq.write_table(
        pa.table({"label": pa.array([], pa.int64()), "prob": pa.array([], pa.float64())}), path
    )
    with raises("no rows in"):
        read_predictions(str(path))


def test_logit_columns_are_declared_logits(tmp_path):
    path = tmp_path / "p.parquet"
    pq.write_table(
        pa.table({"label": [0, 1], "Logits_0": [1.0, -2.0], "Logits_1": [0.5, 3.0]}), path
    )
    pred = read_predictions(str(path))
    assert pred.declared_logits
    assert pred.prediction_columns == ("Logits_0", "Logits_1")


def test_text_prediction_column_in_parquet_is_named_in_the_error(tmp_path):
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"label": [0, 1], "prediction": ["no", "yes"]}), path)
    with raises("prediction column 'prediction' in .* is not numeric"):
        read_predictions(str(path))


def test_corrupt_parquet_is_an_input_error_not_a_pyarrow_error(tmp_path):
    path = tmp_path / "p.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    with raises(r"cannot read .*p\.parquet as parquet") as e:
        read_predictions(str(path))
    one_line(e)


@pytest.mark.parametrize(
    ("name", "fmt"), [("p.feather", "feather"), ("p.arrow", "arrow"), ("p.IPC", "arrow")]
)
def test_feather_and_arrow_files_round_trip(tmp_path, name, fmt):
    path = tmp_path / name
    table = pa.table({"label": Y, "prob": P.astype(np.float32), "x": P})
    feather.write_feather(table, path, compression="uncompressed" if fmt == "arrow" else "lz4")
    pred = read_predictions(str(path))
    assert_array_equal(pred.y_true, Y)
    assert_array_equal(pred.y_score, P.astype(np.float32))
    assert pred.y_score.dtype == np.float32
    assert pred.format == fmt


def test_arrow_ipc_stream_round_trips(tmp_path):
    path = tmp_path / "p.arrow"
    table = pa.table(
        {
            "truth": Y,
            "probs": pa.array(np.repeat(P[:, None], 2, 1).tolist(), pa.list_(pa.float64(), 2)),
        }
    )
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    pred = read_predictions(str(path))
    assert_array_equal(pred.y_score[:, 1], P)


# ---- npy and npz -------------------------------------------------------------------------------


def test_npy_predictions_with_npy_labels(tmp_path):
    np.save(tmp_path / "p.npy", P3.astype(np.float32))
    np.save(tmp_path / "y.npy", np.array([0, 1, 2]))
    pred = read_predictions(str(tmp_path / "p.npy"), labels_path=str(tmp_path / "y.npy"))
    assert_array_equal(pred.y_score, P3.astype(np.float32))
    assert pred.y_score.dtype == np.float32
    assert_array_equal(pred.y_true, [0, 1, 2])
    assert (pred.label_columns, pred.prediction_columns, pred.format) == ((), (), "npy")


def test_npy_predictions_with_a_single_column_csv_of_labels(tmp_path):
    np.save(tmp_path / "p.npy", P)
    labels = write_csv(tmp_path / "truth.csv", "whatever\n" + "".join(f"{v}\n" for v in Y))
    pred = read_predictions(str(tmp_path / "p.npy"), labels_path=str(labels))
    assert_array_equal(pred.y_true, Y)
    assert pred.label_columns == ("whatever",)


def test_labels_table_with_one_recognised_label_column(tmp_path):
    np.save(tmp_path / "p.npy", P)
    pq.write_table(pa.table({"id": np.arange(5), "label": Y}), tmp_path / "y.parquet")
    pred = read_predictions(str(tmp_path / "p.npy"), labels_path=str(tmp_path / "y.parquet"))
    assert_array_equal(pred.y_true, Y)


def test_with_labels_file_a_single_unrecognised_column_is_the_prediction(tmp_path):
    pq.write_table(pa.table({"model_out": P}), tmp_path / "p.parquet")
    np.save(tmp_path / "y.npy", Y)
    pred = read_predictions(str(tmp_path / "p.parquet"), labels_path=str(tmp_path / "y.npy"))
    assert pred.prediction_columns == ("model_out",)
    assert_array_equal(pred.y_score, P)


def test_npy_without_labels_asks_for_the_labels_option(tmp_path):
    np.save(tmp_path / "p.npy", P)
    with raises(r"p\.npy holds only predictions; pass the labels with --labels FILE"):
        read_predictions(str(tmp_path / "p.npy"))


def test_labels_and_predictions_of_different_lengths(tmp_path):
    np.save(tmp_path / "p.npy", P)
    np.save(tmp_path / "y.npy", Y[:3])
    with raises("labels have 3 rows but predictions have 5"):
        read_predictions(str(tmp_path / "p.npy"), labels_path=str(tmp_path / "y.npy"))


def test_npy_with_three_dimensions_is_an_input_error(tmp_path):
    np.save(tmp_path / "p.npy", np.zeros((2, 2, 2)))
    np.save(tmp_path / "y.npy", np.zeros(2))
    with raises("has 3 dimensions"):
        read_predictions(str(tmp_path / "p.npy"), labels_path=str(tmp_path / "y.npy"))


class _Tripwire:
    """Unpickling this touches a file: proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("suffix", ["npy", "npz"])
def test_pickled_object_arrays_are_refused_without_running_them(tmp_path, suffix):
    marker = tmp_path / "unpickled"
    objects = np.array([_Tripwire(marker), None], dtype=object)
    if suffix == "npy":
        np.save(tmp_path / "p.npy", objects, allow_pickle=True)
    else:
        np.savez(tmp_path / "p.npz", y_true=objects, y_pred=P[:2])
    np.save(tmp_path / "y.npy", Y[:2])
    with raises("refusing to unpickle") as e:
        read_predictions(
            str(tmp_path / f"p.{suffix}"),
            labels_path=str(tmp_path / "y.npy") if suffix == "npy" else None,
        )
    one_line(e)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("label_key", "pred_key"),
    [
        ("y_true", "y_pred"),
        ("labels", "predictions"),
        ("y_true", "y_score"),
        ("y", "probs"),
        ("labels", "logits"),
    ],
)
def test_npz_key_pairs(tmp_path, label_key, pred_key):
    np.savez(tmp_path / "p.npz", **{label_key: np.array([0, 1, 2]), pred_key: P3})
    pred = read_predictions(str(tmp_path / "p.npz"))
    assert_array_equal(pred.y_true, [0, 1, 2])
    assert_array_equal(pred.y_score, P3)
    assert pred.declared_logits == (pred_key == "logits")
    assert pred.format == "npz"


def test_npz_without_known_keys_lists_the_keys_seen(tmp_path):
    np.savez(tmp_path / "p.npz", P, Y)
    with raises(r"p\.npz is not a predictions file: .*\(columns: arr_0, arr_1\)"):
        read_predictions(str(tmp_path / "p.npz"))


# ---- stdin, format choice, missing files ---------------------------------------------------------


def test_stdin_parquet_is_sniffed(monkeypatch):
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"label": Y, "prob": P}), sink)
    stdin_bytes(monkeypatch, sink.getvalue().to_pybytes())
    pred = read_predictions("-")
    assert (pred.source, pred.format) == ("-", "parquet")
    assert_array_equal(pred.y_score, P)


@pytest.mark.parametrize("compress", [False, True])
def test_stdin_csv_and_csv_gz(monkeypatch, compress):
    data = csv_text({"label": Y, "prob": P}).encode()
    stdin_bytes(monkeypatch, gzip.compress(data) if compress else data)
    pred = read_predictions("-")
    assert pred.format == "csv"
    assert_array_equal(pred.y_true, Y)


def test_stdin_npz_and_feather(monkeypatch):
    buffer = io.BytesIO()
    np.savez(buffer, labels=Y, predictions=P)
    stdin_bytes(monkeypatch, buffer.getvalue())
    assert_array_equal(read_predictions("-").y_score, P)
    sink = pa.BufferOutputStream()
    feather.write_feather(pa.table({"label": Y, "prob": P}), sink)
    stdin_bytes(monkeypatch, sink.getvalue().to_pybytes())
    assert read_predictions("-").format == "arrow"


def test_input_format_overrides_the_extension(tmp_path):
    path = write_csv(tmp_path / "p.parquet", "label,prob\n1,0.5\n")
    assert read_predictions(str(path), input_format="CSV").format == "csv"


def test_unknown_extension_is_sniffed(tmp_path):
    path = tmp_path / "p.data"
    pq.write_table(pa.table({"label": Y, "prob": P}), path)
    assert read_predictions(str(path)).format == "parquet"


def test_unknown_input_format_is_an_input_error(tmp_path):
    with raises("unknown input format 'xlsx'"):
        read_predictions(str(tmp_path / "p.csv"), input_format="xlsx")


def test_missing_file_is_an_input_error(tmp_path):
    with raises(r"nope\.csv: no such file"):
        read_predictions(str(tmp_path / "nope.csv"))


# ---- from_columns ------------------------------------------------------------------------------


def test_from_columns_applies_the_same_rules():
    pred = from_columns(
        {"Label": Y, "prob_1": 1 - P, "prob_0": P}, source="<array>", format="array"
    )
    assert isinstance(pred, Predictions)
    assert pred.prediction_columns == ("prob_0", "prob_1")
    assert_array_equal(pred.y_score, np.column_stack([P, 1 - P]))


def object_column(*values: object) -> np.ndarray:
    """What pandas hands over for text or list cells: a 1-D object array."""
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


def test_from_columns_turns_object_columns_into_text_or_rows():
    rows = object_column(np.array([0.1, 0.9]), np.array([0.8, 0.2]))
    pred = from_columns(
        {"label": object_column("a", "b"), "probs": rows}, source="df", format="dataframe"
    )
    assert_array_equal(pred.y_true, ["a", "b"])
    assert_array_equal(pred.y_score, [[0.1, 0.9], [0.8, 0.2]])


def test_from_columns_rejects_columns_of_different_lengths():
    with raises("different lengths"):
        from_columns({"label_0": Y, "label_1": Y[:2], "prob": P}, source="m", format="array")


# ---- import cost -------------------------------------------------------------------------------


def test_importing_io_loads_neither_pandas_nor_pyarrow():
    code = "import sys, lossdoctor.io; print(sorted({'pandas', 'pyarrow'} & set(sys.modules)))"
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_reading_a_small_csv_loads_neither_pandas_nor_pyarrow(tmp_path):
    path = write_csv(tmp_path / "p.csv", "label,prob\n1,0.5\n")
    code = (
        "import sys; from lossdoctor.io import read_predictions as r; r(sys.argv[1]); "
        "print(sorted({'pandas', 'pyarrow'} & set(sys.modules)))"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


def test_random_shuffles_of_wide_one_hot_columns_keep_numeric_order():
    names = [f"label_{i}" for i in range(30)] + [f"score_{i}" for i in range(30)]
    random.Random(0).shuffle(names)
    labels, preds = resolve_columns(names)
    assert labels == [f"label_{i}" for i in range(30)]
    assert preds == [f"score_{i}" for i in range(30)]


def test_large_csv_duplicate_column_names_keep_the_first(tmp_path, monkeypatch):
    monkeypatch.setattr(io_csv, "_CSV_STDLIB_MAX", 0)
    path = write_csv(tmp_path / "p.csv", "label,prob,prob,label\n1,0.5,0.7,0\n")
    pred = read_predictions(str(path))
    assert_array_equal(pred.y_true, [1])
    assert_array_equal(pred.y_score, [0.5])


def test_from_columns_ragged_list_cells_are_an_input_error():
    rows = object_column([0.1, 0.9], [1.0])
    with raises(r"rows of list column 'probs' in df have different lengths \(1\.\.2\)"):
        from_columns({"label": Y[:2], "probs": rows}, source="df", format="dataframe")


def test_from_columns_none_in_numeric_object_column_becomes_nan():
    pred = from_columns(
        {"label": object_column(1, None), "prob": P[:2]}, source="df", format="dataframe"
    )
    assert_array_equal(pred.y_true, [1.0, np.nan])


def test_unreadable_file_is_an_input_error(tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(io_sources, "open_regular", denied)
    with raises(r"cannot read .*p\.data as a file \(\[Errno 13\] Permission denied\)"):
        read_predictions(str(write_csv(tmp_path / "p.data", "label,prob\n1,0.5\n")))


@pytest.mark.parametrize("missing", ["", "NA", "null", "N/A", "nan"])
def test_small_and_large_csv_readers_agree_on_missing_cells(tmp_path, monkeypatch, missing):
    import lossdoctor.io.csv as io_csv

    path = tmp_path / "p.csv"
    path.write_text(f"label,prob\n0,0.2\n1,{missing}\n1,0.9\n")
    small = read_predictions(str(path)).y_score
    monkeypatch.setattr(io_csv, "_CSV_STDLIB_MAX", 0)
    large = read_predictions(str(path)).y_score
    assert_array_equal(small, large)
    assert np.isnan(small[1])


@pytest.mark.parametrize("before", ["\n", "\n\n  \n", "\r\n"])
def test_small_and_large_csv_readers_agree_on_blank_lines_before_the_header(
    tmp_path, monkeypatch, before
):
    import lossdoctor.io.csv as io_csv

    path = tmp_path / "p.csv"
    path.write_text(f"{before}label,prob\n0,0.2\n1,0.7\n1,0.9\n", newline="")
    small = read_predictions(str(path))
    monkeypatch.setattr(io_csv, "_CSV_STDLIB_MAX", 0)
    large = read_predictions(str(path))
    assert small.label_columns == large.label_columns == ("label",)
    assert_array_equal(small.y_score, [0.2, 0.7, 0.9])
    assert_array_equal(large.y_score, small.y_score)
    assert_array_equal(large.y_true, small.y_true)


@pytest.mark.parametrize("header", ['"true\nlabel",prob', 'label,"prob\r\nof, ""one"""'])
def test_small_and_large_csv_readers_agree_on_a_line_break_in_a_quoted_name(
    tmp_path, monkeypatch, header
):
    import csv

    import lossdoctor.io.csv as io_csv

    path = tmp_path / "p.csv"
    path.write_text(f"\n{header}\n0,0.2\n1,0.7\n1,0.9\n", newline="")
    names = next(csv.reader([header]))
    options = {"label_cols": (names[0],), "pred_cols": (names[1],)}
    small = read_predictions(str(path), **options)
    monkeypatch.setattr(io_csv, "_CSV_STDLIB_MAX", 0)
    large = read_predictions(str(path), **options)
    assert small.label_columns == large.label_columns == (names[0],)
    assert_array_equal(small.y_true, [0, 1, 1])
    assert_array_equal(large.y_true, small.y_true)
    assert_array_equal(large.y_score, small.y_score)


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_a_header_up_to_the_documented_limit_is_read_from_a_large_file(tmp_path, suffix):
    """pyarrow skips a header only within its first block (1 MB by default)."""
    from lossdoctor.io import MAX_HEADER_BYTES

    extra = 50_000
    width = (MAX_HEADER_BYTES - 1000) // extra - 6
    names = ["label", "prob", *(f"note_{i:0{width}d}" for i in range(extra))]
    header = ",".join(names)
    assert 0.99 * MAX_HEADER_BYTES < len(header) < MAX_HEADER_BYTES
    rows = [f"{i % 2},{(i % 9 + 1) / 10}" + "," * extra for i in range(40)]
    text = "\n".join([header, *rows]) + "\n"
    path = tmp_path / f"p{suffix}"
    path.write_bytes(gzip.compress(text.encode()) if suffix.endswith(".gz") else text.encode())
    assert len(text) > 2 * io_csv._CSV_STDLIB_MAX  # pyarrow's reader, not the stdlib's
    pred = read_predictions(str(path))
    assert_array_equal(pred.y_true, np.arange(40) % 2)
    assert_array_equal(pred.y_score, (np.arange(40) % 9 + 1) / 10)


@pytest.mark.parametrize("large", [False, True])
def test_text_labels_are_read_up_to_the_documented_length(tmp_path, monkeypatch, large):
    from lossdoctor.io import MAX_TEXT_CHARS

    if large:
        monkeypatch.setattr(io_csv, "_CSV_STDLIB_MAX", 0)  # pyarrow's reader
    path = tmp_path / "p.csv"
    longest = "x" * MAX_TEXT_CHARS
    path.write_text(f"label,prob\n{longest},0.2\ncat,0.7\n")
    assert read_predictions(str(path)).y_true.dtype == np.dtype(f"<U{MAX_TEXT_CHARS}")
    path.write_text(f"label,prob\n{longest}y,0.2\ncat,0.7\n")
    with raises(r"column 'label' in .*p\.csv holds text of 1,001 characters; labels are class"):
        read_predictions(str(path))


def test_long_text_in_a_dataframe_is_refused_before_it_becomes_numpy_text():
    columns = {"label": np.array(["a" * 5000, "b"], dtype=object), "prob": np.array([0.2, 0.8])}
    with raises("holds text of 5,000 characters"):
        from_columns(columns, source="<dataframe>", format="dataframe")
