"""The task and the kind of scores are str-valued enums that print and serialise as the plain
strings did, on every Python the package supports (3.12 changed how enums format)."""

import json

import pytest

from lossdoctor.infer import KINDS, TASKS, Kind, Task


@pytest.mark.parametrize("member", [*Task, *Kind])
def test_a_member_prints_and_serialises_as_its_string(member):
    value = member.value
    assert type(value) is str
    assert str(member) == f"{member}" == format(member) == value
    assert f"{member:>30}|{member:.3}" == f"{value:>30}|{value:.3}"
    assert json.dumps({"task": member}) == json.dumps({"task": value})
    assert member == value and hash(member) == hash(value)
    assert {value: 1}[member] == 1


def test_the_names_are_those_the_report_has_always_used():
    assert [str(t) for t in TASKS] == ["binary", "multiclass", "multilabel"]
    assert [str(k) for k in KINDS] == [
        "probabilities",
        "logits",
        "log-probabilities",
        "probabilities squashed twice",
        "class predictions",
    ]
    assert Task("multiclass") is Task.MULTICLASS
    with pytest.raises(ValueError):
        Task("regression")
