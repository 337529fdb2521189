"""`cli.py ablate`: does synthetic data help? Prepare data + generator once, run the grid, write the report.

Output folder `OUT/ablate-<config name>/` (fixed, not numbered: `--resume` and every `--shard` must find the same
folder without being told its number):

    config.json        options + the resolved config (a changed config is refused on re-entry, except values
                       added to the grid's axes under --resume: only the new cells run)
                       (`--reuse FOLDER` starts a variant config from another ablation's folder instead:
                       experiments/reuse.py)
    prepared.json      data paths, class counts, GAN run, synth folder(s), FID/KID, filter kept/generated
    gan/ synth/        the generator and its images when the config asks to train one (cached)
    filter_clf/ synth-f<p>/   with a filter axis: the real-data classifier, and each filtered manifest
    jobs/<name>.json   each job's typed options (+ .result.json when it ended): what a process runs
    cells/<id>.json    one record per finished cell (the resume state), written by the cell's own job
    logs/<name>.log    each job's output
    submitit/          the executor's own files (pickles, Slurm scripts)
    train_runs/        the classifier run folders
    results.csv        one row per cell and seed
    summary.md, summary.json, plots/*.png

Every job is a part's options dataclass run through submitit (local processes, or a Slurm array): see
experiments/cells.py (options), jobs.py (running one), executors.py (where).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import click

from common.atomic import file_lock, write_json
from common.errors import UserError
from experiments.cells import CellInputs, fid_options, gan_options, load_ablation_config, synth_options, train_options
from experiments.config import AXIS_DEFAULTS, AblationConfig, resolve_path
from experiments.executors import ExecOptions, describe_slurm, run_jobs, still_running
from experiments.forecast import GridForecast
from experiments.grid import build_cells, parse_shard, shard_indexed
from experiments.jobs import Job, brief, shown, varying_keys, write_job
from experiments.prepared import generators, synth_folders
from experiments.records import WORK, cell_row, finished_ids, has_work, read_records, write_results_csv
from experiments.reuse import adopt, check_origin_kept, check_reusable


@dataclass
class AblateOptions:
    """Everything `ablate` needs."""

    config: str
    out: str = "runs"
    resume: bool = False
    reuse: str | None = None             # another ablation's folder: its preparation and matching finished cells
    shard: str | None = None             # "i/n", 0 ≤ i < n
    dry_run: bool = False                # print the cells' options (and the Slurm array) and stop
    prepare_only: bool = False           # data + GAN + synth + FID, then stop (run once before launching shards)
    headroom_only: bool = False          # data + the headroom stage (config headroom:), then stop: before any GAN
    executor: str = "local"              # local | slurm | debug (in this process)
    jobs: int | None = None              # cells at once (local, default 1); array parallelism (slurm)
    no_wait: bool = False                # slurm: return once submitted; `--resume` collects later
    partition: str | None = None         # slurm overrides of the config's slurm: block
    time_min: int | None = None
    gpus_per_cell: int | None = None
    cpus_per_cell: int | None = None


def ablation_dir(out: str | Path, cfg: AblationConfig) -> Path:
    from common.runs import slug

    return Path(out) / f"ablate-{slug(cfg.name, 'ablation')}"


def exec_options(opts: AblateOptions, cfg: AblationConfig) -> ExecOptions:
    """The executor's options: the command line over the config's slurm: block."""
    over = {k: v for k, v in (("partition", opts.partition), ("gpus_per_cell", opts.gpus_per_cell),
                              ("cpus_per_cell", opts.cpus_per_cell)) if v is not None}
    ex = ExecOptions(kind=opts.executor, jobs=opts.jobs, wait=not opts.no_wait, time_min=opts.time_min,
                     slurm=dataclasses.replace(cfg.slurm, **over))
    ex.check(submitting=not opts.dry_run and not opts.resume)  # a --resume may only collect; checked on submit
    return ex


def run_ablation(opts: AblateOptions, echo=click.echo) -> Path:
    """Run (this shard of) the grid and write the report; return the ablation folder."""
    from common.outputs import check_out_dir
    from common.runs import check_same_options, discard_on_error, read_config, write_config

    cfg = load_ablation_config(opts.config)
    if opts.headroom_only and not cfg.headroom.enabled:
        raise UserError(f"--headroom-only: {opts.config} has no headroom stage; add `headroom: {{enabled: true}}` "
                        "to the config (fractions: [0.25, 0.5] by default)")
    check_out_dir(opts.out)
    ex = exec_options(opts, cfg)
    i, n = parse_shard(opts.shard)
    folder = ablation_dir(opts.out, cfg)
    indexed = shard_indexed(build_cells(cfg), i, n)
    mine = [c for _, c in indexed]
    reuse = check_reusable(opts.reuse, folder, cfg) if opts.reuse else None
    check_origin_kept(folder)

    if opts.dry_run:
        _dry_run(cfg, folder, indexed, ex, echo)
        return folder

    # Same folder, same config: refuse a changed grid (--resume may add values to its axes) once the folder holds
    # work made under the saved one (a config.json alone, left by an attempt refused before any work, does not
    # block the corrected one); refuse to redo finished cells unless --resume.
    if (folder / "config.json").exists() and has_work(folder):
        saved, grid = read_config(folder).get("ablation", {}), cfg.grid_dict()
        check_same_options(saved, grid, ignore=grown_axes(saved, grid) if opts.resume else ())
    if not opts.resume and not reuse:  # a --reuse run again goes on like --resume (its takeover is idempotent)
        ours = {c.id for c in mine}
        done = [r["cell_id"] for r in read_records(folder) if r.get("cell_id") in ours]
        if done:
            raise UserError(f"{folder}: {len(done)} cell(s) of this grid/shard already ran; pass --resume to skip "
                            "finished ones and retry failed ones, or choose another --out")
    made_root = not Path(opts.out).exists()
    # Refused before any work (a data path or synth folder the config names wrongly): nothing of it stays.
    with discard_on_error(folder, made_root, active=not folder.exists(), keep=WORK):
        folder.mkdir(parents=True, exist_ok=True)
        write_config(folder, "ablate", opts, ablation=cfg.grid_dict(), config_file=cfg.source)
        with file_lock(folder / ".prepare.lock"):  # shards sharing this folder prepare (and take over) once
            if reuse:
                cells = build_cells(cfg)
                taken = adopt(reuse, folder, cfg, cells)
                echo(f"[ablate] reusing {reuse}: its preparation, and {len(taken)} of this grid's {len(cells)} cells")
            prepared = prepare(cfg, folder, ex, echo, headroom_only=opts.headroom_only)
        if reuse or cfg.headroom.enabled:
            # the cells taken over, and those the headroom stage ran (the full-set points), are finished ones
            opts = dataclasses.replace(opts, resume=True)
    if opts.headroom_only:
        echo(f"[ablate] headroom: {folder / 'headroom.json'} (the GAN and the grid: the same command with "
             "--resume instead of --headroom-only)")
        return folder
    return _run_grid(opts, cfg, folder, ex, indexed, mine, prepared, echo)


def _run_grid(opts: AblateOptions, cfg: AblationConfig, folder: Path, ex: ExecOptions, indexed, mine, prepared: dict,
              echo) -> Path:
    """The grid once prepared: cell jobs, the executor, results.csv and the report."""
    i, n = parse_shard(opts.shard)
    if opts.prepare_only:
        echo(f"[ablate] prepared: {folder / 'prepared.json'}")
        return folder

    check_synth_stock(cfg, prepared)
    files = _cell_jobs(cfg, folder, indexed, prepared, opts.resume, ex, echo)
    ok = failed = 0
    forecast = _forecast(files, prepared, ex)
    if files:
        echo(f"[ablate] {len(files)} cells to run; the time of the rest follows each finished one")

    def progress(res: dict) -> None:
        nonlocal ok, failed
        rec_file = folder / "cells" / f"{res['name']}.json"
        rec = json.loads(rec_file.read_text(encoding="utf-8")) if rec_file.exists() else {}
        forecast.done(res["name"], res["seconds"] if res["status"] == "ok" else None)
        rest = f"; {forecast.line()}" if forecast.line() else ""
        if res["status"] == "ok":
            ok += 1
            scores = " ".join(f"{k}={shown(rec[k])}" for k in ("test_acc", "test_macro_f1") if k in rec)
            echo(f"[ablate] {res['name']}: {scores} ({res['seconds']:.0f} s) [{ok + failed}/{len(files)}]{rest}")
        else:
            failed += 1
            error = res["error"] if len(res["error"]) <= 100 else res["error"][:99] + "…"  # the log holds it whole
            echo(f"[ablate] {res['name']}: FAILED ({error}); see logs/{res['name']}.log [{ok + failed}/{len(files)}]")
        write_results_csv(folder)

    results = run_jobs(files, folder, ex, timeout_s=cfg.classifier.timeout_s, echo=echo, name=f"synthmix-{cfg.name}",
                       on_result=progress)
    if results is None:
        echo(f"[ablate] {len(files)} cells submitted; when they finish, run the same command with --resume to "
             "collect them and write the report")
        return folder
    echo(f"[ablate] shard {i}/{n}: ran {len(files)}, skipped {len(mine) - len(files)}, failed {failed}")
    write_results_csv(folder)

    from experiments.report import write_report

    rep = write_report(folder, cfg, prepared)
    echo(f"[ablate] {rep['verdict_line']}")
    echo(f"[ablate] wrote results.csv, summary.md and plots/ in {folder}")
    rec = rep["recommendation"]  # last, as a few short lines (a log reader's lines stay under 200 characters)
    for k, part in enumerate(rec.get("lines") or [rec["line"]]):
        echo(f"[ablate] {'  ' if k else ''}{part}")
    return folder


def _forecast(files: list[Path], prepared: dict, ex: ExecOptions) -> GridForecast:
    """The expected time of these job files' train runs, as many at once as the executor runs."""
    at_once = 1 if ex.kind == "debug" else ex.jobs or (ex.slurm.array_parallelism if ex.kind == "slurm" else 1)
    return GridForecast({f.stem: json.loads(f.read_text(encoding="utf-8"))["options"] for f in files},
                        prepared["class_counts"], at_once)


def _cell_jobs(cfg, folder: Path, indexed, prepared: dict, resume: bool, ex: ExecOptions, echo) -> list[Path]:
    """jobs/<cell>.json for every cell of this shard still to run (finished and still-running ones skipped)."""
    inputs = CellInputs(prepared["train"], prepared["test"], cfg.data.val, prepared.get("val_data"),
                        synth_folders(prepared))
    done = finished_ids(folder) if resume else set()
    busy = still_running(folder) if resume else set()  # also when a Slurm grid is collected from elsewhere
    options = {cell.id: train_options(cell, inputs, cfg, folder / "train_runs") for _, cell in indexed}
    varying = varying_keys(list(options.values()))  # what a cell's one line names: what tells it from the others
    files = []
    for k, (index, cell) in enumerate(indexed, 1):
        if cell.id in done or cell.id in busy:
            echo(f"[ablate] {k}/{len(indexed)} {cell.id}: " + ("finished already" if cell.id in done
                                                              else "still running on Slurm") + ", skipped")
            continue
        log = folder / "logs" / f"{cell.id}.log"
        log.unlink(missing_ok=True)  # a retried cell starts afresh (write_job drops its old result)
        files.append(write_job(Job(cell.id, "train", options[cell.id], str(log),
                                   {"folder": str(folder), "row": cell_row(cell, index, {
                                       k: getattr(options[cell.id], k) for k in ("model", "epochs", "size")})},
                                   brief=brief(options[cell.id], varying, folder)), folder))
    return files


def _dry_run(cfg: AblationConfig, folder: Path, indexed, ex: ExecOptions, echo) -> None:
    """Each cell's options (what differs from the defaults), and with slurm the array it would submit."""
    import tempfile

    from common.runs import options_dict

    inputs = CellInputs("<train>", "<test>", cfg.data.val, cfg.data.val_data,
                        {c.synth_key: "<synth>" if c.synth_key == "none" else f"<synth:{c.synth_key}>"
                         for _, c in indexed}, placeholders=True)
    jobs = [Job(c.id, "train", train_options(c, inputs, cfg, folder / "train_runs"), "<log>") for _, c in indexed]
    for job in jobs:
        o = options_dict(job.options)
        shown = {k: v for k, v in o.items() if k not in ("out", "progress") and v not in (None, False, (), [])}
        echo(f"{job.name}: TrainOptions {json.dumps(shown)}")
    if ex.kind == "slurm":
        with tempfile.TemporaryDirectory() as tmp:
            files = [write_job(j, tmp) for j in jobs]
            for line in describe_slurm(files, ex, cfg.classifier.timeout_s, f"synthmix-{cfg.name}"):
                echo(line)


GROWABLE_AXES = ("ratios", "filters", "weights", "real_lasts", "remedies", "synth_remedies", "gan_seeds", "augs",
                 "pretrained", "seeds")


def grown_axes(saved: dict, new: dict) -> tuple[str, ...]:
    """Grid axes that only gained values since the saved config: finished cells keep their ids, so --resume
    runs just the new ones (e.g. a ratio or more seeds added to a finished ablation)."""
    grown = []
    for k in (k for k in GROWABLE_AXES if k in new):
        before = saved.get(k, AXIS_DEFAULTS.get(k))
        if before is None and k == "gan_seeds":
            continue  # one GAN -> a seed axis renames every synthetic cell: a new ablation, not a grown one
        if before != new[k] and set(map(str, before or [])) <= set(map(str, new[k])):
            grown.append(k)
    return tuple(grown)


def needed_per_class(ratios: list[str], counts: dict[str, int]) -> dict[str, int]:
    """Synthetic images each class needs for the grid's largest ask (augment.mixing's quota rule)."""
    from augment.mixing import quota_for

    quotas = [quota_for(counts, None, r) for r in ratios]
    return {c: max(q[c] for q in quotas) for c in counts}


def check_synth_stock(cfg: AblationConfig, prepared: dict) -> None:
    """Refuse a grid whose ratios (or CAS) need more synthetic images per class than the synth folder holds.

    Mixing caps each class at the stock on hand, so a short folder would silently train at a lower ratio than the
    cell's label says (e.g. after --resume added a larger ratio to a prepared ablation). Filtered folders hold what
    the filter kept, by design; their kept/generated counts are in the report.
    """
    need = needed_per_class(cfg.ratios, prepared["class_counts"])
    if cfg.cas.enabled:  # CAS trains on as many synthetic images per class as the largest class has real ones
        need = {c: max(n, max(prepared["class_counts"].values())) for c, n in need.items()}
    for g in generators(prepared).values():
        if not g.get("synth"):
            continue
        have = class_counts_of(str(Path(g["synth"]) / "manifest.csv"))
        short = {c: have.get(c, 0) for c in prepared["class_counts"] if have.get(c, 0) < need[c]}
        if short:
            listed = ", ".join(f"{c}: {n} of {need[c]}" for c, n in list(short.items())[:5])
            raise UserError(f"{g['synth']}: the grid needs more synthetic images than it holds ({listed}); "
                            "lower the largest ratio, or run with another --out to generate more")


# --- preparation: data, generator, synthetic images, FID/KID (once per config) ---

def prepare(cfg: AblationConfig, folder: Path, ex: ExecOptions, echo=click.echo, headroom_only: bool = False) -> dict:
    """Materialise everything the cells share; cached in prepared.json (a killed step is redone, and what a grown
    grid adds — synthetic images for a first non-zero ratio, a new filter — is made on --resume).

    One generator: its keys (gan_run, synth, synth_by_filter, fid, filter_kept) sit at the top of prepared.json.
    A grid.gan_seeds axis: the same keys per seed under "gans", its files under gan-seed<s>/.
    """
    path = folder / "prepared.json"
    if path.exists():
        prepared = json.loads(path.read_text(encoding="utf-8"))
        echo(f"[ablate] prepared already ({path})")
    else:
        prepared = _prepare_data(cfg, echo)
    before = json.dumps(prepared, sort_keys=True)
    if cfg.headroom.enabled:  # before any generator: it may say a GAN cannot pay here
        from experiments.headroom import run_headroom

        run_headroom(cfg, folder, prepared, _headroom_runner(cfg, folder, prepared, ex, echo), echo)
    if (cfg.ratios != ["0"] or cfg.cas.enabled) and not headroom_only:
        if cfg.gan_seeds is None:
            _prepare_generator(cfg, folder, folder, prepared, prepared, None, ex, echo)
        else:
            gans = prepared.setdefault("gans", {})
            for s in cfg.gan_seeds:
                g = gans.setdefault(str(s), {"gan_run": None, "synth": None, "fid": {}})
                _prepare_generator(cfg, folder, folder / f"gan-seed{s}", prepared, g, s, ex, echo)
    if not path.exists() or json.dumps(prepared, sort_keys=True) != before:
        write_json(path, prepared)
    return prepared


def _headroom_runner(cfg: AblationConfig, folder: Path, prepared: dict, ex: ExecOptions, echo):
    """Runs the headroom stage's subset jobs (those not finished already) and its grid cells through the executor."""
    from experiments.jobs import result_path

    def run_all(jobs: list[Job], full: list) -> None:
        def finished(job: Job) -> bool:
            res = result_path(folder / "jobs" / f"{job.name}.json")
            return res.exists() and json.loads(res.read_text(encoding="utf-8")).get("status") == "ok"

        files = [write_job(j, folder) for j in jobs if not finished(j)]
        files += _cell_jobs(cfg, folder, full, prepared, True, ex, echo)
        forecast = _forecast(files, prepared, ex)
        done = []

        def said(res: dict) -> None:  # each run as it ends, and the time of the rest
            done.append(res["name"])
            forecast.done(res["name"], res["seconds"] if res["status"] == "ok" else None)
            what = f"{res['seconds']:.0f} s" if res["status"] == "ok" else f"FAILED, see logs/{res['name']}.log"
            rest = f"; {forecast.line()}" if forecast.line() else ""
            echo(f"[ablate] headroom {res['name']}: {what} [{len(done)}/{len(files)}]{rest}")

        run_jobs(files, folder, ex, timeout_s=cfg.classifier.timeout_s, echo=echo, name=f"synthmix-{cfg.name}",
                 on_result=said)
    return run_all


def _prepare_generator(cfg: AblationConfig, folder: Path, gfolder: Path, prepared: dict, g: dict,
                       seed: int | None, ex: ExecOptions, echo) -> None:
    """One generator's run, synthetic images, filtered manifests and FID/KID into `g` (files under `gfolder`)."""
    tag = "" if seed is None else f"-g{seed}"
    if not g.get("synth"):
        g["synth"] = _prepare_synth(cfg, folder, gfolder, prepared, g, seed, ex, echo)
    by_filter = g.setdefault("synth_by_filter", {"none": g["synth"]})
    missing = [f for f in cfg.filters if f != "none" and f not in by_filter]
    if missing:
        from experiments.filtering import prepare_filters

        made, kept = prepare_filters(cfg, folder, gfolder, prepared, g["synth"], missing,
                                     lambda job, marker, say: _run_once(job, marker, say, folder, ex, echo), echo)
        by_filter.update(made)
        g.setdefault("filter_kept", {}).update(kept)
    if cfg.fid.enabled and not g.get("fid") and not g.get("fid_error"):
        g["fid"], g["fid_error"] = _prepare_fid(cfg, folder, gfolder / "fid.json", prepared[cfg.fid.real], g["synth"],
                                                tag, ex, echo)


def _prepare_data(cfg: AblationConfig, echo) -> dict:
    """The real train/test(/val) paths (a recipe materialised, or the config's paths) and the class counts."""
    if cfg.data.prepare:
        from experiments.data_prep import prepare_data

        echo(f"[ablate] preparing data ({cfg.data.prepare.get('kind')}) ...")
        paths = prepare_data(cfg.data.prepare)
    else:
        paths = {"train": resolve_path(cfg.data.train), "test": resolve_path(cfg.data.test)}
    paths["val_data"] = resolve_path(cfg.data.val_data)
    if cfg.data.reference:
        paths["reference"] = resolve_path(cfg.data.reference)
    for key in ("train", "test", "val_data", "reference"):
        if key not in paths:
            continue
        if paths[key] is not None and not Path(paths[key]).exists():
            raise UserError(f"config data.{key}: {paths[key]} not found; fix the path (relative to the repo root)")
    return {**paths, "class_counts": class_counts_of(paths["train"]), "gan_run": resolve_path(cfg.gan.run),
            "synth": None, "fid": {}}


def class_counts_of(data: str) -> dict[str, int]:
    """Images per class of a folder or manifest (real: the x axis of the per-class gain plot; synth: the stock)."""
    from augment.manifest import class_counts, load_manifest

    # encoding_option=None: ablate has no --encoding to advise (a CSV's problem is said with the advice to save it)
    return {str(k): int(v) for k, v in class_counts(load_manifest(data, encoding_option=None)).items()}


def synth_per_class(cfg: AblationConfig, counts: dict[str, int]) -> int:
    """Images per class to generate: the grid's largest quota, and (CAS) a set as big as the largest class; a
    threshold filter doubles it, so the filtered sets keep enough to mix; a rank filter keeping q of each class
    needs 1/q of it."""
    import math

    from augment.mixing import kept_share

    need = max([*needed_per_class(cfg.ratios, counts).values(), max(counts.values()) if cfg.cas.enabled else 0, 1])
    shares = [kept_share(f) for f in cfg.filters if f != "none"]
    factor = max([2.0 if q is None else 1 / q for q in shares], default=1.0)
    return math.ceil(need * factor - 1e-9)


def _run_prep(job: Job, folder: Path, ex: ExecOptions, echo) -> dict:
    """One preparation job through the ablation's executor, waited for, its log lines echoed as they come."""
    prep_ex = dataclasses.replace(ex, jobs=1, wait=True)
    Path(job.log).unlink(missing_ok=True)  # a retried step's log starts afresh (and is echoed from its start)
    res = run_jobs([write_job(job, folder)], folder, prep_ex, echo=echo, follow=True, name=f"synthmix-{job.name}")[0]
    if res["status"] != "ok":
        raise click.ClickException(f"{job.command} ({job.name}) failed: {res['error']}; full log {job.log}")
    return res


def _run_once(job: Job, marker: Path, say: str, folder: Path, ex: ExecOptions, echo) -> str:
    """The run folder a preparation job made; the job runs only the first time (its folder kept in `marker`)."""
    if marker.exists():
        return json.loads(marker.read_text(encoding="utf-8"))["run"]
    echo(say)
    run = _run_prep(job, folder, ex, echo)["run_dir"]
    write_json(marker, {"run": run})
    return run


def _prepare_synth(cfg: AblationConfig, folder: Path, gfolder: Path, prepared: dict, g: dict,
                   seed: int | None, ex: ExecOptions, echo) -> str:
    counts, train = prepared["class_counts"], prepared["train"]
    gc = cfg.gan
    if gc.synth:
        synth = resolve_path(gc.synth)
        if not (Path(synth) / "manifest.csv").exists():
            raise UserError(f"config gan.synth: {synth} has no manifest.csv; pass a folder written by `cli.py synth`")
        return synth
    tag = "" if seed is None else f"-g{seed}"
    run = g["gan_run"]
    if run is None:
        which = "once per config" if seed is None else f"seed {seed}"
        run = _run_once(Job(f"train-gan{tag}", "train-gan", gan_options(cfg, train, gfolder / "gan", seed),
                            str(folder / "logs" / f"train-gan{tag}.log")), gfolder / "gan" / "trained.json",
                        f"[ablate] training the GAN ({which}) ...", folder, ex, echo)
        g["gan_run"] = run
    synth = gfolder / "synth"
    if not (synth / "manifest.csv").exists():
        n = gc.synth_n if gc.synth_n != "auto" else synth_per_class(cfg, counts)
        echo(f"[ablate] generating {n} images per class from {shown(run, folder)} ...")
        _run_prep(Job(f"synth{tag}", "synth", synth_options(cfg, run, n, synth, prepared.get("reference")),
                      str(folder / "logs" / f"synth{tag}.log")), folder, ex, echo)
    return str(synth)


def _prepare_fid(cfg: AblationConfig, folder: Path, out: Path, real: str, synth: str, tag: str, ex: ExecOptions,
                 echo) -> tuple[dict, str | None]:
    """FID/KID of a synth folder; a failure is recorded, not fatal (it sits beside the grid, not under it)."""
    if not out.exists():
        echo(f"[ablate] scoring the synthetic images{tag} ({cfg.fid.metrics}, {cfg.fid.extractor}) ...")
        try:
            _run_prep(Job(f"fid{tag}", "fid", fid_options(cfg, real, synth, out),
                          str(folder / "logs" / f"fid{tag}.log")), folder, ex, echo)
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
