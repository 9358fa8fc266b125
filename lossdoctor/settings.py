"""Every setting of a run, in one frozen object whose defaults are written here and nowhere else.

The command line, the config file ([tool.lossdoctor] or lossdoctor.toml) and the keyword
arguments of `lossdoctor.diagnose` all build a `Settings`; the engines, the inference and the
checks read what they need from it (the checks through `plan.options`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lossdoctor.checks.base import Severity
from lossdoctor.errors import InputError

if TYPE_CHECKING:
    from lossdoctor.gates import Gate

# --fail-on: the lowest severity that fails the run (exit code 1); "never" always exits 0.
FAIL_ON = {
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "info": Severity.INFO,
    "never": None,
}
ENGINES = ("local", "dask")


@dataclass(frozen=True)
class Settings:
    """What the user said, or the default; the values are checked on creation."""

    # what the data are, when inference should not decide
    task: str | None = None
    from_logits: bool | None = None
    positive_label: str | None = None
    classes: tuple[str, ...] = ()  # the class order, as scikit-learn's labels=; () to infer it
    # how the numbers are judged
    threshold: float = 0.5  # binary decision: p >= threshold is positive
    confidence: float = 0.95  # level of the metrics' intervals
    bootstrap: int = 1000  # Poisson bootstrap replicates (intervals and paired tests)
    seed: int = 0  # the bootstrap's: the same seed, the same replicates
    # compare: the significance level (Holm-corrected over the metrics compared), and how
    # the rows of two files pair (by order, or by an id column)
    alpha: float = 0.05
    id_col: str | None = None
    unpaired_ok: bool = False  # with id_col: compare the rows both files hold
    loss: str | None = None
    reported_accuracy: float | None = None
    reported_loss: float | None = None
    # what the run enforces
    fail_on: str = "error"
    gates: tuple[Gate, ...] = ()
    select: tuple[str, ...] = ()  # run only these checks; empty: every check
    disable: tuple[str, ...] = ()
    severity: Mapping[str, Severity] = field(default_factory=dict)  # check id or "gate"
    # where the rows come from
    label_col: tuple[str, ...] = ()
    pred_col: tuple[str, ...] = ()
    weight_col: str | None = None  # None: a column named sample_weight, weight or weights
    labels_path: str | None = None
    input_format: str | None = None
    skip_non_predictions: bool = False
    # segments (lossdoctor.segments): each --by is a column, a hive key, `file` or COLUMN:BINS
    by: tuple[str, ...] = ()
    top: int = 20  # segments the report shows, worst first; the rest are counted
    min_segment_rows: int = 200  # smaller segments are listed, never judged weak or gated
    segment_gates: tuple[Gate, ...] = ()  # hold for every segment of min_segment_rows or more
    # how a dataset is read and summarised
    engine: str = "local"
    scheduler: str | None = None  # with the dask engine: a scheduler's address
    partitioning: str | None = None  # hive: key=value directory names are columns
    # How long the dask engine waits while its cluster has no worker (none yet, or the last
    # one died) before it gives up: long enough for a worker to (re)start, short enough for CI.
    timeout: float = 120.0
    # Distinct scores a ranking table holds exactly when streaming; past it, a fine grid.
    capacity: int = 1 << 21

    def __post_init__(self) -> None:
        if self.fail_on not in FAIL_ON:
            raise InputError(f"unknown --fail-on {self.fail_on!r}; use one of {', '.join(FAIL_ON)}")
        if not 0 < self.confidence < 1:
            raise InputError(
                f"confidence is a level between 0 and 1, e.g. 0.95, not {self.confidence!r}"
            )
        if not 0 < self.alpha < 1:
            raise InputError(f"alpha is a level between 0 and 1, e.g. 0.05, not {self.alpha!r}")
        for name in ("bootstrap", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InputError(f"{name} is a whole number, 0 or more, not {value!r}")
        if self.engine not in ENGINES:
            raise InputError(f"unknown engine {self.engine!r}; use one of {', '.join(ENGINES)}")
        if self.top < 0 or self.min_segment_rows < 1:
            raise InputError("--top is 0 or more, and --min-segment-rows 1 or more")
        if self.scheduler is not None and self.engine != "dask":
            raise InputError("a scheduler needs the dask engine (--engine dask)")

    @classmethod
    def layered(cls, *layers: Mapping[str, Any]) -> Settings:
        """Settings from layers of what was said, first wins key by key (the command line, then
        the config file); a None value says nothing. The defaults fill the rest."""
        said: dict[str, Any] = {}
        for layer in reversed(layers):
            said.update({key: value for key, value in layer.items() if value is not None})
        return cls(**said)


DEFAULTS = Settings()
