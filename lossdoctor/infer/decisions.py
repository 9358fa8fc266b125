"""The names of what inference decides: the task, and what the scores are.

Both are str-valued enums: a member equals its string and prints as it, so the JSON report and
every text format read exactly as the plain strings did, and a comparison with a misspelt
member fails at import, not silently at run time.
"""

from enum import Enum


class Task(str, Enum):
    """What is predicted: one of two classes, one of K, or any subset of K labels."""

    BINARY = "binary"
    MULTICLASS = "multiclass"
    MULTILABEL = "multilabel"

    def __str__(self) -> str:
        return self.value


class Kind(str, Enum):
    """What the saved scores are."""

    PROBABILITIES = "probabilities"
    LOGITS = "logits"
    LOG_PROBABILITIES = "log-probabilities"
    SQUASHED_TWICE = "probabilities squashed twice"
    # Class labels (model.predict, not predict_proba): 0/1, one-hot rows, or one column of
    # class indices, read as one-hot probabilities so the label metrics stand.
    CLASS_PREDICTIONS = "class predictions"

    def __str__(self) -> str:
        return self.value


TASKS = tuple(Task)
KINDS = tuple(Kind)
# What a framework may take for probabilities though they are not.
NOT_PROBABILITIES = (Kind.LOGITS, Kind.LOG_PROBABILITIES, Kind.SQUASHED_TWICE)
