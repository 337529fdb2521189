"""`ablate --reuse FOLDER`: start an ablation from another one's folder, so a variant of a finished grid (one more
arm, another ratio axis, fewer settings) runs only what it adds.

Taken over when the two configs prepare the same way (every section but the grid's axes, the name and the headline
metric equal, and the same filter classifier): prepared.json (its paths still point into FOLDER, which must stay:
reused_from.json names it, and every later run checks it is there), the preparation jobs' records and markers (their
wall times feed the recommendation's cost line), and the finished cells this grid also has whose TrainOptions are the
same but for their output folder. Everything else runs here as under --resume. Every shard may pass the same --reuse:
taking over is done once, under the preparation lock, for the whole grid.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from common.atomic import write_json
from common.errors import UserError
from common.runs import check_same_options, options_dict, read_config
from experiments.config import AblationConfig
from experiments.records import MARKERS, has_work

# What may differ (AblationConfig.grid_dict's keys): the grid's axes, CAS (its own cells; the synthetic stock it needs
# is checked like any grid's), the name and the headline metric. Data, GAN, FID and classifier must not.
NOT_PREPARATION = ("name", "metric", "cas", "headroom", "ratios", "filters", "weights", "real_lasts", "remedies",
                   "synth_remedies", "gan_seeds", "augs", "pretrained", "seeds")
ORIGIN = "reused_from.json"


def check_reusable(source: str | Path, folder: Path, cfg: AblationConfig) -> Path:
    """The source folder, once it is an ablation that prepared like `cfg`, and `folder` holds no other work."""
    src = Path(source)
    if not (src / "prepared.json").is_file() or not (src / "config.json").is_file():
        raise UserError(f"--reuse {source}: not a prepared ablation folder (no prepared.json / config.json); pass a "
                        "folder `ablate` wrote, e.g. runs/ablate-<name>")
    if src.resolve() == folder.resolve():
        raise UserError(f"--reuse {source}: that is this config's own folder; use --resume to continue it")
    if has_work(folder) and origin(folder) != str(src.resolve()):
        raise UserError(f"--reuse {source}: {folder} holds other work already; use --resume there, or choose "
                        "another --out")
    saved = read_config(src).get("ablation", {})
    check_same_options(saved, cfg.grid_dict(), ignore=NOT_PREPARATION, action=f"reuse {source}")
    if (saved.get("gan_seeds") is None) != (cfg.gan_seeds is None) and _has_generator(src):
        raise UserError(f"--reuse {source}: one generator there, a grid.gan_seeds axis here (or the reverse): the "
                        "synthetic cells are other cells; give both configs the axis, or neither")
    _check_filter_classifier(src, cfg)
    return src


def _has_generator(src: Path) -> bool:
    """A real-data-only grid prepared no generator: its layout then says nothing about this grid's."""
    prepared = _read(src / "prepared.json")
    return bool(prepared.get("gans") or prepared.get("gan_run"))


def _check_filter_classifier(src: Path, cfg: AblationConfig) -> None:
    """The filtered pools come from src's real-data classifier (the grid's first preset and pretrained value)."""
    job = src / "jobs" / "filter-clf.json"
    if not job.is_file() or all(f == "none" for f in cfg.filters):
        return
    from experiments.filtering import filter_options

    if _ran_options(job) != _but_out(options_dict(filter_options(cfg, src, _read(src / "prepared.json")))):
        raise UserError(f"--reuse {src}: its filters were scored by a classifier with another recipe (the grid's first "
                        "augs / pretrained values train it); list the same ones first, or run without --reuse")


def origin(folder: Path) -> str | None:
    """The source folder this ablation folder was started from with --reuse, if any."""
    p = Path(folder) / ORIGIN
    return _read(p)["source"] if p.is_file() else None


def check_origin_kept(folder: Path) -> None:
    """A folder started with --reuse reads its generators' images from the source: refuse to go on without it."""
    src = origin(folder)
    if src and not (Path(src) / "prepared.json").is_file():
        raise UserError(f"{folder} was started with --reuse {src}, which is gone: its synthetic images and filters "
                        "are there; restore it, or run this config into a new --out")


def adopt(src: Path, folder: Path, cfg: AblationConfig, cells: list) -> list[str]:
    """Copy src's preparation, and those of `cells` that finished there with the same TrainOptions, into `folder`
    (made already); what is there already is kept, so a second shard's call changes nothing. Returns the ids of
    the cells taken over."""
    from experiments.cells import CellInputs, train_options
    from experiments.prepared import synth_folders

    prepared = _read(src / "prepared.json")
    write_json(folder / ORIGIN, {"source": str(src.resolve())})
    if not (folder / "prepared.json").exists():
        write_json(folder / "prepared.json", prepared)
    for sub in ("jobs", "cells"):
        (folder / sub).mkdir(exist_ok=True)
    copies = [p for p in (src / "jobs").glob("*.json") if not p.name.startswith(("mix-", "cas-"))]
    copies += [p for pattern in MARKERS for p in src.glob(pattern)]
    inputs = CellInputs(prepared["train"], prepared["test"], cfg.data.val, prepared.get("val_data"),
                        synth_folders(prepared))
    taken = []
    for cell in cells:
        record, job = src / "cells" / f"{cell.id}.json", src / "jobs" / f"{cell.id}.json"
        if not (record.is_file() and job.is_file()):
            continue  # not run there (so its synthetic folder, if any, may not be prepared yet either)
        mine = options_dict(train_options(cell, inputs, cfg, folder / "train_runs"))
        if _read(record).get("status") == "ok" and _ran_options(job) == _but_out(mine):
            copies.append(record)
            taken.append(cell.id)
    for p in copies:
        dst = folder / p.relative_to(src)
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, dst)
    return taken


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _ran_options(job: Path) -> dict:
    """A job file's options but its output folder: what decides whether its result is this cell's too. A job from
    before an option existed ran with that option's old value (clf.options.OPTIONS_BEFORE)."""
    from clf.options import OPTIONS_BEFORE

    o = _read(job).get("options", {})
    if o.get("class_weighted") and "la_tau" not in o:
        return {"class_weighted": "trained before the weighted loss was normalised as torch's; not this cell's"}
    return _but_out({**OPTIONS_BEFORE, **o})


def _but_out(o: dict) -> dict:
    return {k: v for k, v in o.items() if k != "out"}
