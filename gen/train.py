"""`train-gan`: the loop that joins data, nets, DiffAugment, EMA, snapshots and checkpoints.

Lightning Fabric handles device, mixed precision and DDP; the loop stays plain PyTorch, which suits a GAN's
two optimisers and exact resume better than the Trainer. One process per GPU with `--devices N`.
"""
from __future__ import annotations

import sys
import time
from collections import defaultdict
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from common.atomic import append_jsonl, read_jsonl, remove_orphans, write_json, write_text
from common.errors import UserError
from common.runs import check_same_options, discard_on_error, next_run_dir, options_dict, read_config, write_config
from common.seeding import get_rng_state, rng_from_safe, rng_to_safe, seed_everything, set_rng_state
from gen.checkpoint import check_compatible, load_checkpoint, resolve_checkpoint, save_checkpoint
from gen.cost import Plan, advice, alternatives, describe, plan
from gen.curves import GanCurves
from gen.data import RealImages, StepSampler, load_real_images, to_float
from gen.diffaug import parse_policy
from gen.gan import GanPair
from gen.losses import CLASS_LOSSES, LOSSES, gsr_class_weights
from gen.judge import load_judge, save_judge, train_judge
from gen.nets import CONDS, D_ARCHS, RESOLUTIONS, build_discriminator, build_generator
from gen.nets.dcgan_base import EMBED_INITS
from gen.nets.projected import INPUT_SIZES
from gen.options import GAN_PATHS, GAN_RANGES, MODES, OPTIONS_BEFORE, RESUME_IGNORE, GanOptions, resolve_auto
from gen.scorer import Scorer
from gen.snapshots import plot_losses, save_grid
from gen.watch import GRID_COLS, Watch, snapshot



def check_options(opts: GanOptions) -> None:
    """Refuse impossible options before anything is written."""
    from augment.spec import check_spec
    from common.outputs import check_out_dir, check_outside
    from common.ranges import check_ranges

    check_ranges(opts, GAN_RANGES)
    check_spec(opts.data)
    if not opts.resume:  # a resumed run writes into its own folder
        check_out_dir(opts.out)
        check_outside(opts.out, {"--data": opts.data.data})
    for flag, value, choices in (("--mode", opts.mode, MODES), ("--size", opts.size, RESOLUTIONS),
                                 ("--g-cond", opts.g_cond, CONDS), ("--d-arch", opts.d_arch, D_ARCHS),
                                 ("--loss", opts.loss, LOSSES), ("--class-loss", opts.class_loss, ("auto", *CLASS_LOSSES)),
                                 ("--g-embed-init", opts.g_embed_init, EMBED_INITS),
                                 ("--proj-size", opts.proj_size, INPUT_SIZES)):
        if value not in choices:
            raise UserError(f"{flag} {value!r}: unknown; choose one of {', '.join(map(str, choices))}")
    if opts.class_loss not in ("none", "auto") and opts.mode != "conditional":
        raise UserError(f"--class-loss {opts.class_loss}: a class head needs the class-conditional GAN; "
                        "use --mode conditional or --class-loss none")
    if opts.gsr_weight > 0 and opts.mode != "conditional":
        raise UserError("--gsr-weight: gSR penalises the class-conditional gains of the conditional GAN; use --mode "
                        "conditional, or leave --gsr-weight at 0")
    if opts.transition_end > 0:
        if opts.transition_end <= opts.transition_start:
            raise UserError(f"--transition-end {opts.transition_end}: must come after --transition-start "
                            f"{opts.transition_start} (the class weight ramps from 0 to 1 between them); 0 turns it "
                            "off")
        if (opts.mode, opts.g_cond, opts.d_arch) != ("conditional", "shared", "dcgan"):
            raise UserError("--transition-end: transitional conditioning is built for the conditional GAN with "
                            "--g-cond shared and --d-arch dcgan; use those, or leave --transition-end at 0")
    if opts.resume and opts.init_from:
        raise UserError("--resume and --init-from together: --resume continues a run (weights included); "
                        "pass only one")
    parse_policy(opts.diffaug)
    if opts.score_extractor not in ("auto", "inception", "effnet-lite0"):
        raise UserError(f"--score-extractor {opts.score_extractor!r}: choose auto, inception or effnet-lite0")
    from gen.nets.projected import refuse_lite0_scoring

    refuse_lite0_scoring(opts.d_arch, opts.score_extractor, "--score-extractor effnet-lite0")
    from augment.presets import interpolation

    interpolation(opts.upscale)  # a typo fails before any run folder


def transition_weight(step: int, start: int, end: int) -> float:
    """transitional-cGAN's ramp (training/training_loop.py, in kimg there, in G steps here): 0 until `start`, then
    linear to 1 at `end`."""
    return min(1.0, max(0.0, (step - start) / (end - start)))


def make_fabric(devices: int):
    """Fabric on CUDA (bf16 or fp16 mixed precision; DDP for several GPUs) or on the CPU (32-bit).

    `devices > 1` without a GPU runs DDP as gloo processes on the CPU: the multi-GPU code path, exercised where
    no GPU is (tests, a laptop), for checking it rather than for speed.
    """
    from lightning.fabric import Fabric

    strategy = "ddp" if devices > 1 else "auto"
    if torch.cuda.is_available():
        if devices > torch.cuda.device_count():
            raise UserError(f"--devices {devices}: only {torch.cuda.device_count()} GPU(s) visible; lower --devices")
        precision = "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
        return Fabric(accelerator="cuda", devices=devices, precision=precision, strategy=strategy)
    if devices > 1:
        from common.device import share_cpu_threads

        share_cpu_threads(devices)
    return Fabric(accelerator="cpu", devices=devices, precision="32-true", strategy=strategy)


def run_desc(opts: GanOptions) -> str:
    """Run folder name from the options that matter, e.g. cgan-digits-32px-diffaug-seed0."""
    kind = "cgan" if opts.mode == "conditional" else "pcgan"
    name = Path(opts.data.data).stem or "data"
    aug = "diffaug" if parse_policy(opts.diffaug) else "noaug"
    return f"{kind}-{name}-{opts.size}px-{aug}-seed{opts.seed}"


def _arch(opts: GanOptions) -> dict:
    return {"mode": opts.mode, "size": opts.size, "nz": opts.nz, "ngf": opts.ngf, "ndf": opts.ndf,
            "g_cond": opts.g_cond, "d_arch": opts.d_arch, "class_loss": opts.class_loss,
            # the projected D's layout since issue 19 (projected-gan's mixing and heads) at its input size
            "proj_size": opts.proj_size if opts.d_arch == "projected" else None,
            "transitional": opts.transition_end > 0}


def train_gan(opts: GanOptions) -> Path | None:
    """Train (or resume) a conditional or per-class DCGAN; return the run folder (None on DDP ranks > 0)."""
    from augment.labels import LabelMap
    from augment.spec import load_dataset

    t_begin = time.perf_counter()  # --budget-minutes counts the whole command: loading and the judge too
    check_options(opts)
    opts = resolve_auto(opts)
    fabric = make_fabric(opts.devices)
    fabric.launch()
    rank0 = fabric.is_global_zero

    # Where the run lives: a new numbered folder, or the folder being resumed (options must match).
    resume_ckpt, made_root, df, label_map = None, False, None, None
    if opts.resume:
        run_dir = Path(opts.resume)
        cfg = read_config(run_dir, "train-gan")
        # Options added since the run was made are at the values it trained with (OPTIONS_BEFORE), not today's.
        cfg["options"] = {**options_dict(GanOptions()), **OPTIONS_BEFORE, **cfg["options"]}
        if rank0:
            remove_orphans(run_dir)  # temp files of a write the kill cut short
        if not (run_dir / "last.pt").is_file():
            raise UserError(f"--resume {run_dir}: no last.pt there: the run stopped before its first checkpoint "
                            f"was written (every --snapshot-every {cfg['options'].get('snapshot_every')} steps); "
                            "nothing to resume, start it again without --resume")
        # An unreadable file or an old architecture is refused before options.
        resume_ckpt = load_checkpoint(run_dir / "last.pt", fix="it cannot be resumed; start a new run without "
                                      "--resume (or take weights from best.pt with --init-from)")
        check_same_options(cfg["options"], options_dict(opts), ignore=RESUME_IGNORE, paths=GAN_PATHS)
        label_map = LabelMap.load(run_dir)
        df, label_map = load_dataset(opts.data, label_map=label_map, progress=opts.progress and rank0)
    else:
        made_root = not Path(opts.out).exists()
        run_dir = Path(fabric.broadcast(str(next_run_dir(opts.out, run_desc(opts))) if rank0 else None))
    # A new run that ends before its first checkpoint has nothing to resume: its folder goes, whether a check refused
    # it (they all come before config.json) or it crashed before last.pt.
    with discard_on_error(run_dir, made_root, active=rank0 and not opts.resume, keep=("last.pt",)):
        return _train_in(opts, fabric, run_dir, resume_ckpt, df, label_map, t_begin)


def _train_in(opts: GanOptions, fabric, run_dir: Path, resume_ckpt: dict | None, df, label_map,
              t_begin: float) -> Path:
    """`train_gan` once its run folder is known: the last checks, config.json, real images, nets, the loop."""
    from augment.spec import load_dataset

    rank0 = fabric.is_global_zero
    # The checks that can still refuse the run, all before config.json.
    if not opts.resume:
        df, label_map = load_dataset(opts.data, report_dir=run_dir if rank0 else None,
                                     progress=opts.progress and rank0)
    names = list(label_map.names)
    conditional = opts.mode == "conditional"
    counts = df["label"].value_counts().reindex(names, fill_value=0)
    small = [f"{c} ({n})" for c, n in counts.items() if n < opts.min_class_images]
    if small and not conditional:
        raise UserError(f"per-class mode: class(es) {', '.join(small)} have fewer than {opts.min_class_images} "
                        "images to train a GAN alone; use --mode conditional, which shares one GAN across classes")
    init_ckpt = None
    if opts.init_from:
        init_ckpt = load_checkpoint(resolve_checkpoint(opts.init_from, "auto"))
        check_compatible(init_ckpt, _arch(opts), names, f"--init-from {opts.init_from}")
    if rank0 and not opts.resume:
        write_config(run_dir, "train-gan", opts, arch=_arch(opts), class_names=names,
                     class_counts={c: int(n) for c, n in counts.items()})
        label_map.save(run_dir / "labels.json")

    # Real images, decoded once; the seed fixes weights' init, and with the step, every batch.
    real = load_real_images(df, label_map, opts.size, opts.upscale, opts.num_workers, opts.progress and rank0)
    seed_everything(opts.seed + fabric.global_rank)
    sampler = StepSampler(real.targets, opts.batch, opts.seed, fabric.global_rank)
    pairs = _build_pairs(opts, fabric, len(names) if conditional else 0, n_models=1 if conditional else len(names),
                         counts=real.counts())

    # Weights from elsewhere (--init-from), or the whole state of the run being resumed.
    step = 0
    if init_ckpt is not None:
        for pair, state in zip(pairs, init_ckpt["models"]):
            pair.load_state_dict(state, weights_only=True)
    if resume_ckpt is not None:
        check_compatible(resume_ckpt, _arch(opts), names, f"--resume {run_dir}")
        for pair, state in zip(pairs, resume_ckpt["models"]):
            pair.load_state_dict(state)
        step = int(resume_ckpt["step"])
        if rank0:  # drop log lines written after the checkpoint by the interrupted run
            rows = [r for r in read_jsonl(run_dir / "stats.jsonl") if r.get("step", 0) <= step]
            write_text(run_dir / "stats.jsonl", "".join(_jsonl(r) for r in rows))

    judge, judge_feats = _judge(run_dir, real, names, opts, fabric.device, rank0, resume_ckpt is not None)
    watch = Watch(real, names, opts, fabric.device, judge, judge_feats)
    # Fabric's TensorBoard logger, made here rather than passed to Fabric(): the run folder is known only now.
    curves = GanCurves(run_dir, step if resume_ckpt is not None else None, enabled=opts.tensorboard and rank0)
    if rank0 and resume_ckpt is None:
        save_grid(run_dir / "reals.png", watch.real_grid(), nrow=GRID_COLS)
        curves.image("reals", watch.real_grid(), GRID_COLS, step=0)
    if resume_ckpt is not None:
        if rank0:
            watch.restore_peaks(read_jsonl(run_dir / "stats.jsonl"))
        # Restore RNG last: everything above (init, fixed noise) must not disturb the resumed stream.
        set_rng_state(rng_from_safe(resume_ckpt["rng"]))
        if fabric.global_rank:  # only rank 0's RNG is stored; other ranks continue on fresh, distinct streams
            seed_everything(opts.seed + fabric.global_rank + 7919 * step)
    snapshot_s = 0.0  # what one snapshot costs, for the time of the steps ahead
    if resume_ckpt is None and rank0:
        t = time.perf_counter()
        snapshot(run_dir, step, pairs, watch, curves)
        snapshot_s = time.perf_counter() - t

    try:
        _loop(run_dir, step, pairs, real, sampler, watch, opts, names, fabric, curves, _Clock(t_begin, snapshot_s))
    finally:
        curves.close()  # events written so far reach the disk even when the run is stopped
    return run_dir if rank0 else None


def _jsonl(row: dict) -> str:
    import json

    return json.dumps(row, ensure_ascii=False) + "\n"


def _build_pairs(opts: GanOptions, fabric, num_classes: int, n_models: int,
                 counts: list[int] | None = None) -> list[GanPair]:
    from timm.utils import ModelEmaV3

    opts = resolve_auto(opts)  # benchmarks build pairs without train_gan
    policy = parse_policy(opts.diffaug)
    transitional = opts.transition_end > 0 and num_classes > 0
    transition = partial(transition_weight, start=opts.transition_start, end=opts.transition_end) \
        if transitional else None
    gsr_lam = gsr_class_weights(counts or [1] * num_classes, opts.gsr_weight, opts.gsr_beta).to(fabric.device) \
        if opts.gsr_weight > 0 and num_classes else None
    pairs = []
    for _ in range(n_models):
        G = build_generator(opts.size, opts.nz, opts.ngf, num_classes, opts.g_cond, opts.g_embed_init, transitional)
        D = build_discriminator(opts.size, opts.ndf, num_classes, opts.d_arch, opts.class_loss, opts.proj_size,
                                transitional)
        opt_g = torch.optim.Adam(G.parameters(), lr=opts.lr_g, betas=(opts.beta1, opts.beta2))
        opt_d = torch.optim.Adam(D.parameters(), lr=opts.lr_d, betas=(opts.beta1, opts.beta2))
        Gw, opt_g = fabric.setup(G, opt_g)
        Dw, opt_d = fabric.setup(D, opt_d)
        # EMA of G: warmed up (decay grows from 0 towards ema_decay), so even a short run's G_ema is usable.
        ema = ModelEmaV3(G, decay=opts.ema_decay, use_warmup=True)
        pairs.append(GanPair(Gw, Dw, opt_g, opt_d, G, D, ema, opts.loss, policy, opts.nz, num_classes > 0,
                             backward=fabric.backward, toggle_d_grad=fabric.world_size == 1,
                             class_loss=opts.class_loss, class_weight=opts.class_weight, real_flip=opts.real_flip,
                             lecam_weight=opts.lecam_weight, lecam_start=opts.lecam_start, transition=transition,
                             gsr_lam=gsr_lam))
    return pairs


def _judge(run_dir: Path, real: RealImages, names: list[str], opts: GanOptions, device, rank0: bool, resumed: bool):
    """The agreement classifier: trained on the reals once per run (judge.pt), reloaded on resume; None if off.

    Returns ((net, info), the reals' judge features per class for gen.variety) or (None, None).
    """
    from gen.judge import load_real_features, real_features

    if opts.judge_steps == 0 or len(names) < 2:
        return None, None
    path = run_dir / "judge.pt"
    if resumed and path.is_file():
        net, info, _ = load_judge(path, device)
        return (net, info), load_real_features(path)
    net, info = train_judge(real.images, real.targets, len(names), seed=opts.seed, device=device,
                            steps=opts.judge_steps)
    feats = real_features(net, real.images, real.targets, names, device)
    if rank0:
        save_judge(path, net, info, names, feats)
    return (net, info), feats


def _checkpoint(step: int, pairs: list[GanPair], opts: GanOptions, names: list[str]) -> dict:
    return {"arch": _arch(opts), "class_names": names, "options": options_dict(opts), "step": step,
            "models": [p.state_dict() for p in pairs],
            "model_classes": [None] if opts.mode == "conditional" else names,
            "rng": rng_to_safe(get_rng_state()),
            "data_state": {"sampler": "StepSampler", "seed": opts.seed, "next_step": step}}


def _on_device(real: RealImages, device) -> tuple[torch.Tensor, torch.Tensor]:
    """The training images where the steps run: on a GPU once (no host copy per step) when they fit easily."""
    if device.type != "cuda":
        return real.images, real.targets
    free, _ = torch.cuda.mem_get_info(device)
    if real.images.nbytes < free // 4:
        return real.images.to(device), real.targets.to(device)
    return real.images.pin_memory(), real.targets.pin_memory()  # too big: pinned, so copies overlap the steps


def _log_row(step: int, acc: dict[str, list[torch.Tensor]], fabric) -> dict:
    """Interval means of the device-side losses over every rank, read in one transfer (the interval's one sync)."""
    keys = list(acc)
    means = torch.stack([torch.stack(acc[k]).double().mean() for k in keys])
    if fabric.world_size > 1:  # every rank's batches, not rank 0's alone
        means = fabric.all_reduce(means, reduce_op="mean")
    return {"step": step, **dict(zip(keys, means.tolist()))}


class _Clock(NamedTuple):
    begin: float        # perf_counter() when the command began (--budget-minutes counts from there)
    snapshot_s: float   # one snapshot's seconds (0 when not measured: a resumed run)


def _pace_of(opts: GanOptions, fabric, num_classes: int, n_models: int, channels: int, changes: dict,
             steps: int = 2) -> float:
    """G steps per second of `opts` changed by `changes`, timed here on random images after one warm-up step; the
    run's random streams are left as they were."""
    state = get_rng_state()
    try:
        o = replace(opts, **changes)
        pair = _build_pairs(o, fabric, num_classes, 1)[0]
        x = torch.rand(o.batch, channels, o.size, o.size, device=fabric.device) * 2 - 1
        y = torch.randint(0, max(num_classes, 1), (o.batch,), device=fabric.device)
        pair.train_step([(x, y)] * o.d_steps, 0)["loss_d"].item()
        t = time.perf_counter()
        for i in range(steps):
            out = pair.train_step([(x, y)] * o.d_steps, i + 1)
        out["loss_d"].item()  # waits for the device
        return steps / (time.perf_counter() - t) / n_models
    finally:
        set_rng_state(state)


def _plan(run_dir: Path, step: int, rate: float, pairs: list[GanPair], real: RealImages, names: list[str],
          opts: GanOptions, fabric, clock: _Clock) -> Plan:
    """The steps this run goes to, said once its pace is known (rank 0; plan.json in the run folder), with what
    would fit the budget better when it buys too few."""
    from tqdm import tqdm

    budget = 60 * opts.budget_minutes if opts.budget_minutes > 0 else None

    def now_plan() -> Plan:
        return plan(rate, step, opts.steps, time.perf_counter() - clock.begin, budget, clock.snapshot_s,
                    opts.snapshot_every)

    p, said = now_plan(), None
    if p.too_few:
        k = len(names) if pairs[0].conditional else 0
        # under DDP every rank would have to time them together: named, not timed
        timed = [(flags, _pace_of(opts, fabric, k, len(pairs), real.images.shape[1], changes)
                  if fabric.world_size == 1 else None)
                 for flags, changes in alternatives(opts.size, opts.ngf, opts.ndf)]
        p = now_plan()  # the budget less the time the other settings took
        said = advice(p, timed, fabric.device.type == "cuda")
    models = f", {len(pairs)} class models" if len(pairs) > 1 else ""
    where = (f"on {fabric.device.type} at {opts.size} px, ngf {opts.ngf}, ndf {opts.ndf}, batch {opts.batch}"
             f"{models}")
    tqdm.write(describe(p, where), file=sys.stderr)
    if said:
        tqdm.write(said, file=sys.stderr)
    write_json(run_dir / "plan.json", {"step": step, "steps_per_s": rate, "steps": p.steps, "eta_s": p.eta_s,
                                       "budget_s": budget, "bought": p.bought, "where": where,
                                       "too_few": p.too_few})
    return p


def _loop(run_dir: Path, step: int, pairs: list[GanPair], real: RealImages, sampler: StepSampler, watch: Watch,
          opts: GanOptions, names: list[str], fabric, curves: GanCurves, clock: _Clock) -> None:
    from tqdm import tqdm

    from common.eta import RateMeter
    from common.progress import progress_bar

    rank0, one_process = fabric.is_global_zero, fabric.world_size == 1
    scorer = Scorer(run_dir, pairs, real, opts, names, fabric.device) if opts.score_every and rank0 else None
    images, targets = _on_device(real, fabric.device)
    acc: dict[str, list[torch.Tensor]] = defaultdict(list)  # device tensors until the next log row
    n_images = opts.batch * opts.d_steps * len(pairs) * fabric.world_size  # real images through D per G step
    t_start = time.perf_counter()
    t_mark, n_mark = t_start, 0  # training steps since the last log row or snapshot, and when they began
    bar = progress_bar(total=opts.steps, initial=step, desc="train-gan", unit="step",
                       disable=not (opts.progress and rank0), dynamic_ncols=True)
    total, meter, planned = opts.steps, RateMeter(), False
    deadlines = [(t_start + 60 * opts.max_minutes, f"--max-minutes {opts.max_minutes}")] if opts.max_minutes else []
    if opts.budget_minutes > 0:
        deadlines.append((clock.begin + 60 * opts.budget_minutes, f"--budget-minutes {opts.budget_minutes}"))
    while step < total:
        for k, pair in enumerate(pairs):
            batches = []
            for sub in range(opts.d_steps):  # each D step on a fresh real batch
                idx = sampler.indices(step, None if pair.conditional else k, sub)
                idx = torch.from_numpy(idx).to(images.device)
                batches.append((to_float(images[idx]).to(fabric.device, non_blocking=True),
                                targets[idx].to(fabric.device, non_blocking=True)))
            for key, v in pair.train_step(batches, step).items():
                acc[key].append(v)
        step += 1
        n_mark += 1
        bar.update(1)
        if not planned:
            if fabric.device.type == "cuda":  # the pace of finished steps, not of queued kernels
                torch.cuda.synchronize(fabric.device)
            meter.tick()
            # One process plans as soon as its pace is known; several take rank 0's, at a log step (a collective)
            if one_process or step % opts.log_every == 0:
                rate = meter.rate if one_process else fabric.broadcast(meter.rate)
                if rate is not None:
                    t_plan = time.perf_counter()
                    p = _plan(run_dir, step, rate, pairs, real, names, opts, fabric, clock) if rank0 else None
                    total = p.steps if one_process else fabric.broadcast(p.steps if p else None)
                    planned, bar.total = True, total
                    bar.refresh()
                    t_mark += time.perf_counter() - t_plan  # timing other settings is not this run's step time
        # A deadline ends the run like its last step would (stats, snapshot, checkpoint). One process reads its
        # own clock; several agree on it through a collective, so only at log steps, never every step.
        out_of_time = None
        if deadlines and (one_process or step % opts.log_every == 0):
            now = time.perf_counter()
            out_of_time = next((flag for t, flag in deadlines if now >= t), None)
            if not one_process:
                out_of_time = fabric.broadcast(out_of_time)
        last = step >= total or out_of_time is not None
        if step % opts.log_every == 0 or last:
            row = _log_row(step, acc, fabric)
            # Wall time over the interval, after the read above waited for the device: per-step host clocks
            # would time kernel launches, not kernels.
            row["step_time"] = (time.perf_counter() - t_mark) / n_mark
            row["images_per_s"] = n_images / row["step_time"]
            row["elapsed_s"] = time.perf_counter() - t_start
            if fabric.device.type == "cuda":
                row["peak_mem_mb"] = torch.cuda.max_memory_allocated(fabric.device) / 2 ** 20
            bar.set_postfix(D=f"{row['loss_d']:.3f}", G=f"{row['loss_g']:.3f}", img_s=f"{row['images_per_s']:.0f}",
                            refresh=False)  # the bar's own interval decides when a line is written
            if rank0:
                append_jsonl(run_dir / "stats.jsonl", row)
                curves.train(row)
            acc.clear()
            t_mark, n_mark = time.perf_counter(), 0
        score_now = opts.score_every > 0 and step % opts.score_every == 0
        if step % opts.snapshot_every == 0 or last or score_now:
            if rank0:
                snapshot(run_dir, step, pairs, watch, curves)
                save_checkpoint(run_dir / "last.pt", _checkpoint(step, pairs, opts, names))
                plot_losses(read_jsonl(run_dir / "stats.jsonl"), run_dir / "losses.png")
                if scorer is not None and score_now:
                    # after the snapshot, so last.pt is the checkpoint that was measured
                    curves.score(step, scorer(step))
            fabric.barrier()  # the other ranks wait while rank 0 writes; a no-op on one process
            t_mark, n_mark = time.perf_counter(), 0
        if out_of_time is not None:
            tqdm.write(f"train-gan: {out_of_time} reached at step {step}; resume with --resume to train on",
                       file=sys.stderr)
            break
    bar.close()
