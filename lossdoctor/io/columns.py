"""Which columns hold the labels and which the predictions: names, roles, families, globs.

Pure: it sees column names, never a file.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lossdoctor.errors import InputError, NotPredictions


class NoColumnFound(InputError):
    """No column has a name of the role; the reader may still find one by what it holds."""

    def __init__(self, message: str, noun: str) -> None:
        super().__init__(message)
        self.noun = noun


@dataclass(frozen=True)
class _Role:
    """What differs between finding the labels and finding the predictions."""

    noun: str
    option: str
    vocab: frozenset[str]


# What libraries and habits name them: scikit-learn's y_true/y_pred/y_score, the Hugging Face
# Trainer's label_ids/predictions and evaluate's references, pandas/R-style y_hat, ...
_LABEL_NAMES = (
    "label labels y y_true target targets truth class ground_truth true_label true_labels"
    " actual label_ids gold gold_label references reference y_test"
)
_PRED_NAMES = (
    "prob proba probability pred prediction y_pred score output logit logits"
    " probs probabilities predictions y_prob y_proba y_score scores"
    " pred_proba pred_prob predicted_proba predicted_prob predicted_probability"
    " predicted_probabilities y_pred_proba y_pred_prob y_hat yhat confidence outputs"
    " prob_positive positive_probability probability_positive decision_function"
)
# scikit-learn's name for them (fit and every metric take `sample_weight`), and the usual others.
WEIGHT_NAMES = frozenset({"sample_weight", "weight", "weights"})
_LABELS = _Role("label", "--label-col", frozenset(_LABEL_NAMES.split()))
_PREDS = _Role("prediction", "--pred-col", frozenset(_PRED_NAMES.split()))
_NUMBERED = re.compile(r"(.*)_(\d+)")


def resolve_columns(
    names: Sequence[str],
    label_cols: Sequence[str] = (),
    pred_cols: Sequence[str] = (),
    *,
    source: str = "the input",
) -> tuple[list[str], list[str]]:
    """Which column names hold the labels and which the predictions (ordered)."""
    names = list(names)
    recognised = _candidates(names, _LABELS, source) or _candidates(names, _PREDS, source)
    if not (label_cols or pred_cols or recognised):
        raise NotPredictions(
            f"{source} is not a predictions file: no column looks like labels or predictions "
            f"(columns: {listing(names)}); name them with --label-col and --pred-col"
        )
    if pred_cols and not label_cols:  # the explicit choice goes first so the other avoids it
        preds = _pick(names, _PREDS, pred_cols, source)
        labels = _pick(names, _LABELS, (), source, taken=preds)
    else:
        labels = _pick(names, _LABELS, label_cols, source)
        preds = _pick(names, _PREDS, pred_cols, source, taken=labels)
    both = [n for n in labels if n in preds]
    if both:
        raise InputError(
            f"column {both[0]!r} in {source} cannot be both the labels and the "
            "predictions; choose different --label-col and --pred-col"
        )
    return labels, preds


def pick_weight(
    names: Sequence[str], weight_col: str | None, source: str, named: Sequence[str] = ()
) -> str:
    """The sample-weight column: the one --weight-col names (case-insensitive), else the one
    named sample_weight, weight or weights that --label-col/--pred-col do not `name`; '' when
    there is none. It is never a prediction column."""
    if weight_col:
        hits = [n for n in names if _key(n) == _key(weight_col)]
        if not hits:
            raise InputError(
                f"--weight-col {weight_col!r} matches no column in {source} "
                f"(columns: {listing(names)})"
            )
        return hits[0]
    chosen = {_key(n) for n in named}
    found = [n for n in names if _key(n) in WEIGHT_NAMES and _key(n) not in chosen]
    if len(found) > 1:
        raise InputError(
            f"several weight columns in {source}: {', '.join(found)}; choose one with --weight-col"
        )
    return found[0] if found else ""


def _pick(
    names: list[str],
    role: _Role,
    given: Sequence[str],
    source: str,
    taken: Sequence[str] = (),
    single_ok: bool = False,
) -> list[str]:
    """The columns for one role: the user's patterns if given, else the one recognised name."""
    if given:
        return _match_given(names, role, given, source)
    free = [n for n in names if n not in taken]
    if single_ok and len(free) == 1:
        return free
    found = _candidates(free, role, source)
    if not found:
        raise NoColumnFound(
            f"no {role.noun} column found in {source} (columns: {listing(names)}); "
            f"name it with {role.option}",
            role.noun,
        )
    if len(found) > 1:
        shown = " and ".join(g[0] if len(g) == 1 else f"{g[0]}..{g[-1]}" for g in found)
        raise InputError(
            f"several {role.noun} columns in {source}: {shown}; choose one with {role.option}"
        )
    return found[0]


def _match_given(names: list[str], role: _Role, given: Sequence[str], source: str) -> list[str]:
    """Case-insensitive names or fnmatch globs, in the order given; glob hits in numeric order."""
    chosen: list[str] = []
    for pattern in given:
        key = _key(pattern)
        hits = [n for n in names if _key(n) == key]
        hits = hits or _natural([n for n in names if fnmatch.fnmatchcase(_key(n), key)])
        if not hits:
            raise InputError(
                f"{role.option} {pattern!r} matches no column in {source} "
                f"(columns: {listing(names)})"
            )
        chosen += [h for h in hits if h not in chosen]
    return chosen


def _candidates(names: list[str], role: _Role, source: str) -> list[list[str]]:
    """Each candidate is one recognised name, a family name_0..name_{K-1}, a lone name_1 (the
    probability of class 1, as proba_1), or, for predictions, columns named 0..K-1 (a
    DataFrame of predict_proba, whose columns are model.classes_)."""
    found = [[n] for n in names if _key(n) in role.vocab]
    if role is _PREDS:
        found += _digit_family(names)
    families: dict[str, dict[int, str]] = {}
    for n in names:
        m = _NUMBERED.fullmatch(_key(n))
        if m and m[1] in role.vocab:
            families.setdefault(m[1], {}).setdefault(int(m[2]), n)
    for members in families.values():
        if role is _PREDS and list(members) == [1]:  # proba_1 alone: P(class 1), one column
            found.append(list(members.values()))
            continue
        if 0 not in members:  # e.g. a lone score_2023: not a class family, leave it alone
            continue
        if sorted(members) != list(range(len(members))):
            raise InputError(
                f"{role.noun} columns {listing(members.values())} in {source} are not "
                f"numbered 0..K-1 without gaps; choose them with {role.option}"
            )
        found.append([members[i] for i in range(len(members))])
    return found


def _digit_family(names: list[str]) -> list[list[str]]:
    """Columns named 0, 1, ..., K-1 (K >= 2), in that order; nothing if they have gaps."""
    digits = {int(_key(n)): n for n in names if _key(n).isdigit() and _key(n).isascii()}
    if len(digits) < 2 or sorted(digits) != list(range(len(digits))):
        return []
    return [[digits[i] for i in range(len(digits))]]


def by_class_names(names: Sequence[str], classes: set[str]) -> list[str]:
    """Columns named by the classes (DataFrame(predict_proba, columns=model.classes_)), in
    the file's order; [] unless there are two or more and every class names one."""
    named = [n for n in names if n.strip() in classes]
    covered = {n.strip() for n in named}
    return named if len(named) >= 2 and classes <= covered else []


def _natural(names: list[str]) -> list[str]:
    """prob_10 after prob_9 when every name ends in digits; else the file's order."""
    parts = [re.fullmatch(r"(.*?)(\d+)", _key(n)) for n in names]
    if not all(parts):
        return names
    order = sorted(range(len(names)), key=lambda i: (parts[i][1], int(parts[i][2])))
    return [names[i] for i in order]


def _key(name: str) -> str:
    return name.strip().lower()


def listing(names: Iterable[str], limit: int = 12) -> str:
    names = list(names)
    if not names:
        return "none"
    more = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _what(name: str, source: str) -> str:
    return f"column {name!r} in {source}" if name else source
