"""A Parquet dataset surveyed from its footers reports exactly what a survey of every row
reports: written with and without statistics, the same rows give the same report; where the
footers cannot decide (NaN scores, values that are not classes, whole-number scores, several
columns) the survey of every row decides."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lossdoctor.engines import with_files
from lossdoctor.engines.local import Streaming
from lossdoctor.infer import footers
from lossdoctor.infer.survey import label_counts
from lossdoctor.io import open_dataset
from lossdoctor.settings import DEFAULTS
from tests.test_streaming import cli_json, comparable

SIZES = (300, 300, 300)  # past the first rows read of each (WHOLE_PEEK)


def _write(directory, table: pa.Table, statistics: bool):
    directory.mkdir(parents=True)
    start = 0
    for i, n in enumerate(SIZES):
        part = table.slice(start, n)
        pq.write_table(part, directory / f"part-{i}.parquet", write_statistics=statistics)
        start += n
    return directory


def _decided_from_footers(directory) -> bool:
    engine = Streaming(open_dataset(str(directory), by=with_files(())))
    return footers.survey(engine, DEFAULTS) is not None


def _both_ways(tmp_path, table: pa.Table) -> tuple[dict, bool]:
    """The report with statistics, checked equal to the one without; and whether the footers
    decided."""
    with_stats = _write(tmp_path / "with", table, statistics=True)
    without = _write(tmp_path / "without", table, statistics=False)
    assert not _decided_from_footers(without)
    report = cli_json(with_stats, "--bootstrap", "0")
    assert comparable(report) == comparable(cli_json(without, "--bootstrap", "0"))
    return report, _decided_from_footers(with_stats)


def _binary(rng, n: int = sum(SIZES)) -> tuple[np.ndarray, np.ndarray]:
    p = rng.uniform(0.01, 0.99, n).astype(np.float32)
    y = (rng.uniform(size=n) < p).astype(np.int8)
    y[:40] = 1 - y[:40]  # a few confident mistakes: label issues to count and list
    return y, p


@pytest.fixture
def binary(rng):
    return _binary(rng)


def test_probabilities_are_decided_from_the_footers_exactly_as_from_every_row(tmp_path, binary):
    y, p = binary
    report, decided = _both_ways(tmp_path, pa.table({"label": y, "prob": p}))
    assert decided
    assert report["prediction_kind"] == "probabilities" and report["input"]["rows"] == sum(SIZES)
    assert any(f["check"] == "label-issues" for f in report["findings"])


def test_logits_in_one_file_only_are_seen_in_its_statistics(tmp_path, binary):
    y, p = binary
    z = p.copy()
    z[-1] = 1.7  # the last row of the last file: every score is a logit
    report, decided = _both_ways(tmp_path, pa.table({"label": y, "prob": z}))
    assert decided and report["prediction_kind"] == "logits"
    assert "inconsistent-segments" in {f["check"] for f in report["findings"]}


def test_nan_scores_left_out_of_the_statistics_send_the_diagnosis_back_to_every_row(
    tmp_path, binary
):
    y, p = binary
    p = p.copy()
    p[[290, 580]] = np.nan  # statistics leave NaN out: the footers decide, the summaries see it
    report, decided = _both_ways(tmp_path, pa.table({"label": y, "prob": p}))
    assert decided
    assert report["input"]["rows_used"] == sum(SIZES) - 2
    [non_finite] = [f for f in report["findings"] if f["check"] == "non-finite-values"]
    assert "290" in non_finite["message"] and "580" in non_finite["message"]


@pytest.mark.parametrize(
    "labels, scores",
    [
        (
            "-100 (ignored) among 0 and 1",
            lambda y, p: (np.where(np.arange(len(y)) == 9, -100, y), p),
        ),
        ("whole-number scores", lambda y, p: (y, np.round(p).astype(np.float32))),
        ("float labels", lambda y, p: (y.astype(np.float64), p)),
    ],
)
def test_what_the_footers_cannot_decide_is_surveyed_row_by_row(tmp_path, binary, labels, scores):
    label, score = scores(*binary)
    _, decided = _both_ways(tmp_path, pa.table({"label": label, "prob": score}))
    assert not decided, labels


def test_minus_one_plus_one_labels_are_read_from_the_label_column(tmp_path, binary):
    y, p = binary
    report, decided = _both_ways(tmp_path, pa.table({"label": 2 * y - 1, "prob": p}))
    assert decided and report["input"]["rows_used"] == sum(SIZES)


def test_by_file_reads_each_files_survey_from_its_footer_as_from_every_row(tmp_path, binary):
    """--by file (no column) is surveyed from the footers, as a plain check is: the same
    segments and findings as a survey of every row; a --by column is surveyed row by row."""
    y, p = binary
    z = p.copy()
    z[-1] = 1.7  # the last file holds logits
    table = pa.table({"label": y, "prob": z})
    with_stats = _write(tmp_path / "with", table, statistics=True)
    without = _write(tmp_path / "without", table, statistics=False)
    engine = Streaming(open_dataset(str(with_stats), by=with_files(("file",))))
    assert footers.survey(engine, replace(DEFAULTS, by=("file",))) is not None
    assert footers.survey(engine, replace(DEFAULTS, by=("file", "store"))) is None
    report = cli_json(with_stats, "--by", "file", "--bootstrap", "0")
    assert comparable(report) == comparable(cli_json(without, "--by", "file", "--bootstrap", "0"))
    assert [s["rows"] for s in report["segments"]] == [300, 300, 300]
    inconsistent = [f for f in report["findings"] if f["check"] == "inconsistent-segments"]
    assert inconsistent and "part-2.parquet" in inconsistent[0]["message"]


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int64, np.uint64, bool])
@pytest.mark.parametrize("values", [(0, 1), (1,), (0, 3), (2, 3, 5), tuple(range(9))])
def test_label_values_are_counted_as_numpy_counts_them(dtype, values):
    if dtype is bool and max(values) > 1:
        return
    labels = np.random.default_rng(len(values)).choice(values, 1000).astype(dtype)
    found, counts = label_counts(labels)
    expected, expected_counts = np.unique(
        labels.view(np.int8) if dtype is bool else labels, return_counts=True
    )
    assert found.dtype == expected.dtype
    np.testing.assert_array_equal(found, expected)
    np.testing.assert_array_equal(counts, expected_counts)


def test_first_rows_are_what_a_dataset_scan_reads_in_the_datasets_types(tmp_path, binary):
    """Read by the file's own reader where it holds the columns, by a scan where a column is a
    hive key that no file holds: both the scan's rows, types and schema."""
    import pyarrow.dataset as ds

    from lossdoctor.io.footers import first_rows

    y, p = binary
    written = {}
    for group in (0, 1):
        (tmp_path / f"label={group}").mkdir()
        path = tmp_path / f"label={group}" / "part.parquet"
        written[str(path)] = pa.table({"prob": p[y == group], "other": p[y == group]})
        pq.write_table(written[str(path)], path, row_group_size=100)
    dataset = ds.dataset(tmp_path, format="parquet", partitioning="hive")
    for fragment in dataset.get_fragments():
        second_group = fragment.split_by_row_group()[1]
        for columns in (["prob"], ["label", "prob"]):
            scan = ds.Scanner.from_fragment(
                second_group, schema=dataset.schema, columns=columns, batch_size=7
            )
            found = first_rows(second_group, dataset.schema, columns, 7)
            assert found.equals(scan.head(7), check_metadata=True)
            expected = written[fragment.path].column("prob").slice(100, 7)
            assert found.column("prob").equals(expected)
