"""Properties every check must have, tested over the whole registry (like scikit-learn's
test_common.py): its documentation and CLI help, the shape of its findings, and its behaviour on
the corpus of real predictions (tests/corpus): plain-JSON evidence, invariance to row order,
silence on healthy files.

Row order: shuffling the rows (one permutation for labels and predictions) must leave every
finding's (check, severity, title) and its evidence unchanged, with one exception: lists of row
numbers. A key ending in `_rows` whose value is a list (`first_rows`, `worst_rows`; not
`bins_rows`, which counts rows per calibration bin) holds row numbers of the file. Its numbers
are mapped back through the permutation and compared as a set, together with the lists aligned
with it (same key prefix, same length: `worst_given_labels`, ...) as a set of tuples. When the
list is cut at the check's ROWS_SHOWN, which rows are shown may depend on the order (ties are
broken by row number), so a cut list and its aligned lists are not compared. Numbers are
compared to 1e-6 relative: a sum in another order rounds differently (float32 sums by ~1e-7).
"""

from __future__ import annotations

import functools
import json
import math
import re

import numpy as np
import pytest
from click.testing import CliRunner

from lossdoctor.checks import BY_ID, REGISTRY
from lossdoctor.checks.base import Finding, Severity
from lossdoctor.cli import cli
from lossdoctor.report import Report, _plain
from lossdoctor.segments import inconsistent, weak
from tests.corpus import make_corpus as mc
from tests.corpus.cases import BY_NAME, CASES, Case

KEBAB = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
# Markup that a terminal or JSON reader would show raw: Markdown, reST, rich tags, HTML.
MARKUP = re.compile(r"`|\*\*|__|\[/?[a-z#@][\w .=#-]*\]|</?[a-z]+>|^#|\n")
DEFAULT_ROWS_SHOWN = 10

by_check = pytest.mark.parametrize("check", REGISTRY, ids=lambda check: check.ID)


def _words(text: str) -> str:
    """Whitespace-normalised text: `explain` re-wraps paragraphs (and may break after a hyphen)."""
    return " ".join(re.sub(r"(?<=\S)-\n\s*", "-", text).split())


# --- the module of a check ----------------------------------------------------------------------


def test_ids_are_unique_kebab_case():
    ids = [check.ID for check in REGISTRY]
    assert len(set(ids)) == len(ids)
    assert all(KEBAB.fullmatch(i) for i in ids), ids
    assert list(BY_ID) == ids


@by_check
def test_default_severity_is_a_severity(check):
    assert isinstance(check.SEVERITY, Severity)


@by_check
def test_docstring_explains_the_check(check):
    doc = check.__doc__
    assert doc, check.ID
    first = doc.strip().splitlines()[0]
    assert first.startswith(f"{check.ID}: ") and first.endswith("."), first
    assert len(first) > len(check.ID) + 3
    assert "How it decides" in doc


@by_check
def test_why_is_plain_words(check):
    why = check.WHY
    assert isinstance(why, str) and len(why.split()) >= 10, check.ID
    assert why == why.strip() and "  " not in why
    assert not MARKUP.search(why), MARKUP.search(why)
    assert why.endswith(".")


@by_check
def test_fixes_are_lines_of_code_by_framework(check):
    assert isinstance(check.FIXES, dict) and check.FIXES, check.ID
    for framework, line in check.FIXES.items():
        assert isinstance(framework, str) and framework.strip()
        assert isinstance(line, str) and line.strip() and "\n" not in line


# --- the command line -----------------------------------------------------------------------------


@by_check
def test_explain_prints_doc_why_and_fixes(check):
    result = CliRunner().invoke(cli, ["explain", check.ID])
    assert result.exit_code == 0, result.output
    out = _words(result.stdout)
    for paragraph in check.__doc__.strip().split("\n\n"):
        assert _words(paragraph) in out
    assert _words(check.WHY) in out
    assert str(check.SEVERITY) in out
    for framework, line in check.FIXES.items():
        assert f"{framework}: {_words(line)}" in out
    for example in check.EXAMPLES:
        assert f"{example.outcome}: {_words(example.says)}" in out


def test_checks_lists_every_check_with_its_severity():
    result = CliRunner().invoke(cli, ["checks"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    everything = (*REGISTRY, inconsistent, weak)  # the segments' checks come last
    assert len(lines) == len(everything)
    for check, line in zip(everything, lines, strict=True):
        assert line.split()[:2] == [check.ID, str(check.SEVERITY)]


def test_explain_an_unknown_check_is_a_usage_error_on_one_line():
    result = CliRunner().invoke(cli, ["explain", "nope"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "nope" in result.stderr


# --- findings on the corpus -----------------------------------------------------------------------


def _param(case: Case, xfail: bool = False):
    marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if xfail and case.xfail else []
    return pytest.param(case.name, id=case.name, marks=marks)


every_case = pytest.mark.parametrize("name", [_param(c) for c in CASES])


@functools.cache
def _options(name: str) -> dict:
    case = BY_NAME[name]
    return case.resolve_options(case.build())


# These tests read the findings alone, and no finding reads the bootstrap's intervals: none drawn.
@functools.cache
def _report(name: str) -> Report:
    return mc.diagnose(BY_NAME[name].build(), **_options(name), bootstrap=0)


@functools.cache
def _order(name: str) -> np.ndarray:
    rows = BY_NAME[name].build().rows
    return np.random.default_rng(0).permutation(rows)


@functools.cache
def _shuffled_report(name: str) -> Report:
    """The same rows in another order; the options as computed from the original order."""
    sample = BY_NAME[name].build().permuted(_order(name))
    return mc.diagnose(sample, **_options(name), bootstrap=0)


def _json_leaves_are_plain(value, path: str = "evidence") -> list[str]:
    """Where a value is not plain JSON data: only dict (str keys), list, str, number, bool, None."""
    if isinstance(value, dict):
        bad = [f"{path}: key {k!r}" for k in value if not isinstance(k, str)]
        return bad + [e for k, v in value.items() for e in _json_leaves_are_plain(v, f"{path}.{k}")]
    if isinstance(value, (list, tuple)):
        return [e for i, v in enumerate(value) for e in _json_leaves_are_plain(v, f"{path}[{i}]")]
    if value is None or isinstance(value, (bool, int, float, str)):
        return []
    return [f"{path}: {type(value).__name__} {value!r}"]


@every_case
def test_findings_are_well_formed(name):
    for finding in _report(name).findings:
        module = BY_ID[finding.check]
        assert isinstance(finding, Finding)
        assert finding.check == module.ID
        assert isinstance(finding.severity, Severity)
        assert finding.title.strip() and finding.message.strip()
        assert finding.why == module.WHY and finding.fixes == module.FIXES
        # Every finding says what to type, except a reported loss that is simply right.
        reproduced = finding.check == "loss-reconciliation" and finding.severity == Severity.INFO
        assert finding.fix.strip() or reproduced, finding


@every_case
def test_evidence_is_plain_json(name):
    for finding in _report(name).findings:
        raw = finding.to_dict()
        assert _json_leaves_are_plain(raw["evidence"]) == [], finding.check
        json.dumps(raw)  # numpy types would fail here, before any conversion
        json.dumps(_plain(raw), allow_nan=False)


def _differences(a, b, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a)} != {sorted(b)}"]
        return [d for k in a for d in _differences(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items != {len(b)}"]
        pairs = enumerate(zip(a, b, strict=True))
        return [d for i, (x, y) in pairs for d in _differences(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float):
        same = a == b or (math.isnan(a) and math.isnan(b))
        if same or math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12):
            return []
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def _row_lists(evidence: dict) -> list[str]:
    return [
        key
        for key, value in evidence.items()
        if key.endswith("_rows") and not key.startswith("bins_") and isinstance(value, list)
    ]


def _evidence_differences(check: str, original: dict, shuffled: dict, order) -> list[str]:
    """Differences beyond row numbering, under the rules in the module docstring."""
    original, shuffled = dict(original), dict(shuffled)
    problems = []
    for key in _row_lists(original):
        prefix = key[: -len("rows")]
        aligned = [
            k
            for k, v in original.items()
            if k.startswith(prefix) and isinstance(v, list) and len(v) == len(original[key])
        ]
        aligned.remove(key)
        before = [original.pop(k) for k in [key, *aligned]]
        after = [shuffled.pop(k, None) for k in [key, *aligned]]
        if len(before[0]) >= getattr(BY_ID[check], "ROWS_SHOWN", DEFAULT_ROWS_SHOWN):
            continue  # cut: which rows are shown may depend on the order
        after[0] = [int(order[r]) for r in after[0]]
        if set(zip(*before, strict=True)) != set(zip(*after, strict=True)):
            problems.append(f"{key}: {before} != {after} (mapped back to the original rows)")
    return problems + _differences(original, shuffled)


@every_case
def test_findings_do_not_depend_on_row_order(name):
    original, shuffled = _report(name).findings, _shuffled_report(name).findings

    def key(f: Finding):
        return (f.check, f.severity, f.title)

    assert sorted(map(key, original)) == sorted(map(key, shuffled))
    after = {key(f): f for f in shuffled}
    for finding in original:
        problems = _evidence_differences(
            finding.check, finding.evidence, after[key(finding)].evidence, _order(name)
        )
        assert problems == [], f"{finding.check}: {problems}"


@pytest.mark.parametrize("name", [_param(c, xfail=True) for c in CASES if c.healthy])
def test_silent_on_healthy_predictions(name):
    loud = [f for f in _report(name).findings if f.severity >= Severity.WARNING]
    assert loud == [], [(f.check, str(f.severity), f.title, f.evidence) for f in loud]
