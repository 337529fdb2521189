"""What train-gan shows live in TensorBoard: the numbers of stats.jsonl and metric-<protocol>.jsonl as curves, and
the fixed-noise grid as an image, through Lightning Fabric's TensorBoardLogger (events in the run folder)."""
from __future__ import annotations

from pathlib import Path

import torch

from common.tensorboard_logger import tensorboard_logger

# of a stats.jsonl loss row (the class terms and D's class accuracy with --class-loss; peak memory on a GPU)
TRAIN_KEYS = ("loss_d", "loss_g", "d_real", "d_fake", "images_per_s", "step_time", "class_d", "class_g",
              "class_acc_real", "class_acc_fake", "peak_mem_mb")
SCORE_KEYS = ("fid", "kid", "kid_std", "precision", "recall", "f_score", "isc")    # of a gen.metrics result


class GanCurves:
    """train-gan's TensorBoard curves; every method does nothing when TensorBoard is off or not installed (rank 0
    alone makes one)."""

    def __init__(self, run_dir: Path, resumed_at: int | None = None, enabled: bool = True):
        # A resumed run logs again from the step after its checkpoint: what the interrupted run logged past it goes.
        self.logger = tensorboard_logger("fabric", run_dir, None if resumed_at is None else resumed_at + 1) \
            if enabled else None

    def train(self, row: dict) -> None:
        """A stats.jsonl loss row (means over the log interval): losses, D's outputs, images/s."""
        if self.logger is not None:
            self.logger.log_metrics({f"train/{k}": row[k] for k in TRAIN_KEYS if k in row}, step=row["step"])

    def snapshot(self, row: dict, grid: torch.Tensor, nrow: int) -> None:
        """A snapshot's stats.jsonl row (per-class diversity, judge agreement) and its fixed-noise grid."""
        if self.logger is None:
            return
        step = row["step"]
        metrics = {f"diversity/{c}": v for c, v in row["diversity"].items()}
        metrics.update({f"agreement/{c}": v for c, v in (row.get("agreement") or {}).items()})
        metrics.update({f"coverage/{c}": v for c, v in (row.get("coverage") or {}).items()})
        if "agreement_mean" in row:
            metrics["agreement/mean"] = row["agreement_mean"]
        self.logger.log_metrics(metrics, step=step)
        self.image("fakes", grid, nrow, step)

    def image(self, tag: str, images: torch.Tensor, nrow: int, step: int) -> None:
        """Images in [-1, 1] as one grid, laid out as the PNG beside it (fakes<step>.png, reals.png)."""
        if self.logger is None:
            return
        from torchvision.utils import make_grid

        grid = make_grid(images.detach().float().cpu(), nrow=nrow, normalize=True, value_range=(-1, 1), padding=1)
        self.logger.experiment.add_image(tag, grid, global_step=step)

    def score(self, step: int, result: dict) -> None:
        """A score's values under its protocol (score/kid1k_cls_lite0/kid): scores of other protocols never share a
        curve, as they never share a metric-<protocol>.jsonl."""
        if self.logger is None:
            return
        keys = (*SCORE_KEYS, result.get("headline_key"))  # per class: the headline is kid_cls_mean
        values = {f"score/{result['protocol']}/{k}": result[k] for k in keys
                  if isinstance(result.get(k), (int, float)) and not isinstance(result.get(k), bool)}
        if values:
            self.logger.log_metrics(values, step=step)

    def close(self) -> None:
        if self.logger is not None:
            self.logger.finalize("success")
