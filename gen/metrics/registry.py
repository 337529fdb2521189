"""Metric names (stylegan2-ada style): a dict, `@register_metric`, `list_metrics()` for the CLI's choices.

Each metric maps torch-fidelity's result keys onto SynthMix's flat keys and says what it needs.
`protocol_name()` builds names that say the protocol, e.g. `kid1k_cls_lite0`, `fid10k_full_inception`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch_fidelity.metric_fid import KEY_METRIC_FID
from torch_fidelity.metric_isc import KEY_METRIC_ISC_MEAN, KEY_METRIC_ISC_STD
from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD
from torch_fidelity.metric_prc import KEY_METRIC_F_SCORE, KEY_METRIC_PRECISION, KEY_METRIC_RECALL

from common.errors import UserError


@dataclass(frozen=True)
class MetricSpec:
    """What one metric is: its torch-fidelity flag, its headline key, direction and the fewest images it needs."""

    name: str
    flag: str
    headline: str
    lower_is_better: bool
    min_samples: int
    binary: bool
    convert: Callable[[dict], dict]


_METRICS: dict[str, MetricSpec] = {}


def register_metric(flag: str, headline: str, lower_is_better: bool = True, min_samples: int = 2,
                    binary: bool = True):
    """Register `fn(torch_fidelity_result) -> {our_key: value}` under the function's name."""
    def deco(fn):
        _METRICS[fn.__name__] = MetricSpec(fn.__name__, flag, headline, lower_is_better, min_samples, binary, fn)
        return fn
    return deco


def list_metrics() -> list[str]:
    return sorted(_METRICS)


def get_metric(name: str) -> MetricSpec:
    if name not in _METRICS:
        raise UserError(f"unknown metric {name!r}; choose from {', '.join(list_metrics())}")
    return _METRICS[name]


def parse_metrics(spec: str | tuple | list) -> list[MetricSpec]:
    """'fid,kid' or ('fid', 'kid') -> specs, in the order given (the first is the headline)."""
    names = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else [str(s).strip() for s in spec]
    names = [n for n in names if n]
    if not names:
        raise UserError(f"--metrics: empty; choose from {', '.join(list_metrics())}")
    return [get_metric(n) for n in dict.fromkeys(names)]


@register_metric(flag="fid", headline="fid")
def fid(tf: dict) -> dict:
    return {"fid": tf[KEY_METRIC_FID]}


@register_metric(flag="kid", headline="kid")
def kid(tf: dict) -> dict:
    return {"kid": tf[KEY_METRIC_KID_MEAN], "kid_std": tf[KEY_METRIC_KID_STD]}


# Precision/recall take the k-th nearest neighbour within each set (k = 3), so each set needs k + 1 images.
@register_metric(flag="prc", headline="f_score", lower_is_better=False, min_samples=4)
def prc(tf: dict) -> dict:
    return {"precision": tf[KEY_METRIC_PRECISION], "recall": tf[KEY_METRIC_RECALL], "f_score": tf[KEY_METRIC_F_SCORE]}


# Inception Score uses 10 splits of the fakes; it needs Inception's logits (online weights only).
@register_metric(flag="isc", headline="isc", lower_is_better=False, min_samples=10, binary=False)
def isc(tf: dict) -> dict:
    return {"isc": tf[KEY_METRIC_ISC_MEAN], "isc_std": tf[KEY_METRIC_ISC_STD]}


def _count(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def protocol_name(metric: str, n: int, per_class: bool, extractor_family: str) -> str:
    """e.g. ('kid', 1000, True, 'effnet-lite0') -> 'kid1k_cls_lite0'."""
    short = {"inception": "inception", "effnet-lite0": "lite0"}.get(extractor_family, extractor_family)
    return f"{metric}{_count(n)}_{'cls' if per_class else 'full'}_{short}"
