"""The published JSON Schema: `lossdoctor schema` prints the file shipped in the package, and every
report validates against it: every sample through the command line, synthetic reports of every
task and odd case, and the whole corpus. A strict copy (no undeclared keys) also catches a key
added to the JSON but not to the schema."""

from __future__ import annotations

import copy
import functools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner

import lossdoctor
from lossdoctor.cli import cli
from lossdoctor.metrics import METRIC_NAMES
from lossdoctor.report import SCHEMA_VERSION, json_schema
from tests.corpus import make_corpus as mc
from tests.corpus.cases import CASES

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
SCHEMA_FILE = ROOT / "lossdoctor" / "schema" / "report.schema.json"
# Extra arguments some samples need to show their finding.
SAMPLE_ARGS = {"keras_onehot_multiclass.npz": ["--reported-accuracy", "0.9806"]}
# Subschemas that are open maps by design: their keys are data, not the report's structure.
OPEN = {"evidence", "fixes", "undefined_metrics"}


@functools.cache
def schema(kind: str = "any") -> dict:
    return json.loads(json_schema(kind))


def report_schema() -> dict:
    return schema()["$defs"]["report"]


def strict(node: Any, name: str = "") -> Any:
    """The schema with additionalProperties false on every object that lists its properties,
    outside the conditional parts (allOf/if/then/else list only some properties)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "properties":
                out[key] = {k: strict(v, k) for k, v in value.items()}
            elif key in ("items", "$defs", "additionalProperties"):
                out[key] = (
                    {k: strict(v, k) for k, v in value.items()}
                    if key == "$defs"
                    else strict(value, name)
                )
            else:
                out[key] = copy.deepcopy(value)
        if "properties" in node and name not in OPEN:
            out["additionalProperties"] = False
        return out
    return node


@functools.cache
def validators(kind: str = "report") -> tuple[jsonschema.Validator, jsonschema.Validator]:
    published = jsonschema.Draft202012Validator(schema(kind))
    return published, jsonschema.Draft202012Validator(strict(schema(kind)))


def assert_valid(document: Any, kind: str = "report") -> None:
    """Valid against the schema of its kind, and against the whole output's (kind "any")."""
    for validator in (*validators(kind), *validators("any")):
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
        assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def sample_names() -> list[str]:
    return sorted(
        p.name
        for p in SAMPLES.iterdir()
        if p.suffix in {".parquet", ".csv", ".npz", ".feather"}
        or (p.suffix == ".npy" and not p.stem.endswith("_labels"))
    )


def cli_json(*args: str) -> Any:
    result = CliRunner().invoke(cli, ["check", *args, "--format", "json", "--no-config"])
    assert result.exit_code in (0, 1, 2), result.stderr
    return json.loads(result.stdout)


# ---- the schema itself ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["any", "report", "error"])
def test_the_schema_is_a_valid_draft_2020_12_schema(kind):
    jsonschema.Draft202012Validator.check_schema(schema(kind))
    jsonschema.Draft202012Validator.check_schema(strict(schema(kind)))


def test_the_schema_command_prints_the_shipped_file_byte_for_byte():
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    assert result.stdout == SCHEMA_FILE.read_text(encoding="utf-8")
    json.loads(result.stdout)


def test_the_schema_version_is_the_reports():
    assert report_schema()["properties"]["schema_version"] == {"const": SCHEMA_VERSION}
    error = schema()["$defs"]["error"]["properties"]["schema_version"]
    assert error == {"const": SCHEMA_VERSION}


def test_the_schema_names_every_metric_a_gate_can_name():
    assert list(report_schema()["properties"]["metrics"]["properties"]) == list(METRIC_NAMES)


def test_the_schema_requires_every_key_a_report_always_has():
    report = lossdoctor.diagnose([0, 1, 0, 1], [0.2, 0.7, 0.4, 0.9]).to_dict()
    required = set(report_schema()["required"])
    assert required == set(report) - {"thresholds"}  # thresholds: binary only, by condition


def test_the_schema_is_package_data_in_pyproject():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '[tool.setuptools.package-data]\nlossdoctor = ["schema/*.json"]' in pyproject


# ---- every report validates -------------------------------------------------------------------


@pytest.mark.parametrize("name", sample_names())
def test_every_sample_report_validates(name):
    args = [str(SAMPLES / name), *SAMPLE_ARGS.get(name, [])]
    if name.endswith(".npy"):
        args += ["--labels", str(SAMPLES / name.replace(".npy", "_labels.npy"))]
    assert_valid(cli_json(*args))


def test_every_sample_with_gates_and_verbose_options_validates():
    args = ["--gate", "roc_auc >= 0.999", "--gate", "brier <= 0.001", "--reported-loss", "0.3"]
    for name in ("healthy_binary.parquet", "healthy_multiclass.parquet", "non_finite.csv"):
        report = cli_json(str(SAMPLES / name), *args)
        assert any(f["check"] == "gate" for f in report["findings"])
        assert_valid(report)


def test_several_paths_give_a_list_whose_items_are_reports_or_errors():
    missing = [str(SAMPLES / "missing.parquet"), str(SAMPLES / "missing.npz")]
    reports = cli_json(str(SAMPLES / "healthy_binary.parquet"), *missing)
    assert ["error" in r for r in reports] == [False, True, True]
    assert_valid(reports[0])
    for error in reports[1:]:
        assert_valid(error, kind="error")
    assert [e["path"] for e in reports[1:]] == missing
    assert [e["exit_code"] for e in reports[1:]] == [2, 2]
    assert not list(validators("any")[1].iter_errors(reports))  # the array itself


# ---- error objects: every way a run ends without a report -------------------------------------


def _bad_file(tmp_path: Path, monkeypatch) -> list[str]:
    (tmp_path / "bad.csv").write_text("a,b\nx,y\n", encoding="utf-8")
    return ["check", str(tmp_path / "bad.csv"), "--format", "json"]


def _usage(tmp_path: Path, monkeypatch) -> list[str]:
    return ["check", "--format", "json", "--gate", "nonsense"]


def _internal(tmp_path: Path, monkeypatch) -> list[str]:
    def broken(*args, **kwargs):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr("lossdoctor.pipeline.diagnose", broken)
    return ["check", str(SAMPLES / "healthy_binary.csv"), "--format", "json"]


@pytest.mark.parametrize(
    "make_args, exit_code, has_path",
    [(_bad_file, 2, True), (_usage, 2, False), (_internal, 3, False)],
    ids=["bad-file", "usage", "internal"],
)
def test_every_error_object_validates_and_names_its_path(
    tmp_path, monkeypatch, make_args, exit_code, has_path
):
    args = make_args(tmp_path, monkeypatch)
    result = CliRunner().invoke(cli, [*args, "--no-config"])
    assert result.exit_code == exit_code
    error = json.loads(result.stdout)
    assert_valid(error, kind="error")
    assert error["schema_version"] == SCHEMA_VERSION
    assert error["exit_code"] == exit_code
    assert error["path"] == (args[1] if has_path else None)
    assert result.stderr.rstrip("\n").endswith(error["error"])


@pytest.mark.parametrize(
    "break_it",
    [
        lambda e: e.pop("path"),
        lambda e: e.pop("schema_version"),
        lambda e: e.update(exit_code=1),
        lambda e: e.update(path=3),
    ],
)
def test_a_broken_error_object_does_not_validate(break_it):
    error = {"schema_version": SCHEMA_VERSION, "path": "p.csv", "error": "no", "exit_code": 2}
    assert not list(validators("error")[1].iter_errors(error))
    break_it(error)
    assert list(validators("error")[0].iter_errors(error))
    assert list(validators("any")[0].iter_errors(error))


def test_a_report_is_not_an_error_and_an_error_is_not_a_report():
    report = lossdoctor.diagnose([0, 1, 0, 1], [0.2, 0.7, 0.4, 0.9]).to_dict()
    error = {"schema_version": SCHEMA_VERSION, "path": None, "error": "no", "exit_code": 2}
    assert list(validators("error")[0].iter_errors(report))
    assert list(validators("report")[0].iter_errors(error))
    assert not list(validators("any")[0].iter_errors([report, error]))
    assert list(validators("any")[0].iter_errors([report, {"exit_code": 2}]))


@pytest.mark.parametrize("kind", ["any", "report", "error"])
def test_the_schema_command_prints_each_kind(kind):
    result = CliRunner().invoke(cli, ["schema", "--kind", kind])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == schema(kind)


def test_check_jsonschema_accepts_every_output_kind_it_is_given(tmp_path):
    """The command-line validator users run, on files lossdoctor wrote: one report, one error
    object and the array of a several-path run, against `lossdoctor schema`'s output."""
    runner = CliRunner()
    (tmp_path / "schema.json").write_text(runner.invoke(cli, ["schema"]).stdout, encoding="utf-8")
    outputs = {
        "report": [str(SAMPLES / "imbalanced.parquet")],
        "error": [str(SAMPLES / "missing.parquet")],
        "array": [str(SAMPLES / "healthy_binary.csv"), str(SAMPLES / "missing.parquet")],
    }
    for name, paths in outputs.items():
        result = runner.invoke(cli, ["check", *paths, "--format", "json", "--no-config"])
        (tmp_path / f"{name}.json").write_text(result.stdout, encoding="utf-8")
    (tmp_path / "wrong.json").write_text('{"error": "no", "exit_code": 2}', encoding="utf-8")
    validate = [sys.executable, "-m", "check_jsonschema", "--schemafile", "schema.json"]
    good = subprocess.run(
        [*validate, "report.json", "error.json", "array.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert good.returncode == 0, good.stdout + good.stderr
    bad = subprocess.run([*validate, "wrong.json"], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode == 1, bad.stdout + bad.stderr


def _multiclass_absent_class() -> dict:
    y = np.arange(60) % 3  # class 3 of 4 never occurs: macro AUC undefined
    proba = np.full((60, 4), 0.1)
    proba[np.arange(60), y] = 0.7
    return lossdoctor.diagnose(y, proba).to_dict()


def _multilabel() -> dict:
    rows = np.arange(120)
    y = (rows[:, None] * (np.arange(3) + 2) % 5 < 2).astype(int)
    y[:, 2] = 1  # one label always on: its AUC undefined
    proba = np.clip(0.2 + 0.6 * y + 0.05 * np.sin(rows[:, None]), 0, 1)
    return lossdoctor.diagnose(y, proba, task="multilabel").to_dict()


def _single_class() -> dict:
    return lossdoctor.diagnose(np.ones(10, int), np.linspace(0.1, 0.9, 10)).to_dict()


def _single_row() -> dict:
    return lossdoctor.diagnose([1], [0.8]).to_dict()


def _string_labels() -> dict:
    labels = np.array(["cat", "dog", "eel"] * 10, dtype=object)
    proba = np.random.default_rng(1).dirichlet(np.ones(3), 30)
    return lossdoctor.diagnose(labels, proba).to_dict()


def _bool_labels() -> dict:
    return lossdoctor.diagnose(np.array([True, False] * 10), np.linspace(0, 1, 20)).to_dict()


def _logits_and_non_finite() -> dict:
    z = np.linspace(-6, 6, 50)
    z[3] = np.nan
    return lossdoctor.diagnose((np.arange(50) % 2), z).to_dict()


def _thirty_classes() -> dict:
    y = np.arange(300) % 30
    proba = np.full((300, 30), 0.01)
    proba[np.arange(300), (y + (np.arange(300) % 7 == 0)) % 30] = 0.71
    return lossdoctor.diagnose(y, proba, from_logits=False).to_dict()


def _class_indices() -> dict:
    y = np.arange(60) % 3
    return lossdoctor.diagnose(y, np.where(np.arange(60) % 5 == 0, (y + 1) % 3, y)).to_dict()


def _just_above_one() -> dict:
    p = np.linspace(0, 1, 40, dtype=np.float32)
    p[-1] = np.nextafter(np.float32(1), np.float32(2))
    return lossdoctor.diagnose(np.arange(40) % 2, p).to_dict()


SYNTHETIC = {
    f.__name__.lstrip("_"): f
    for f in (
        _class_indices,
        _just_above_one,
        _multiclass_absent_class,
        _multilabel,
        _single_class,
        _single_row,
        _string_labels,
        _bool_labels,
        _logits_and_non_finite,
        _thirty_classes,
    )
}


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_synthetic_reports_of_every_task_and_odd_case_validate(name):
    report = SYNTHETIC[name]()
    assert_valid(report)


def test_undefined_metrics_are_null_with_a_reason_and_validate():
    for report in (_multiclass_absent_class(), _multilabel(), _single_class()):
        nulls = {k for k, v in report["metrics"].items() if v is None}
        assert nulls and nulls == set(report["undefined_metrics"])
        assert_valid(report)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_every_corpus_report_validates(case):
    sample = case.build()
    assert_valid(mc.diagnose(sample, **case.resolve_options(sample)).to_dict())


# ---- the schema can fail: it is not vacuous ---------------------------------------------------


@pytest.mark.parametrize(
    "break_it",
    [
        lambda r: r.pop("metrics"),
        lambda r: r.update(schema_version=2),
        lambda r: r.update(task="regression"),
        lambda r: r["metrics"].update(roc_auc="0.9"),
        lambda r: r["findings"].append({"check": "x", "severity": "fatal"}),
        lambda r: r.pop("thresholds"),
        lambda r: r["confusion_matrix"].update(matrix=[[1.5, 2], [3, 4]]),
        lambda r: r.update(exit_code=2),
    ],
)
def test_a_broken_report_does_not_validate(break_it):
    report = lossdoctor.diagnose([0, 1, 0, 1], [0.2, 0.7, 0.4, 0.9]).to_dict()
    break_it(report)
    assert list(validators()[0].iter_errors(report))


def test_an_undeclared_key_passes_the_published_schema_but_not_the_strict_one():
    """The published schema lets a program ignore new keys (an additive change); the strict copy
    is how these tests notice a key that the schema does not document yet."""
    report = lossdoctor.diagnose([0, 1, 0, 1], [0.2, 0.7, 0.4, 0.9]).to_dict()
    report["input"]["new_key"] = 1
    published, strict_one = validators()
    assert not list(published.iter_errors(report))
    assert list(strict_one.iter_errors(report))


def test_metrics_of_every_task_are_metric_names_and_together_all_of_them():
    seen: set[str] = set()
    for report in (
        lossdoctor.diagnose([0, 1, 0, 1], [0.2, 0.7, 0.4, 0.9]).to_dict(),
        _multiclass_absent_class(),
        _multilabel(),
    ):
        assert set(report["metrics"]) <= set(METRIC_NAMES)
        seen |= set(report["metrics"])
    assert seen == set(METRIC_NAMES)
