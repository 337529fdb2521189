"""Scores during GAN training: append to metric-<protocol>.jsonl and say whether this checkpoint is the best."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from common.atomic import append_jsonl, atomic_path, read_jsonl
from common.errors import UserError


def metric_file(run_dir: str | Path, result: dict) -> Path:
    """run_dir/metric-<protocol>.jsonl, e.g. metric-kid1k_cls_lite0.jsonl (stylegan2-ada naming)."""
    return Path(run_dir) / f"metric-{result['protocol']}.jsonl"


def track_metric(run_dir: str | Path, step: int, checkpoint: str | Path | None, result: dict,
                 best_path: str | Path | None = None) -> bool:
    """Append one line {step, checkpoint, protocol, value, result} and return True when it is the best so far.

    Lines measured with another extractor or protocol are never compared (they live in another file, and a
    line whose extractor differs is refused). When `best_path` is given and this is the best, the checkpoint
    file is copied there atomically (e.g. run_dir/best.pt). A result whose headline is None (e.g. IS offline)
    is logged but never best.
    """
    path = metric_file(run_dir, result)
    value = result.get("headline")
    lower = bool(result.get("lower_is_better", True))
    previous = [r for r in read_jsonl(path) if r.get("value") is not None]
    for r in previous:
        if r.get("extractor") != result.get("extractor_family"):
            raise UserError(f"{path}: holds scores from extractor {r.get('extractor')!r}, this one is "
                            f"{result.get('extractor_family')!r}; they cannot be compared; use a new run folder")
    is_best = value is not None and all((value < r["value"]) if lower else (value > r["value"]) for r in previous)
    append_jsonl(path, {
        "step": int(step), "checkpoint": None if checkpoint is None else str(checkpoint),
        "protocol": result["protocol"], "metric": result.get("headline_key"), "value": value,
        "extractor": result.get("extractor_family"), "extractor_name": result.get("extractor"),
        "n_real": result.get("n_real"), "n_fake": result.get("n_fake"), "best": is_best,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "result": result,
    })
    if is_best and best_path is not None and checkpoint is not None:
        with atomic_path(best_path) as tmp:
            shutil.copyfile(checkpoint, tmp)
    return is_best


def best_entry(run_dir: str | Path, protocol: str) -> dict | None:
    """The best line of metric-<protocol>.jsonl (for resume and reports), or None."""
    rows = [r for r in read_jsonl(Path(run_dir) / f"metric-{protocol}.jsonl") if r.get("value") is not None]
    if not rows:
        return None
    lower = bool(rows[-1]["result"].get("lower_is_better", True))
    return (min if lower else max)(rows, key=lambda r: r["value"])
