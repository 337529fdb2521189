"""`ablate --reuse FOLDER`: start an ablation from another one's folder, so a variant of a finished grid (one more
arm, another ratio axis) runs only what it adds.

Taken over when the two configs prepare the same way (every section but the grid's axes, the name and the headline
metric equal): prepared.json (its paths still point into FOLDER, which must stay), the preparation jobs' records
and markers (their wall times feed the recommendation's cost line), and the finished cells this grid also has whose
TrainOptions are the same but for their output folder. Everything else runs here as under --resume.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from common.errors import UserError
from common.runs import check_same_options, options_dict, read_config
from experiments.config import AblationConfig
from experiments.records import has_work

# What may differ (AblationConfig.grid_dict's keys): the grid's axes, CAS (its own cells; a larger synthetic stock it
# needs is checked like any grid's), the name and the headline metric. Data, GAN, FID and classifier must not.
NOT_PREPARATION = ("name", "metric", "cas", "ratios", "filters", "weights", "real_lasts", "remedies",
                   "synth_remedies", "gan_seeds", "augs", "pretrained", "seeds")
MARKERS = ("*/trained.json", "*/*/trained.json")  # a preparation job's run folder (ablate._run_once)


def check_reusable(source: str | Path, folder: Path, cfg: AblationConfig) -> Path:
    """The source folder, once it is an ablation that prepared like `cfg` and `folder` holds no work yet."""
    src = Path(source)
    if not (src / "prepared.json").is_file() or not (src / "config.json").is_file():
        raise UserError(f"--reuse {source}: not a prepared ablation folder (no prepared.json / config.json); pass a "
                        "folder `ablate` wrote, e.g. runs/ablate-<name>")
    if src.resolve() == folder.resolve():
        raise UserError(f"--reuse {source}: that is this config's own folder; use --resume to continue it")
    if has_work(folder):
        raise UserError(f"--reuse {source}: {folder} holds work already; use --resume there, or choose another --out")
    saved = read_config(src).get("ablation", {})
    check_same_options(saved, cfg.grid_dict(), ignore=NOT_PREPARATION, action=f"reuse {source}")
    return src


def adopt(src: Path, folder: Path, cfg: AblationConfig, cells: list) -> list[str]:
    """Copy src's preparation, and those of `cells` that finished there with the same TrainOptions, into `folder`
    (made already); returns the ids of the cells taken over."""
    from experiments.cells import CellInputs, train_options
    from experiments.prepared import synth_folders

    shutil.copy2(src / "prepared.json", folder / "prepared.json")
    for sub in ("jobs", "cells"):
        (folder / sub).mkdir(exist_ok=True)
    for p in (src / "jobs").glob("*.json"):
        if not p.name.startswith(("mix-", "cas-")):
            shutil.copy2(p, folder / "jobs" / p.name)
    for p in (p for pattern in MARKERS for p in src.glob(pattern)):
        (folder / p.relative_to(src)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, folder / p.relative_to(src))
    prepared = json.loads((src / "prepared.json").read_text(encoding="utf-8"))
    inputs = CellInputs(prepared["train"], prepared["test"], cfg.data.val, prepared.get("val_data"),
                        synth_folders(prepared))
    taken = []
    for cell in cells:
        record, job = src / "cells" / f"{cell.id}.json", src / "jobs" / f"{cell.id}.json"
        if not (record.is_file() and job.is_file()):
            continue  # not run there (so its synthetic folder, if any, may not be prepared yet either)
        rec = json.loads(record.read_text(encoding="utf-8"))
        ran = json.loads(job.read_text(encoding="utf-8")).get("options", {})
        mine = options_dict(train_options(cell, inputs, cfg, folder / "train_runs"))
        if rec.get("status") == "ok" and _but_out(ran) == _but_out(mine):
            shutil.copy2(record, folder / "cells" / record.name)
            taken.append(cell.id)
    return taken


def _but_out(o: dict) -> dict:
    return {k: v for k, v in o.items() if k != "out"}
