"""Every check's EXAMPLES, run over the registry: each small file gives the outcome the check
documents (the worst finding of that check, or none), so `lossdoctor explain` cannot drift from
what the check does (as pycodestyle runs the examples in its docstrings)."""

from __future__ import annotations

import pandas as pd
import pytest

import lossdoctor
from lossdoctor.checks import REGISTRY
from lossdoctor.checks.base import Example

EXAMPLES = [(check, example) for check in REGISTRY for example in check.EXAMPLES]


@pytest.mark.parametrize(
    "check, example",
    EXAMPLES,
    ids=[f"{check.ID}-{i}" for i, (check, _) in enumerate(EXAMPLES)],
)
def test_an_example_gives_the_outcome_it_documents(check, example: Example):
    report = lossdoctor.diagnose(pd.DataFrame(dict(example.table)), **example.options)
    severities = [f.severity for f in report.findings if f.check == check.ID]
    if example.severity is None:
        assert severities == [], f"{check.ID} fired on its quiet example: {example.says}"
    else:
        assert severities and max(severities) == example.severity, (example.says, severities)


@pytest.mark.parametrize("check", REGISTRY, ids=lambda check: check.ID)
def test_every_check_shows_where_it_fires_at_its_severity_and_where_it_is_quiet(check):
    outcomes = {example.severity for example in check.EXAMPLES}
    assert check.SEVERITY in outcomes, f"{check.ID}: no example at its default severity"
    assert None in outcomes, f"{check.ID}: no quiet example"
    assert all(isinstance(example, Example) and example.says for example in check.EXAMPLES)
