"""`cli.py ablate`: does synthetic data help? Prepare data + generator once, run the grid, write the report.

Output folder `OUT/ablate-<config name>/` (fixed, not numbered: `--resume` and every `--shard` must find the same
folder without being told its number):

    config.json        options + the resolved config (a changed config is refused on re-entry, except values
                       added to the grid's axes under --resume: only the new cells run)
    prepared.json      data paths, class counts, GAN run, synth folder, FID/KID
    gan/ synth/        the generator and its images when the config asks to train one (cached)
    cells/<id>.json    one record per finished cell (the resume state)
    logs/<id>.log      each cell's stdout/stderr
    train_runs/        the classifier run folders
    results.csv        one row per cell and seed
    summary.md, summary.json, plots/*.png
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

import click

from common.atomic import write_json
from common.errors import UserError
from experiments.config import AblationConfig, load_config, resolve_path
from experiments.grid import Cell, build_cells, parse_shard, shard_indexed
from experiments.runner import (CellData, default_cli_prefix, passthrough_args, read_records, run_cells, train_flags,
                                write_results_csv)


@dataclass
class AblateOptions:
    """Everything `ablate` needs."""

    config: str
    out: str = "runs"
    resume: bool = False
    shard: str | None = None             # "i/n", 0 ≤ i < n
    dry_run: bool = False                # print the cells' commands and stop
    prepare_only: bool = False           # data + GAN + synth + FID, then stop (run once before launching shards)
    train_cmd: tuple[str, ...] | None = None   # command prefix for a cell; default: python -u cli.py train
    cli_cmd: tuple[str, ...] | None = None     # prefix for train-gan/synth/fid; default: python -u cli.py


def ablation_dir(out: str | Path, cfg: AblationConfig) -> Path:
    slug = re.sub(r"[^\w.+-]+", "-", cfg.name).strip("-") or "ablation"
    return Path(out) / f"ablate-{slug}"


def run_ablation(opts: AblateOptions, echo=click.echo) -> Path:
    """Run (this shard of) the grid and write the report; return the ablation folder."""
    from common.runs import check_same_options, read_config, write_config

    from common.outputs import check_out_dir

    cfg = load_config(opts.config)
    check_out_dir(opts.out)
    i, n = parse_shard(opts.shard)
    folder = ablation_dir(opts.out, cfg)
    indexed = shard_indexed(build_cells(cfg), i, n)
    mine = [c for _, c in indexed]
    cli_prefix = list(opts.cli_cmd or default_cli_prefix())
    train_prefix = list(opts.train_cmd or [*default_cli_prefix(), "train"])

    if opts.dry_run:
        data = CellData("<train>", "<test>", cfg.data.val, cfg.data.val_data, "<synth>")
        for cell in mine:
            argv = train_prefix + train_flags(cell, data, cfg.classifier, folder / "train_runs")
            echo(cell.id + ": " + " ".join(argv))
        return folder

    # Same folder, same config: refuse a changed grid (--resume may add values to its axes); refuse to redo
    # finished cells unless --resume.
    if (folder / "config.json").exists():
        saved, grid = read_config(folder).get("ablation", {}), cfg.grid_dict()
        check_same_options(saved, grid, ignore=grown_axes(saved, grid) if opts.resume else ())
    if not opts.resume:
        ours = {c.id for c in mine}
        done = [r["cell_id"] for r in read_records(folder) if r.get("cell_id") in ours]
        if done:
            raise UserError(f"{folder}: {len(done)} cell(s) of this grid/shard already ran; pass --resume to skip "
                            "finished ones and retry failed ones, or choose another --out")
    folder.mkdir(parents=True, exist_ok=True)
    write_config(folder, "ablate", opts, ablation=cfg.grid_dict(), config_file=cfg.source)

    with _locked(folder / ".prepare.lock"):  # shards sharing this folder prepare once
        prepared = prepare(cfg, folder, cli_prefix, mine, echo)
    if opts.prepare_only:
        echo(f"[ablate] prepared: {folder / 'prepared.json'}")
        return folder

    check_synth_stock(cfg, prepared)
    data = CellData(prepared["train"], prepared["test"], cfg.data.val, prepared.get("val_data"), prepared.get("synth"))
    clf = cfg.classifier
    counts = run_cells(indexed, folder, lambda c: train_prefix + train_flags(c, data, clf, folder / "train_runs"),
                       resume=opts.resume, fixed={"model": clf.model, "epochs": clf.epochs, "size": clf.size},
                       timeout_s=clf.timeout_s, echo=echo)
    echo(f"[ablate] shard {i}/{n}: ran {counts['ran']}, skipped {counts['skipped']}, failed {counts['failed']}")
    write_results_csv(folder)

    from experiments.report import write_report

    rep = write_report(folder, cfg, prepared)
    echo(f"[ablate] {rep['verdict_line']}")
    echo(f"[ablate] wrote {folder / 'results.csv'}, {folder / 'summary.md'}, plots in {folder / 'plots'}")
    return folder


GROWABLE_AXES = ("ratios", "augs", "pretrained", "seeds")


def grown_axes(saved: dict, new: dict) -> tuple[str, ...]:
    """Grid axes that only gained values since the saved config: finished cells keep their ids, so --resume
    runs just the new ones (e.g. a ratio or more seeds added to a finished ablation)."""
    return tuple(k for k in GROWABLE_AXES if k in saved and k in new and saved[k] != new[k]
                 and set(map(str, saved[k])) <= set(map(str, new[k])))


def check_synth_stock(cfg: AblationConfig, prepared: dict) -> None:
    """Refuse a grid whose ratios need more synthetic images per class than the synth folder holds.

    Mixing caps each class at the stock on hand, so a short folder would silently train at a lower ratio than the
    cell's label says (e.g. after --resume added a larger ratio to a prepared ablation).
    """
    if not prepared.get("synth"):
        return
    need = synth_per_class(cfg.ratios, prepared["class_counts"], cfg.cas.enabled)
    have = class_counts_of(str(Path(prepared["synth"]) / "manifest.csv"))
    short = {c: have.get(c, 0) for c in prepared["class_counts"] if have.get(c, 0) < need}
    if short:
        listed = ", ".join(f"{c}: {n}" for c, n in list(short.items())[:5])
        raise UserError(f"{prepared['synth']}: the grid needs {need} synthetic images per class, but it holds fewer "
                        f"({listed}); lower the largest ratio, or run with another --out to generate more")


# --- preparation: data, generator, synthetic images, FID/KID (once per config) ---

def prepare(cfg: AblationConfig, folder: Path, cli_prefix: list[str], cells: list[Cell], echo=click.echo) -> dict:
    """Materialise everything the cells share; cached in prepared.json (a killed step is redone)."""
    path = folder / "prepared.json"
    if path.exists():
        prepared = json.loads(path.read_text(encoding="utf-8"))
        echo(f"[ablate] prepared already ({path})")
        return prepared

    if cfg.data.prepare:
        from experiments.data_prep import prepare_data

        echo(f"[ablate] preparing data ({cfg.data.prepare.get('kind')}) ...")
        paths = prepare_data(cfg.data.prepare)
    else:
        paths = {"train": resolve_path(cfg.data.train), "test": resolve_path(cfg.data.test)}
    paths["val_data"] = resolve_path(cfg.data.val_data)
    for key in ("train", "test", "val_data"):
        if paths[key] is not None and not Path(paths[key]).exists():
            raise UserError(f"config data.{key}: {paths[key]} not found; fix the path (relative to the repo root)")
    counts = class_counts_of(paths["train"])
    prepared = {**paths, "class_counts": counts, "gan_run": resolve_path(cfg.gan.run), "synth": None, "fid": {}}

    if cfg.ratios != ["0"] or cfg.cas.enabled:
        prepared["synth"] = _prepare_synth(cfg, folder, cli_prefix, counts, prepared, echo)
        if cfg.fid.enabled:
            prepared["fid"], prepared["fid_error"] = _prepare_fid(cfg, folder, cli_prefix, prepared, echo)
    write_json(path, prepared)
    return prepared


def class_counts_of(data: str) -> dict[str, int]:
    """Images per class of a folder or manifest (real: the x axis of the per-class gain plot; synth: the stock)."""
    from augment.manifest import class_counts, load_manifest

    return {str(k): int(v) for k, v in class_counts(load_manifest(data)).items()}


def synth_per_class(ratios: list[str], counts: dict[str, int], cas: bool) -> int:
    """Images per class enough for the largest ratio, for `balance`, and (CAS) a set as big as the largest class."""
    big, small = max(counts.values()), min(counts.values())
    need = [math.ceil(float(r) * big) for r in ratios if r != "balance"]
    need += [big - small] if "balance" in ratios else []
    need += [big] if cas else []
    return max(1, *need)


def _prepare_synth(cfg: AblationConfig, folder: Path, cli: list[str], counts: dict, prepared: dict, echo) -> str:
    g = cfg.gan
    if g.synth:
        synth = resolve_path(g.synth)
        if not (Path(synth) / "manifest.csv").exists():
            raise UserError(f"config gan.synth: {synth} has no manifest.csv; pass a folder written by `cli.py synth`")
        return synth
    run = prepared["gan_run"]
    if run is None:
        marker = folder / "gan" / "trained.json"
        if marker.exists():
            run = json.loads(marker.read_text())["run"]
        else:
            train = dict(g.train or {})
            args = train.pop("args", [])
            echo("[ablate] training the GAN (once per config) ...")
            _run_step([*cli, "train-gan", "--data", prepared["train"], "--out", str(folder / "gan"),
                       *passthrough_args(train), *passthrough_args(args)], folder / "logs" / "train-gan.log",
                      echo=lambda line: echo("  " + line))
            run = str(_newest_run(folder / "gan"))
            write_json(marker, {"run": run})
        prepared["gan_run"] = run
    synth = folder / "synth"
    if not (synth / "manifest.csv").exists():
        n = g.synth_n if g.synth_n != "auto" else synth_per_class(cfg.ratios, counts, cfg.cas.enabled)
        echo(f"[ablate] generating {n} images per class from {run} ...")
        _run_step([*cli, "synth", "--gan", str(run), "--all", "--n", str(n), "--out", str(synth),
                   *passthrough_args(g.synth_args)], folder / "logs" / "synth.log")
    return str(synth)


def _prepare_fid(cfg: AblationConfig, folder: Path, cli: list[str], prepared: dict, echo) -> tuple[dict, str | None]:
    """FID/KID of the synth folder; a failure is recorded, not fatal (it sits beside the grid, not under it)."""
    out = folder / "fid.json"
    if not out.exists():
        echo(f"[ablate] scoring the synthetic images ({cfg.fid.metrics}, {cfg.fid.extractor}) ...")
        try:
            _run_step([*cli, "fid", "--real", prepared[cfg.fid.real], "--fake", prepared["synth"], "--metrics",
                       cfg.fid.metrics, "--extractor", cfg.fid.extractor, "--out", str(out),
                       *passthrough_args(cfg.fid.args)], folder / "logs" / "fid.log")
        except click.ClickException as e:
            echo(f"[ablate] FID/KID failed, the grid goes on: {e.message}")
            return {}, e.message
    raw = json.loads(out.read_text(encoding="utf-8"))
    return numeric_items(raw), None


def numeric_items(d: dict) -> dict:
    """The flat numeric entries of a metrics JSON (whatever keys the fid command writes), plus its label keys."""
    keep = {k: v for k, v in d.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    keep.update({k: d[k] for k in ("protocol", "extractor", "headline_key") if isinstance(d.get(k), str)})
    return keep


def _run_step(argv: list[str], log: Path, echo=None) -> None:
    """Run a preparation command, output to `log` (and its lines to `echo`); a failure stops the ablation."""
    from common.proc import log_tail, run_logged
    from experiments.config import REPO_ROOT

    t0 = time.time()
    rc = run_logged(argv, log, cwd=REPO_ROOT, echo=echo)
    if rc != 0:
        raise click.ClickException(f"`{' '.join(map(str, argv[2:4]))}` failed (exit {rc}, {time.time() - t0:.0f} s): "
                                   f"{log_tail(log)}; full log {log}")


def _newest_run(root: Path) -> Path:
    runs = sorted(p for p in root.iterdir() if p.is_dir() and re.match(r"^\d{5}-", p.name))
    if not runs:
        raise click.ClickException(f"train-gan wrote no run folder under {root}")
    return runs[-1]


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
