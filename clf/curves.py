"""What `train` shows in TensorBoard, through Lightning's TensorBoardLogger (events in the run folder): the per-epoch
curves behind metrics.csv while it trains, then the test scores and the run's figures (curves, confusion matrices,
per-class F1) once it ends. The x axis is the epoch, as in metrics.csv."""
from __future__ import annotations

from pathlib import Path

from common.tensorboard_logger import tensorboard_logger

CURVES = ("train_loss", "train_acc", "val_loss", "val_acc", "val_macro_f1", "val_micro_f1", "val_hier_acc", "lr",
          "time_s")  # metrics.csv's numeric columns
FIGURES = ("loss", "metrics", "lr", "confusion_val", "per_class_f1_val", "confusion_test", "per_class_f1_test")


def trainer_logger(run_dir: Path | None, enabled: bool, resume_ckpt: Path | None = None):
    """The Trainer's logger: TensorBoard in `run_dir`, or False (no run folder, off, or not installed).

    A resumed run logs again from the epoch after its checkpoint's: what the interrupted run logged from there on
    is hidden, so no epoch appears twice.
    """
    if run_dir is None or not enabled:
        return False
    resume_step = None
    if resume_ckpt is not None:
        from clf.checkpoint import read_checkpoint

        resume_step = int(read_checkpoint(resume_ckpt)["epoch"]) + 1
    return tensorboard_logger("trainer", run_dir, resume_step) or False


def epoch_curves(row: dict) -> dict[str, float]:
    """A metrics.csv row as TensorBoard tags: train_loss -> train/loss, val_macro_f1 -> val/macro_f1, lr, time_s."""
    out = {}
    for k in CURVES:
        if isinstance(row.get(k), (int, float)):
            out[k.replace("_", "/", 1) if k.startswith(("train_", "val_")) else k] = float(row[k])
    return out


def log_results(logger, run_dir: Path, res: dict, step: int) -> None:
    """At the end: the test scores of best.pt (test/acc, ...) and the run's PNG figures, as images, at `step`."""
    if not logger:
        return
    import numpy as np
    from PIL import Image

    scores = {f"test/{k}": float(res[f"test_{k}"]) for k in ("acc", "macro_f1", "micro_f1", "hier_acc")
              if isinstance(res.get(f"test_{k}"), (int, float))}
    if scores:
        logger.log_metrics(scores, step=step)
    for name in FIGURES:
        png = Path(run_dir) / f"{name}.png"
        if png.is_file():
            with Image.open(png) as im:
                logger.experiment.add_image(f"figures/{name}", np.asarray(im.convert("RGB")), global_step=step,
                                            dataformats="HWC")
    logger.finalize("success")
