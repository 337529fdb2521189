"""Range checks for numeric options: each command declares its ranges beside its options, checked in one call.

A number out of range otherwise crashes deep inside torch, timm or numpy (a batch of one in batch norm, a negative
seed), or is quietly replaced (a size of 0 became the model's default); here it is one line before any folder.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from common.errors import UserError


@dataclass(frozen=True)
class Range:
    """Allowed values: lo ≤ v ≤ hi (strict where `*_open`); None passes (the option's "not given")."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    why: str = ""                        # said after the rule, e.g. "batch norm needs two images per batch"
    flag: str | None = None              # the option's name when it is not --<field-name>

    def allows(self, v: float) -> bool:
        return not ((self.lo is not None and (v <= self.lo if self.lo_open else v < self.lo))
                    or (self.hi is not None and (v >= self.hi if self.hi_open else v > self.hi)))

    def rule(self) -> str:
        parts = []
        if self.lo is not None:
            parts.append(f"{'above' if self.lo_open else 'at least'} {_num(self.lo)}")
        if self.hi is not None:
            parts.append(f"{'below' if self.hi_open else 'at most'} {_num(self.hi)}")
        return " and ".join(parts)


def _num(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


AT_LEAST_1 = Range(1)
NON_NEGATIVE = Range(0)
POSITIVE = Range(0, lo_open=True)
SEED = Range(0, why="numpy refuses negative seeds")
WORKERS = Range(0, why="0 loads in the main process")
BN_BATCH = Range(2, why="batch norm needs at least two images per batch")
PROBABILITY = Range(0, 1)
VAL_FRACTION = Range(0, 1, lo_open=True, hi_open=True, flag="--val")  # train, data split


def check_ranges(options: Any, ranges: Mapping[str, Range]) -> None:
    """Refuse the first option (a dataclass field or mapping key) whose number is outside its Range."""
    values = dataclasses.asdict(options) if dataclasses.is_dataclass(options) else dict(options)
    for name, r in ranges.items():
        v = values.get(name)
        if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
            continue  # not given, or not a number (a type check elsewhere names that)
        if v != v or not r.allows(v):  # NaN is in no range
            flag = r.flag or "--" + name.replace("_", "-")
            why = f" ({r.why})" if r.why else ""
            raise UserError(f"{flag} {_num(v)}: out of range{why}; pass a value that is {r.rule()}")
