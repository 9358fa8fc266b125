"""Every check on every corpus case: each expected finding present, no false alarm.

The corpus (tests/corpus) is the predictions of small scikit-learn models on bundled data sets,
saved healthy and broken; cases.py says what each must and must not show. A handful of cases
also go through the command line on a file of each format they list.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lossdoctor.checks import BY_ID
from lossdoctor.checks.base import Severity
from lossdoctor.cli import cli
from lossdoctor.report import _plain
from tests.corpus import make_corpus as mc
from tests.corpus.cases import CASES, Case


def _param(case: Case, *values):
    marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
    return pytest.param(case, *values, id="-".join([case.name, *values]), marks=marks)


def _explain(case: Case, problems: list[str], findings: list[dict]) -> str:
    """The failure message: what went wrong, then every finding with its evidence."""
    lines = [f"{case.name}: {p}" for p in problems] + ["findings:"]
    for f in findings:
        lines.append(f"  {f['severity']:<7} {f['check']}: {f['title']}")
        lines.append(f"          {f['message']}")
        lines.append(f"          evidence: {json.dumps(_plain(f['evidence']))}")
    return "\n".join(lines)


def _triples(findings: list[dict]) -> list[tuple[str, Severity, str]]:
    return [(f["check"], Severity[f["severity"].upper()], f["title"]) for f in findings]


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_case(case: Case):
    sample = case.build()
    # the findings alone: no finding reads the bootstrap's intervals, none drawn
    report = mc.diagnose(sample, **case.resolve_options(sample), bootstrap=0)
    findings = [f.to_dict() for f in report.findings]
    problems = case.problems(_triples(findings))
    assert not problems, _explain(case, problems, findings)


# --- the same cases from files, through the command line ----------------------------------------

FLAGS = {
    "task": "--task",
    "threshold": "--threshold",
    "loss": "--loss",
    "reported_accuracy": "--reported-accuracy",
    "reported_loss": "--reported-loss",
    "positive_label": "--positive-label",
    "classes": "--classes",
}


def cli_args(options: dict) -> list[str]:
    """diagnose() keyword arguments as `lossdoctor check` options."""
    args = []
    for name, value in options.items():
        if name == "from_logits":
            args.append("--from-logits" if value else "--from-probabilities")
        elif name == "classes":
            args += [FLAGS[name], ",".join(map(str, value))]
        else:
            args += [FLAGS[name], str(value)]
    return args


@pytest.mark.parametrize(("case", "fmt"), [_param(c, fmt) for c in CASES for fmt in c.formats])
def test_case_from_file(case: Case, fmt: str, tmp_path: Path):
    sample = case.build()
    options = case.resolve_options(sample)
    path = mc.save(sample, tmp_path, fmt)
    result = CliRunner().invoke(cli, ["check", str(path), "--format", "json", *cli_args(options)])
    assert result.exit_code in (0, 1), result.output
    findings = json.loads(result.stdout)["findings"]
    problems = case.problems(_triples(findings))
    assert not problems, _explain(case, problems, findings)
    # The file changes nothing: the same findings as the arrays in memory.
    in_memory = mc.diagnose(sample, **options, bootstrap=0).findings
    assert {(c, s) for c, s, _ in _triples(findings)} == {(f.check, f.severity) for f in in_memory}


# --- the corpus itself ----------------------------------------------------------------------------


def test_every_check_has_a_case_that_must_find_it():
    """A new check cannot be added without a corpus case that shows it firing."""
    covered = {check for case in CASES if not case.xfail for check, _ in case.must_find}
    assert set(BY_ID) - covered == set()


def test_corpus_is_balanced_and_small():
    healthy = [c for c in CASES if c.healthy]
    assert len(healthy) >= 15 and len(CASES) - len(healthy) >= 20
    for case in CASES:
        assert set(case.may_find) <= set(BY_ID), case.name
        assert {check for check, _ in case.must_find} <= set(BY_ID), case.name
        assert set(case.formats) <= set(mc.FORMATS), case.name
        assert case.build().rows <= 600, f"{case.name}: keep the corpus small"
