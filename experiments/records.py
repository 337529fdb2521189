"""Cell records: `cells/<cell_id>.json`, written (atomically) by the cell's own job the moment it ends (or by the
executor, for a job whose process died before it could).

`results.csv` is rebuilt from those records (atomic rename), so a killed grid, several shards writing into one
folder, or Slurm tasks finishing while nobody waits never leave a torn CSV, and `--resume` knows exactly which cells
are done. A failing cell is recorded with its error and the grid goes on.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from common.atomic import atomic_path, write_json
from experiments.config import VERDICT_METRICS
from experiments.grid import Cell

METRIC_KEYS = ("best_epoch", "val_acc", "val_macro_f1", *VERDICT_METRICS)
CELL_KEYS = ("cell_id", "kind", "ratio", "filter", "weight", "real_last", "remedy", "gan_seed", "arm", "aug", "pretrained",
             "seed")


def cell_row(cell: Cell, index: int, fixed: dict) -> dict:
    """The settings part of a cell's record, known before it runs."""
    return {**cell.as_row(), "arm": cell.arm, "grid_index": index, **fixed}


def record_cell(record: dict, outcome: dict, log: str) -> dict:
    """Write cells/<id>.json from a finished job: its settings, status, and its metrics.json flattened."""
    folder = Path(record["folder"])
    res = {}
    if outcome.get("metrics") and Path(outcome["metrics"]).is_file():
        res = json.loads(Path(outcome["metrics"]).read_text(encoding="utf-8"))
    elif outcome["status"] == "ok":
        outcome = {**outcome, "status": "failed", "error": "the run wrote no metrics.json"}
    row = {**record["row"], "status": outcome["status"], "error": outcome["error"], "seconds": outcome["seconds"],
           "log": str(Path(log).relative_to(folder)) if Path(log).is_relative_to(folder) else log}
    for k in METRIC_KEYS:
        row[k] = res.pop(k, None)
    row["test_per_class_f1"] = json.dumps(res.pop("test_per_class_f1", None) or {}, ensure_ascii=False)
    for k in ("test_confusion", "class_counts"):  # large; they stay in the run's metrics.json
        res.pop(k, None)
    for k, v in res.items():  # anything else the run reports (run_dir, val_per_class_f1, ...) is kept
        row[k] = json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
    write_json(folder / "cells" / f"{row['cell_id']}.json", row)
    return row


def finished_ids(folder: Path) -> set[str]:
    """Ids of cells with a successful record (failed cells are run again on --resume)."""
    return {r["cell_id"] for r in read_records(folder) if r.get("status") == "ok"}


def read_records(folder: Path) -> list[dict]:
    """All cell records in `folder/cells/`, in file-name order."""
    out = []
    for p in sorted((Path(folder) / "cells").glob("[!.]*.json")):  # not the temp file of a write in progress
        try:
            out.append(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue  # a record being replaced this instant by another shard; it is rewritten whole
    return out


def write_results_csv(folder: Path) -> Path:
    """Rebuild results.csv (one row per cell and seed) from the cell records, atomically."""
    recs = sorted(read_records(folder), key=lambda r: r.get("grid_index", 0))
    df = pd.DataFrame(recs)
    if len(df):
        first = [c for c in (*CELL_KEYS, "status", *METRIC_KEYS, "test_per_class_f1") if c in df]
        df = df[first + [c for c in df.columns if c not in first]]
    path = Path(folder) / "results.csv"
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
    return path


# What an ablation folder holds once it did work worth keeping (and worth comparing a changed config against).
MARKERS = ("*/trained.json", "*/*/trained.json")  # a preparation job's run folder (ablate._run_once)
WORK = ("prepared.json", "cells/*.json", "train_runs/*", *MARKERS)


def has_work(folder: Path) -> bool:
    """The folder holds work of its saved config (see WORK), not just the config.json of a refused attempt."""
    return any(any(folder.glob(k)) for k in WORK)
