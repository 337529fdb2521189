"""`train`: a timm classifier on real (+ synthetic) images with Lightning; writes a self-describing run folder."""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from dataclasses import replace
from pathlib import Path

import pandas as pd
import torch

from clf.options import LOSSES, OPTIMIZERS, SELECT_METRICS, TrainOptions
from common.errors import UserError

class _DropTips(logging.Filter):
    """Lightning advertises a cloud logger on every run; keep the console to what matters."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "litlogger" not in record.getMessage()


logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(_DropTips())

RESUME_IGNORE = ("resume", "progress", "workers", "device", "out", "tensorboard")
RESUMABLE = ("last.pt", "best.pt", "metrics.csv")  # a run folder holding one of these is kept when the run fails


def check_options(o: TrainOptions) -> None:
    """Refuse inconsistent options before any work is done."""
    from augment.presets import interpolation, list_presets
    from augment.spec import check_spec
    from clf.options import TRAIN_RANGES
    from common.device import pick_device
    from common.outputs import check_out_dir, check_outside
    from common.ranges import check_ranges

    check_ranges(o, TRAIN_RANGES)
    check_spec(o.data)
    if not o.resume:  # a resumed run writes into its own folder
        check_out_dir(o.out)
        check_outside(o.out, {"--data": o.data.data, "--val-data": o.val_data, "--test-data": o.test_data})
    pick_device(o.device)  # a malformed --device is one line here, not a traceback inside torch

    if not o.model and not o.lite0_imagenet and not o.resume:
        raise UserError("--model: required; give a timm model name (e.g. resnet18) or --lite0-imagenet for "
                        "tf_efficientnet_lite0 with offline ImageNet weights")
    if o.select not in SELECT_METRICS:
        raise UserError(f"--select {o.select!r}: choose one of {', '.join(SELECT_METRICS)}")
    for name, val in (("--loss", o.loss), ("--switch-loss", o.switch_loss)):
        if val is not None and val not in LOSSES:
            raise UserError(f"{name} {val!r}: choose one of {', '.join(LOSSES)}")
    if (o.switch_loss is None) != (o.switch_epoch is None):
        raise UserError("--switch-loss and --switch-epoch go together, e.g. --switch-loss focal --switch-epoch 5")
    if o.opt not in OPTIMIZERS:
        raise UserError(f"--opt {o.opt!r}: choose one of {', '.join(OPTIMIZERS)}")
    if o.aug not in list_presets():
        raise UserError(f"--aug {o.aug!r}: choose one of {', '.join(list_presets())}")
    if o.class_weighted and o.balanced_sampler:
        raise UserError("--class-weighted and --balanced-sampler both correct imbalance; pick one")
    if o.epochs < 1 and not o.stages:
        raise UserError(f"--epochs {o.epochs}: must be ≥ 1")
    if o.val_data and o.val_fraction not in (None, 0.2):
        raise UserError("--val-data and --val are alternatives; give one")
    if o.devices < 1:
        raise UserError(f"--devices {o.devices}: must be at least 1")
    if torch.cuda.is_available() and o.devices > torch.cuda.device_count():
        raise UserError(f"--devices {o.devices}: only {torch.cuda.device_count()} GPU(s) visible; lower --devices")
    interpolation(o.upscale)  # a typo fails before any run folder
    from clf.predict import check_tta

    check_tta(o.tta)
    from clf.data import check_mix
    from clf.freeze import parse_stages

    check_mix(o.synth, o.ratio, o.balance)
    check_synth_use(o)
    check_long_tail(o)

    stages = parse_stages(o.stages, o.epochs, o.trainable, o.opt, o.lr)  # a --stage/--trainable typo fails here
    if o.switch_epoch is not None and o.switch_epoch >= stages[-1].end:
        raise UserError(f"--switch-epoch {o.switch_epoch}: the run has {stages[-1].end} epoch(s), numbered from 0, so "
                        f"it would never switch; pass an epoch below {stages[-1].end}, or train longer")


def check_synth_use(o: TrainOptions) -> None:
    """The ways of using synthetic images (filter, loss weight, real-only last epochs) need --synth and fit the run."""
    from augment.mixing import parse_filter
    from clf.freeze import parse_stages

    try:
        flt = parse_filter(o.synth_filter)
    except UserError as e:
        raise UserError(f"--synth-filter: {e}") from None
    used = [name for name, on in (("--synth-filter", flt != "none"), ("--synth-weight", o.synth_weight != 1.0),
                                  ("--real-last", o.real_last > 0)) if on]
    if used and not o.synth:
        raise UserError(f"{', '.join(used)}: only mean something with --synth DIR (synthetic images to use)")
    if o.synth_scorer and flt == "none":
        raise UserError("--synth-scorer scores synthetic images for --synth-filter; give the filter (e.g. top0.5) "
                        "or drop the scorer")
    if o.synth_scorer and not Path(o.synth_scorer).exists():
        raise UserError(f"--synth-scorer {o.synth_scorer}: no such run folder; pass a `train` run on the real images")
    if o.synth_weight != 1.0 and (o.mixup > 0 or o.cutmix > 0):
        raise UserError("--synth-weight with --mixup/--cutmix: a mixed image is part real, part synthetic, so it has "
                        "no one weight; use one of them")
    if o.real_last > 0 and o.patience > 0:
        raise UserError("--real-last with --patience: early stopping could end the run before its real-only epochs; "
                        "use one of them")
    total = parse_stages(o.stages, o.epochs, o.trainable, o.opt, o.lr)[-1].end
    if o.real_last >= total:
        raise UserError(f"--real-last {o.real_last}: the run has {total} epoch(s), so synthetic images would never be "
                        f"seen; pass fewer than {total}")


def check_long_tail(o: TrainOptions) -> None:
    """The long-tail remedies correct the class prior once: two that both correct it are refused, and so are the
    remedies' own settings without the remedy (they would be silently ignored)."""
    from clf.freeze import parse_stages
    from clf.options import prior_corrections

    both = prior_corrections(o)
    if len(both) > 1:
        raise UserError(f"{' with '.join(both)}: each corrects for the class prior, so together they count it twice; "
                        "use one of them (LDAM's own --drw-epoch excepted)")
    kinds = {o.loss, o.switch_loss}
    for flag, set_, needs, why in (("--la-tau", o.la_tau != 1.0, "logit_adjusted" in kinds, "--loss logit_adjusted"),
                                   ("--ldam-margin", o.ldam_margin != 0.5, "ldam" in kinds, "--loss ldam"),
                                   ("--ldam-scale", o.ldam_scale != 30.0, "ldam" in kinds, "--loss ldam"),
                                   ("--drw-beta", o.drw_beta != 0.9999, o.drw_epoch is not None, "--drw-epoch E")):
        if set_ and not needs:
            raise UserError(f"{flag}: only used with {why}; add it or drop {flag}")
    if o.switch_loss and "ldam" in kinds:
        raise UserError("--loss ldam trains a cosine head that the other losses do not use; it cannot be switched "
                        "to or from; use --drw-epoch for LDAM's deferred re-weighting")
    for other, on, why in (("--mixup/--cutmix", o.mixup > 0 or o.cutmix > 0, "CMO is a CutMix of its own"),
                           ("--synth-weight", o.synth_weight != 1.0, "a pasted image is part of two, with no one weight"),
                           ("--real-last", o.real_last > 0, "CMO would paste synthetic patches into the real-only "
                                                            "epochs")):
        if o.cmo > 0 and on:
            raise UserError(f"--cmo with {other}: {why}; use one of them")
    total = parse_stages(o.stages, o.epochs, o.trainable, o.opt, o.lr)[-1].end
    if o.drw_epoch is not None and o.drw_epoch >= total:
        raise UserError(f"--drw-epoch {o.drw_epoch}: the run has {total} epoch(s), numbered from 0, so the weights "
                        f"would never be used; pass an epoch below {total} (the reference: 160 of 200)")


def resume_checkpoint(run_dir: Path) -> Path:
    """last.pt; else best.pt when it holds the last finished epoch (a kill during last.pt's first write).

    The file is read here: a truncated or foreign one is one line, not an unpickling traceback inside Lightning.
    """
    from clf.checkpoint import read_checkpoint

    fix = "it cannot be resumed; start a new run without --resume (or take best.pt's weights with --weights)"
    last, best = run_dir / "last.pt", run_dir / "best.pt"
    if last.is_file():
        read_checkpoint(last, fix=fix)
        return last
    done = []
    if (run_dir / "metrics.csv").is_file():
        from common.csvfile import read_csv

        try:
            done = read_csv(run_dir / "metrics.csv", "metrics.csv", encoding_option=None)["epoch"].tolist()
        except UserError:  # empty or torn: no epoch is known to have finished
            done = []
    if not done:
        raise UserError(f"--resume {run_dir}: the run stopped before its first epoch ended (no checkpoint, no "
                        "metrics.csv row); nothing to resume, start it again without --resume")
    if best.is_file() and int(read_checkpoint(best, fix=fix).get("epoch", -1)) == int(done[-1]):
        return best  # the same state last.pt would have held
    raise UserError(f"--resume {run_dir}: epoch {done[-1]} finished but the run was stopped while writing its "
                    "checkpoint (no last.pt); nothing exact to resume from, start it again without --resume")


def run_desc(o: TrainOptions, size: int) -> str:
    data = Path(o.data.data).stem or "data"
    init = "lite0in1k" if o.lite0_imagenet else "hub" if o.pretrained else "weights" if o.weights else "scratch"
    mix = f"-synth{'bal' if o.balance else o.ratio}" if o.synth else ""
    return f"clf-{o.model}-{data}-{size}px-{init}{mix}-seed{o.seed}"


def _default_size(name: str, size: int | None) -> int:
    """The input size a run will use: the option, else the model's default (timm's pretrained config)."""
    import timm

    if not timm.is_model(name):
        from clf.models import create_classifier

        create_classifier(name, 2)  # raises the clear unknown-model error
    cfg = timm.get_pretrained_cfg(name)
    return int(size or (cfg.input_size[-1] if cfg else 224))


def _metrics_csv_writer(run_dir: Path, quiet: bool):
    from common.atomic import atomic_path

    def write(history: list[dict]) -> None:
        with atomic_path(run_dir / "metrics.csv") as tmp:
            pd.DataFrame(history).to_csv(tmp, index=False)
        h = history[-1]
        if not quiet:
            print(f"epoch {h['epoch']}: train loss {h['train_loss']:.4f} acc {h['train_acc']:.3f} | val loss "
                  f"{h.get('val_loss', float('nan')):.4f} acc {h.get('val_acc', float('nan')):.3f} macro-F1 "
                  f"{h.get('val_macro_f1', float('nan')):.3f} | lr {h['lr']:.2e} | {h['time_s']:.1f}s",
                  file=sys.stderr)
    return write


def build_trainer(o: TrainOptions, run_dir: Path | None, callbacks: list, total_epochs: int, logger=False,
                  reload_every: int = 0):
    """A Lightning Trainer: CUDA + AMP when present, CPU otherwise; DDP with --devices N on either; `logger`:
    TensorBoard's (clf.curves.trainer_logger) or False.

    DDP on CPU (gloo processes) is the multi-GPU code path run where no GPU is, for checking it, not for speed.
    """
    import lightning.pytorch as pl

    from clf.checkpoint import AtomicCheckpointIO
    from common.device import pick_device, share_cpu_threads
    from common.progress import on_terminal

    dev = pick_device(o.device)
    precision = "32-true"
    if dev.type == "cuda":
        precision = "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    kw = dict(accelerator="gpu" if dev.type == "cuda" else "cpu", devices=o.devices,
              strategy="ddp" if o.devices > 1 else "auto")
    if dev.type == "cpu" and o.devices > 1:
        share_cpu_threads(o.devices)
    if dev.type == "cuda" and dev.index is not None and o.devices == 1:
        kw["devices"] = [dev.index]
    return pl.Trainer(max_epochs=total_epochs, precision=precision, gradient_clip_val=o.clip_grad,
                      callbacks=callbacks, logger=logger, enable_checkpointing=run_dir is not None,
                      enable_model_summary=False, num_sanity_val_steps=0,
                      # in a log file the per-epoch lines are the progress; a bar there is a wall of redraws
                      enable_progress_bar=o.progress and on_terminal(),
                      default_root_dir=str(run_dir) if run_dir else None,
                      plugins=[AtomicCheckpointIO()] if run_dir else None, log_every_n_steps=10,
                      reload_dataloaders_every_n_epochs=reload_every, **kw)


def fit(o: TrainOptions, model, frames, data_cfg: dict, run_dir: Path | None, meta: dict,
        ckpt_path: Path | None = None):
    """Train `model` on `frames` through its stages; returns (module, trainer). No files when run_dir is None."""
    import lightning.pytorch as pl
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

    from augment.datasets import ManifestDataset, class_weights
    from augment.presets import create_transform
    from clf.curves import trainer_logger
    from clf.checkpoint import BestFrom
    from clf.data import make_loader, minority_batches, phased_data, real_rows, synthetic_weights, train_counts
    from clf.freeze import parse_stages
    from clf.module import ClassifierModule, EpochAugmentSeed
    from common.device import default_workers, pick_device

    stages = parse_stages(o.stages, o.epochs, o.trainable, o.opt, o.lr)
    total = stages[-1].end
    lm = frames.label_map
    workers = default_workers() if o.workers is None else o.workers
    pin = pick_device(o.device).type == "cuda"
    mean, std = tuple(data_cfg["mean"]), tuple(data_cfg["std"])
    train_tf = create_transform(o.aug, data_cfg["size"], True, mean, std, o.upscale, seed=o.seed)
    eval_tf = create_transform("none", data_cfg["size"], False, mean, std, o.upscale)
    loader = dict(transform=train_tf, batch_size=o.batch_size, train=True, workers=workers,
                  balanced=o.balanced_sampler, drop_last=o.mixup > 0 or o.cutmix > 0, seed=o.seed, pin=pin,
                  replicas=max(1, o.devices))
    train_dl = make_loader(frames.train, lm, weights=synthetic_weights(frames.train, o.synth_weight), **loader)
    val_dl = make_loader(frames.val, lm, eval_tf, o.batch_size, False, workers, pin=pin)
    data = {"train_dataloaders": train_dl, "val_dataloaders": val_dl}
    real_from = total - o.real_last  # the first real-only epoch (total: none)
    if o.real_last > 0:
        real_dl = make_loader(real_rows(frames.train), lm, **loader)
        data = {"datamodule": phased_data(train_dl, real_dl, val_dl, real_from)}
    cw = None
    if o.class_weighted:
        cw = class_weights(ManifestDataset(frames.train, lm).targets, lm.num_classes)

    monitor = f"val_{o.select}"
    callbacks = []
    if run_dir is not None:
        # with --real-last, best.pt is chosen among the real-only epochs: the schedule is what the run reports
        ck = BestFrom(real_from if o.real_last else 0, dirpath=str(run_dir), filename="best",
                      monitor=monitor, mode="max", save_top_k=1, auto_insert_metric_name=False,
                      enable_version_counter=False)
        # Lightning's save_last writes last only when the best improved, so last.pt could hold an early epoch:
        # a second, unmonitored callback overwrites last.pt after every epoch.
        last = ModelCheckpoint(dirpath=str(run_dir), filename="last", monitor=None, save_top_k=1, every_n_epochs=1,
                               auto_insert_metric_name=False, enable_version_counter=False)
        for c in (ck, last):
            c.FILE_EXTENSION = ".pt"
            callbacks.append(c)
    callbacks.append(EpochAugmentSeed(train_tf, o.seed))
    if o.progress:
        from clf.pace import Pace

        callbacks.append(Pace())
    if o.patience > 0:
        callbacks.append(EarlyStopping(monitor=monitor, mode="max", patience=o.patience, min_delta=o.min_delta))
    minority = minority_batches(frames.train, lm, train_tf, o.batch_size, o.seed,
                                int(os.environ.get("LOCAL_RANK", "0"))) if o.cmo > 0 else None
    module = ClassifierModule(model, lm, o, stages, cw, meta,
                              on_epoch_end=_metrics_csv_writer(run_dir, not o.progress) if run_dir else None,
                              ddp=o.devices > 1, counts=train_counts(frames.train, lm), minority=minority)
    trainer = build_trainer(o, run_dir, callbacks, total, trainer_logger(run_dir, o.tensorboard, ckpt_path),
                            reload_every=1 if o.real_last > 0 else 0)
    pl.seed_everything(o.seed, workers=True, verbose=False)
    # Lightning writes its progress bar and notes to stdout; keep stdout for the one result line.
    with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*(LeafSpec|exists and is not empty|does not have many workers|"
                                                  r"in eval mode at the start|smaller than the logging interval)")
        # Under DDP the validation metrics come from all-gathered predictions (the same on every rank), so
        # Lightning's advice to sync them again does not apply; all_gather's deprecation is Lightning's own.
        warnings.filterwarnings("ignore", message=r".*(sync_dist=True|all_gather is deprecated)")
        trainer.fit(module, **data, ckpt_path=str(ckpt_path) if ckpt_path else None, weights_only=False)
    return module, trainer


def _evaluate(model, df, lm, data_cfg, o: TrainOptions) -> dict:
    from clf.metrics import compute_metrics
    from clf.predict import predict_probs
    from common.device import pick_device

    probs = predict_probs(model, df, data_cfg, pick_device(o.device), tta=o.tta, batch_size=o.batch_size)
    return compute_metrics([lm.index(x) for x in df["label"]], probs, lm)


def train(o: TrainOptions) -> Path | None:
    """Train a classifier; returns the run folder (config.json, labels.json, best.pt, last.pt, metrics, plots).

    Under DDP the other ranks return None.
    """
    from augment.labels import LabelMap
    from clf.options import OPTIONS_BEFORE, TRAIN_PATHS
    from common.atomic import remove_orphans
    from common.runs import check_same_options, discard_on_error, next_run_dir, options_dict, read_config

    if o.lite0_imagenet and not o.model:
        o = replace(o, model="tf_efficientnet_lite0")
    check_options(o)
    rank = int(os.environ.get("LOCAL_RANK", "0"))
    ckpt_path, saved_lm = None, None
    if o.resume:
        run_dir = Path(o.resume)
        cfg = read_config(run_dir, "train")
        if rank == 0:
            remove_orphans(run_dir)  # temp files of a checkpoint write the kill cut short
        ckpt_path = resume_checkpoint(run_dir)  # an unreadable checkpoint is refused whatever the options say
        check_same_options({**OPTIONS_BEFORE, **cfg["options"]}, options_dict(o), ignore=RESUME_IGNORE,
                           paths=TRAIN_PATHS)
        if "la_tau" not in cfg["options"] and o.class_weighted:  # la_tau came with the new normalisation
            raise UserError(f"--resume {run_dir}: a class-weighted run from before the weighted loss was normalised "
                            "as torch's hard-label rule; it would go on under another loss scale; start it again")
        saved_lm = LabelMap.load(run_dir)
    elif rank > 0 and os.environ.get("SYNTHMIX_RUN_DIR"):  # a DDP worker joins rank 0's run folder
        run_dir = Path(os.environ["SYNTHMIX_RUN_DIR"])
    else:
        run_dir = None  # named once the input size is known

    made_root = not Path(o.out).exists()
    if run_dir is None:
        run_dir = next_run_dir(o.out, run_desc(o, _default_size(o.model, o.size)))
        os.environ["SYNTHMIX_RUN_DIR"] = str(run_dir)
    # A new run that ends before its first checkpoint has nothing to resume or read: its folder goes, whether it was
    # refused (bad data, before config.json) or crashed in its first epoch.
    with discard_on_error(run_dir, made_root, active=not o.resume and rank == 0, keep=RESUMABLE):
        return _train_in(o, run_dir, rank, ckpt_path, saved_lm)


def _train_in(o: TrainOptions, run_dir: Path, rank: int, ckpt_path: Path | None, saved_lm) -> Path | None:
    """`train` once its run folder is known: data, model, config.json, fit, final figures and metrics.json."""
    from clf.checkpoint import load_trained
    from clf.data import class_counts, load_frames, train_counts
    from clf.models import create_classifier, data_config, set_head
    from clf.plots import plot_confusion, plot_curves, plot_per_class_f1
    from common.atomic import write_json
    from common.runs import options_dict, write_config
    from common.seeding import seed_everything

    # The model first: its input size and normalisation name the run and drive the data pipeline.
    frames_args = dict(spec=o.data, val_data=o.val_data, val_fraction=o.val_fraction, test_data=o.test_data,
                       synth=o.synth, ratio=o.ratio, balance=o.balance, seed=o.seed, progress=o.progress and rank == 0,
                       synth_filter=o.synth_filter, synth_scorer=o.synth_scorer)
    frames = load_frames(label_map=saved_lm, report_dir=run_dir if rank == 0 else None, **frames_args)
    lm = frames.label_map
    seed_everything(o.seed)  # the head (and a from-scratch model) start from seeded weights
    head = {"kind": "cosine", "scale": o.ldam_scale} if "ldam" in (o.loss, o.switch_loss) else {"kind": "linear"}
    model = set_head(create_classifier(o.model, lm.num_classes, o.pretrained, o.weights, o.lite0_imagenet), head)
    dcfg = {**data_config(model, o.model, o.size, o.lite0_imagenet), "upscale": o.upscale}
    counts = class_counts(frames)
    # head, class_counts and posthoc_la: what predict needs to rebuild the head and adjust the logits as the run did
    meta = {"format": 1, "arch": o.model, "num_classes": lm.num_classes, "class_names": list(lm.names),
            "label_map": lm.to_dict(), "data_config": dcfg, "options": options_dict(o), "head": head,
            "class_counts": train_counts(frames.train, lm), "posthoc_la": o.posthoc_la}
    if not o.resume and rank == 0:
        write_config(run_dir, "train", o, data_config=dcfg, class_counts=counts, kept_in_train=frames.kept_in_train)
        lm.save(run_dir / "labels.json")

    module, trainer = fit(o, model, frames, dcfg, run_dir, meta, ckpt_path)
    if not trainer.is_global_zero:
        return None  # DDP workers: rank 0 alone writes metrics.json and reports the result

    # Final figures from best.pt: validation again (for the confusion matrix), and the test set once.
    history = module.history
    best = load_trained(run_dir, "best")
    val = _evaluate(best.model, frames.val, lm, dcfg, o)
    best_epoch = int(best.meta.get("history", [{}])[-1].get("epoch", 0)) if best.meta.get("history") else 0
    res = {"best_epoch": best_epoch, "select": o.select, "epochs_run": len(history),
           "stopped_early": len(history) < module.stages[-1].end,
           **{f"val_{k}": val[k] for k in ("acc", "macro_f1", "micro_f1", "hier_acc")},
           "val_per_class_f1": val["per_class_f1"]}
    plot_confusion(val["confusion"], list(lm.names), run_dir / "confusion_val.png", "Validation (best.pt)")
    plot_per_class_f1(val["per_class_f1"], run_dir / "per_class_f1_val.png", "Validation F1 per class")
    if frames.test is not None:
        test = _evaluate(best.model, frames.test, lm, dcfg, o)
        res.update({f"test_{k}": test[k] for k in ("acc", "macro_f1", "micro_f1", "hier_acc")})
        res["test_per_class_f1"] = test["per_class_f1"]
        res["test_per_class_recall"] = test["per_class_recall"]
        res["test_confusion"] = test["confusion"]
        plot_confusion(test["confusion"], list(lm.names), run_dir / "confusion_test.png", "Test (best.pt)")
        plot_per_class_f1(test["per_class_f1"], run_dir / "per_class_f1_test.png", "Test F1 per class")
    times = [h["time_s"] for h in history]
    res.update({"epoch_time_s": round(sum(times) / max(len(times), 1), 2), "class_counts": counts,
                "run_dir": str(run_dir)})
    plot_curves(history, run_dir, o.select)
    write_json(run_dir / "metrics.json", res)
    from clf.curves import log_results

    log_results(trainer.logger, run_dir, res, step=best_epoch)
    return run_dir
