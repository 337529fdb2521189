"""One `train` subprocess per cell (timm's bulk_runner pattern); each cell's final result line kept in results.csv.

A cell's record goes to `cells/<cell_id>.json` (atomic write) the moment it finishes; `results.csv` is rebuilt
from those records (atomic rename), so a killed grid, or several shards writing into one folder, never leaves a
torn CSV, and `--resume` knows exactly which cells are done. A failing cell is recorded with its error and the
grid goes on.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import click
import pandas as pd

from common.atomic import atomic_path, write_json
from experiments.config import REPO_ROOT, ClassifierConfig
from experiments.grid import Cell

RESULT_PREFIX = "SYNTHMIX_RESULT"
METRIC_KEYS = ("best_epoch", "val_acc", "val_macro_f1", "test_acc", "test_macro_f1")
CELL_KEYS = ("cell_id", "kind", "ratio", "aug", "pretrained", "seed")


def default_cli_prefix() -> list[str]:
    """`python -u cli.py` with this interpreter (unbuffered so a killed run still shows its last lines)."""
    return [sys.executable, "-u", str(REPO_ROOT / "cli.py")]


@dataclass
class CellData:
    """The resolved inputs every cell draws from."""

    train: str
    test: str
    val: float = 0.2
    val_data: str | None = None
    synth: str | None = None             # synth folder (holds manifest.csv)


def train_flags(cell: Cell, data: CellData, clf: ClassifierConfig, runs_root: str | Path) -> list[str]:
    """THE mapping from a cell + config to `cli.py train` flags; the clf part owns the names, fix them here only."""
    if cell.kind == "cas":
        # Synthetic only, selected on a split of the synthetic set: no real image is seen before the test.
        argv = ["--data", str(Path(data.synth) / "manifest.csv"), "--val", str(data.val)]
    else:
        argv = ["--data", data.train]
        argv += ["--val-data", data.val_data] if data.val_data else ["--val", str(data.val)]
        if cell.ratio == "balance":
            argv += ["--synth", str(data.synth), "--balance"]
        elif cell.ratio != "0":
            argv += ["--synth", str(data.synth), "--ratio", cell.ratio]
    argv += ["--test-data", data.test, "--aug", cell.aug, "--model", clf.model, "--epochs", str(clf.epochs)]
    if cell.pretrained:
        argv.append(clf.pretrained_flag)
    if clf.size:
        argv += ["--size", str(clf.size)]
    argv += ["--seed", str(cell.seed), "--out", str(runs_root)]
    return argv + passthrough_args(clf.train_args)


def passthrough_args(extra: list | dict | None) -> list[str]:
    """Free-form flags from the config: a list as is; a mapping {flag: value} (True = bare flag, False/None = off)."""
    if not extra:
        return []
    if isinstance(extra, dict):
        out: list[str] = []
        for k, v in extra.items():
            flag = k if str(k).startswith("-") else f"--{k}"
            if v is True:
                out.append(flag)
            elif v is not None and v is not False:
                out += [flag, str(v)]
        return out
    return [str(a) for a in extra]


def parse_result(stdout: str) -> dict | None:
    """The JSON of the last `SYNTHMIX_RESULT {...}` line, or None."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):].strip())
    return None


def run_cell(argv: Sequence[str], log_path: Path, timeout_s: float | None = None) -> dict:
    """Run one cell's command; return {status, error, returncode, seconds, result}. Never raises for a bad cell."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    with open(log_path, "w", encoding="utf-8") as log:
        log.write("$ " + " ".join(map(str, argv)) + "\n")
        log.flush()
        try:
            # stderr straight to the log: tqdm's \r bars there must not glue onto the stdout result line.
            proc = subprocess.run(list(map(str, argv)), stdout=subprocess.PIPE, stderr=log, text=True,
                                  cwd=REPO_ROOT, timeout=timeout_s)
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            log.write(out)
            return _failed(f"timed out after {timeout_s:g} s", None, t0)
        except OSError as e:
            return _failed(f"could not start: {e}", None, t0)
        log.write(proc.stdout)
    try:
        result = parse_result(proc.stdout)
    except json.JSONDecodeError as e:
        return _failed(f"unreadable {RESULT_PREFIX} line ({e})", proc.returncode, t0)
    if proc.returncode != 0:
        return _failed(f"exit code {proc.returncode}: {_tail(log_path)}", proc.returncode, t0)
    if result is None:
        return _failed(f"no {RESULT_PREFIX} line on stdout", proc.returncode, t0)
    return {"status": "ok", "error": "", "returncode": 0, "seconds": round(time.time() - t0, 2), "result": result}


def _failed(error: str, rc: int | None, t0: float) -> dict:
    return {"status": "failed", "error": error, "returncode": rc, "seconds": round(time.time() - t0, 2), "result": {}}


def _tail(log_path: Path, n: int = 3) -> str:
    """The last non-empty log lines, one line of text (the error column)."""
    lines = [ln.strip() for ln in log_path.read_text(encoding="utf-8", errors="replace").replace("\r", "\n")
             .splitlines() if ln.strip()]
    return " | ".join(lines[-n:])[-500:]


def cell_record(cell: Cell, outcome: dict, fixed: dict, log: str, index: int = 0) -> dict:
    """One results.csv row: the cell's settings, the fixed options, status, and the train result flattened."""
    res = dict(outcome["result"])
    row = {**cell.as_row(), "grid_index": index, **fixed, "status": outcome["status"], "error": outcome["error"],
           "returncode": outcome["returncode"], "seconds": outcome["seconds"], "log": log}
    for k in METRIC_KEYS:
        row[k] = res.pop(k, None)
    row["test_per_class_f1"] = json.dumps(res.pop("test_per_class_f1", None) or {}, ensure_ascii=False)
    for k, v in res.items():  # anything else the train command reports (run_dir, val_loss, ...) is kept
        row[k] = json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
    return row


def finished_ids(folder: Path) -> set[str]:
    """Ids of cells with a successful record (failed cells are run again on --resume)."""
    return {r["cell_id"] for r in read_records(folder) if r.get("status") == "ok"}


def read_records(folder: Path) -> list[dict]:
    """All cell records in `folder/cells/`, in file-name order."""
    out = []
    for p in sorted((Path(folder) / "cells").glob("*.json")):
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


def run_cells(cells: Iterable[tuple[int, Cell]], folder: Path, argv_for: Callable[[Cell], list[str]], resume: bool,
              fixed: dict | None = None, timeout_s: float | None = None, echo=click.echo) -> dict:
    """Run every (grid index, cell) not already finished (when resuming); return counts {ran, skipped, failed}."""
    folder = Path(folder)
    cells = list(cells)
    done = finished_ids(folder) if resume else set()
    counts = {"ran": 0, "skipped": 0, "failed": 0}
    for k, (index, cell) in enumerate(cells, 1):
        if cell.id in done:
            counts["skipped"] += 1
            echo(f"[ablate] {k}/{len(cells)} {cell.id}: finished already, skipped")
            continue
        echo(f"[ablate] {k}/{len(cells)} {cell.id} ...")
        log = folder / "logs" / f"{cell.id}.log"
        outcome = run_cell(argv_for(cell), log, timeout_s)
        rec = cell_record(cell, outcome, fixed or {}, str(log.relative_to(folder)), index)
        write_json(folder / "cells" / f"{cell.id}.json", rec)
        write_results_csv(folder)
        counts["ran"] += 1
        if outcome["status"] == "ok":
            echo(f"[ablate] {cell.id}: test_acc={rec.get('test_acc')} test_macro_f1={rec.get('test_macro_f1')} "
                 f"({outcome['seconds']:.0f} s)")
        else:
            counts["failed"] += 1
            echo(f"[ablate] {cell.id}: FAILED ({outcome['error'][:300]}); see {log}")
    return counts
