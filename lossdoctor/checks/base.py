"""What a check returns: findings, as plain data that every renderer reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Severity(IntEnum):
    """Ordered so that `max(findings)` is the worst and `>=` compares with --fail-on."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()


def counted(n: int, one: str, many: str) -> str:
    """A count with the words that agree with it: '1 row looks', '3 rows look'."""
    return f"{n:,} {one if n == 1 else many}"


@dataclass(frozen=True)
class Finding:
    """One diagnosis: which check, how bad, what was seen (plain numbers) and what to type."""

    check: str
    severity: Severity
    title: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    fix: str = ""
    fixes: dict[str, str] = field(default_factory=dict)  # framework -> the line that fixes it
    why: str = ""  # why it matters, in plain words; the registry fills in the check's own

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": str(self.severity),
            "title": self.title,
            "message": self.message,
            "evidence": self.evidence,
            "fix": self.fix,
            "fixes": self.fixes,
            "why": self.why,
        }


@dataclass(frozen=True)
class Example:
    """A small file and what the check says of it: documentation that runs as a test (every
    check's EXAMPLES are run over the registry) and that `lossdoctor explain` prints."""

    says: str  # the input and the outcome, in words
    table: Mapping[str, Sequence[Any]]  # column -> values: the file, as diagnose() reads it
    severity: Severity | None = None  # the check's worst finding on it; None: the check is quiet
    options: Mapping[str, Any] = field(default_factory=dict)  # diagnose() keywords (CLI options)

    @property
    def outcome(self) -> str:
        return "quiet" if self.severity is None else str(self.severity)
