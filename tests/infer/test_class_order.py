"""Class order: categorical labels map by their categories (code i is class i), plain text is
sorted (as LabelEncoder), --classes gives it; every file written by the library that writes
it in real life, every metric compared with scikit-learn on the codes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from sklearn import metrics as skm
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

import lossdoctor
from lossdoctor import Severity
from lossdoctor.cli import cli
from tests.conftest import calibrated_multiclass

LEVELS = ["low", "medium", "high"]  # sorted, they would be high, low, medium


@pytest.fixture(scope="module")
def breast_cancer():
    """The issue's case: codes 0 malignant, 1 benign, and P(benign) saved as `prob`."""
    x, y = load_breast_cancer(return_X_y=True)
    p = LogisticRegression(max_iter=5000).fit(x, y).predict_proba(x)[:, 1]
    frame = pd.DataFrame(
        {"label": pd.Categorical.from_codes(y, categories=["malignant", "benign"]), "prob": p}
    )
    return frame, y, p


@pytest.fixture(scope="module")
def ordered():
    """low < medium < high, prob_0..prob_2 in category order, labels drawn from the model."""
    codes, proba = calibrated_multiclass(900, 3, scale=3, seed=3)
    label = pd.Categorical.from_codes(codes, categories=LEVELS, ordered=True)
    frame = pd.DataFrame({"label": label, **{f"prob_{k}": proba[:, k] for k in range(3)}})
    return frame, codes, proba


def assert_binary_like_sklearn(report, y, p):
    values = report.metrics.values
    assert values["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p), rel=1e-12)
    assert values["pr_auc"] == pytest.approx(skm.average_precision_score(y, p), rel=1e-12)
    assert values["log_loss"] == pytest.approx(skm.log_loss(y, p), rel=1e-9)
    assert values["accuracy"] == pytest.approx(skm.accuracy_score(y, p >= 0.5))


def assert_multiclass_like_sklearn(report, y, proba):
    values = report.metrics.values
    assert values["accuracy"] == pytest.approx(skm.accuracy_score(y, proba.argmax(axis=1)))
    assert values["log_loss"] == pytest.approx(skm.log_loss(y, proba), rel=1e-9)
    macro = skm.roc_auc_score(y, proba, multi_class="ovr", average="macro")
    assert values["roc_auc"] == pytest.approx(macro, rel=1e-12)
    np.testing.assert_array_equal(
        report.metrics.confusion, skm.confusion_matrix(y, proba.argmax(axis=1))
    )


def no_warnings(report) -> list[str]:
    return [f.title for f in report.findings if f.severity >= Severity.WARNING]


@pytest.mark.parametrize("container", ["frame", "series"])
def test_pandas_categorical_from_codes_keeps_the_positive_class(breast_cancer, container):
    frame, y, p = breast_cancer
    if container == "frame":
        report = lossdoctor.diagnose(frame)
    else:
        report = lossdoctor.diagnose(frame["label"], frame["prob"])
    assert_binary_like_sklearn(report, y, p)
    assert report.metrics.values["roc_auc"] > 0.99
    assert report.class_labels == ("malignant", "benign")
    assert report.class_order == "categorical"
    assert no_warnings(report) == []


@pytest.mark.parametrize("fmt", ["parquet", "feather"])
def test_categorical_written_by_pandas_keeps_its_order(tmp_path, breast_cancer, fmt):
    frame, y, p = breast_cancer
    path = tmp_path / f"preds.{fmt}"
    getattr(frame, f"to_{fmt}")(path)
    report = lossdoctor.diagnose(str(path))
    assert_binary_like_sklearn(report, y, p)
    assert report.to_dict()["class_order"] == "categorical"
    assert no_warnings(report) == []


def test_plain_strings_are_sorted_as_label_encoder(tmp_path, breast_cancer):
    frame, y, p = breast_cancer
    path = tmp_path / "preds.csv"  # CSV has no categories: text, sorted
    frame.to_csv(path, index=False)
    report = lossdoctor.diagnose(str(path))
    assert report.class_order == "sorted"
    assert report.class_labels == ("benign", "malignant")
    assert_binary_like_sklearn(report, 1 - y, p)  # P(benign) read as P(malignant)
    assert report.metrics.values["roc_auc"] < 0.01


def test_ordered_categorical_maps_prob_k_to_category_k(tmp_path, ordered):
    frame, codes, proba = ordered
    for source in (frame, _saved(frame, tmp_path / "o.parquet")):
        report = lossdoctor.diagnose(source)
        assert report.class_labels == tuple(LEVELS)
        assert report.class_order == "categorical"
        assert_multiclass_like_sklearn(report, codes, proba)
        assert no_warnings(report) == []


def _saved(frame: pd.DataFrame, path) -> str:
    frame.to_parquet(path)
    return str(path)


def test_arrow_dictionary_array_written_by_pyarrow(tmp_path, ordered):
    _, codes, proba = ordered
    label = pa.DictionaryArray.from_arrays(pa.array(codes, pa.int8()), pa.array(LEVELS))
    table = pa.table({"label": label, "probs": pa.array(list(proba))})
    feather.write_feather(table, tmp_path / "d.arrow")
    pq.write_table(table, tmp_path / "d.parquet")
    for name in ("d.arrow", "d.parquet"):
        report = lossdoctor.diagnose(str(tmp_path / name))
        assert report.class_order == "categorical", name
        assert_multiclass_like_sklearn(report, codes, proba)


def test_polars_enum_keeps_its_order_and_categorical_is_sorted(tmp_path, ordered):
    pl = pytest.importorskip("polars")
    _, codes, proba = ordered
    text = np.array(LEVELS)[codes]
    probs = {f"prob_{k}": proba[:, k] for k in range(3)}
    enum = pl.DataFrame({"label": pl.Series(text, dtype=pl.Enum(LEVELS)), **probs})
    enum.write_parquet(tmp_path / "enum.parquet")
    enum.write_ipc(tmp_path / "enum.feather")
    for name in ("enum.parquet", "enum.feather"):
        report = lossdoctor.diagnose(str(tmp_path / name))
        assert report.class_order == "categorical", name
        assert_multiclass_like_sklearn(report, codes, proba)
    # polars' Categorical orders its dictionary by first appearance; polars sorts it lexically
    lexical = pl.DataFrame({"label": pl.Series(text, dtype=pl.Categorical), **probs})
    lexical.write_parquet(tmp_path / "categorical.parquet")
    report = lossdoctor.diagnose(str(tmp_path / "categorical.parquet"))
    assert report.class_order == "sorted"
    assert report.class_labels == tuple(sorted(LEVELS))


def test_classes_option_gives_the_order_of_plain_text(tmp_path, ordered):
    frame, codes, proba = ordered
    path = tmp_path / "o.csv"
    frame.to_csv(path, index=False)
    result = CliRunner().invoke(
        cli, ["check", str(path), "--classes", "low,medium,high", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["class_order"] == "given"
    assert report["confusion_matrix"]["labels"] == LEVELS
    expected = skm.confusion_matrix(codes, proba.argmax(axis=1))
    assert report["confusion_matrix"]["matrix"] == expected.tolist()
    assert report["metrics"]["accuracy"] == pytest.approx(
        skm.accuracy_score(codes, proba.argmax(axis=1))
    )


def test_classes_in_the_config_file(tmp_path, ordered):
    frame, codes, proba = ordered
    frame.to_csv(tmp_path / "o.csv", index=False)
    (tmp_path / "lossdoctor.toml").write_text('classes = ["low", "medium", "high"]\n')
    config = ["--config", str(tmp_path / "lossdoctor.toml")]
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "o.csv"), "--format=json", *config])
    report = json.loads(result.output)
    assert report["class_order"] == "given"
    assert report["metrics"]["log_loss"] == pytest.approx(skm.log_loss(codes, proba), rel=1e-9)


def test_classes_override_the_categories_and_reorder_integer_labels(ordered):
    frame, codes, proba = ordered
    reversed_names = LEVELS[::-1]
    report = lossdoctor.diagnose(frame, classes=reversed_names)
    assert report.class_labels == tuple(reversed_names)
    assert_multiclass_like_sklearn(report, 2 - codes, proba)
    # integer labels: class i is the label named classes[i], as sklearn's labels=
    report = lossdoctor.diagnose(codes, proba, classes=np.array([2, 0, 1]))
    remapped = np.array([1, 2, 0])[codes]  # label 2 -> class 0, 0 -> 1, 1 -> 2
    assert_multiclass_like_sklearn(report, remapped, proba)


def test_classes_given_for_binary_and_with_positive_label(breast_cancer):
    _, y, p = breast_cancer
    text = pd.DataFrame({"label": np.array(["malignant", "benign"])[y], "prob": p})
    report = lossdoctor.diagnose(text, classes="malignant,benign")
    assert_binary_like_sklearn(report, y, p)
    report = lossdoctor.diagnose(text, classes="malignant,benign", positive_label="benign")
    assert_binary_like_sklearn(report, y, p)
    with pytest.raises(lossdoctor.InputError, match="second of --classes"):
        lossdoctor.diagnose(text, classes="malignant,benign", positive_label="malignant")


@pytest.mark.parametrize(
    ("classes", "message"),
    [("low,medium", "names 2 classes but the predictions have 3"), ("low,low,high", "twice")],
)
def test_classes_that_do_not_fit_exit_2(tmp_path, ordered, classes, message):
    frame, _, _ = ordered
    frame.to_csv(tmp_path / "o.csv", index=False)
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "o.csv"), "--classes", classes])
    assert result.exit_code == 2
    assert message in result.output


def test_labels_not_among_the_classes_are_left_out(ordered):
    frame, codes, proba = ordered
    report = lossdoctor.diagnose(frame, classes=["low", "medium", "extreme"])
    keep = codes != 2
    assert report.input.rows_used == keep.sum()
    assert report.metrics.values["accuracy"] == pytest.approx(
        skm.accuracy_score(codes[keep], proba[keep].argmax(axis=1))
    )


def test_the_header_says_which_order_and_why(breast_cancer):
    frame, _, _ = breast_cancer
    from lossdoctor.render import Format, render_text

    report = lossdoctor.diagnose(frame)
    markdown = render_text([report], Format.MARKDOWN)
    assert "classes malignant, benign (categorical order)" in markdown
    info = [f for f in report.findings if f.check == "label-encoding"]
    assert info[0].evidence["class_order"] == "categorical"
    assert "order of the label column's categories" in info[0].message


def three_parts(directory, frame: pd.DataFrame) -> str:
    """The frame as a dataset of three Parquet files written by pandas."""
    directory.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(frame)), 3)):
        frame.iloc[part].to_parquet(directory / f"{i}.parquet")
    return str(directory)


def test_a_streamed_dataset_agrees_with_the_file_in_memory(tmp_path, ordered):
    frame, codes, proba = ordered
    streamed = lossdoctor.diagnose(three_parts(tmp_path / "parts", frame))
    assert streamed.class_order == "categorical"
    assert_multiclass_like_sklearn(streamed, codes, proba)


def disagreeing_parts(directory, frame: pd.DataFrame) -> str:
    """Two files of one dataset, the second written with its categories reversed."""
    directory.mkdir()
    frame.iloc[:450].to_parquet(directory / "0.parquet")
    other = frame.iloc[450:].copy()
    other["label"] = other["label"].cat.reorder_categories(LEVELS[::-1])
    other.to_parquet(directory / "1.parquet")
    return str(directory)


def test_dataset_files_with_different_categories_exit_2(tmp_path, ordered):
    frame, _, _ = ordered
    result = CliRunner().invoke(cli, ["check", disagreeing_parts(tmp_path / "parts", frame)])
    assert result.exit_code == 2
    assert "categories come in different orders" in result.output
    assert "--classes" in result.output


def test_dataset_files_with_different_categories_and_classes_given(tmp_path, ordered):
    frame, codes, proba = ordered
    report = lossdoctor.diagnose(disagreeing_parts(tmp_path / "parts", frame), classes=LEVELS)
    assert report.class_order == "given"
    assert_multiclass_like_sklearn(report, codes, proba)


# dask's own Parquet reader, on a file written by pandas, calls a pandas API pandas deprecates
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index")
def test_dask_agrees_with_the_file_in_memory(tmp_path, ordered, dask_scheduler):
    frame, codes, proba = ordered
    parts = three_parts(tmp_path / "parts", frame)
    report = lossdoctor.diagnose(parts, engine="dask", scheduler=dask_scheduler)
    assert report.class_order == "categorical"
    assert_multiclass_like_sklearn(report, codes, proba)


def test_the_issues_breast_cancer_case_from_a_parquet_file(tmp_path):
    """The held-out split of the corpus, labelled as load_breast_cancer(as_frame=True) users do."""
    from tests.corpus import make_corpus as mc

    y, p = mc.outputs("lr", "breast_cancer")
    p = p[:, 1]
    label = pd.Categorical.from_codes(y, categories=["malignant", "benign"])
    pd.DataFrame({"label": label, "prob": p}).to_parquet(tmp_path / "bc.parquet")
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "bc.parquet"), "--format", "json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 0
    assert report["metrics"]["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p), rel=1e-12)
    assert round(report["metrics"]["roc_auc"], 3) == 0.996
    assert [f["severity"] for f in report["findings"]] == ["info"] * len(report["findings"])
