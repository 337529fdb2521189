"""TensorBoard event files in a run folder, through Lightning's own loggers.

The events sit in the run folder itself (as stylegan2-ada writes them beside stats.jsonl), so
`tensorboard --logdir runs` names each curve by its run folder and shows every run, or every cell of an ablation,
side by side. Without the tensorboard package a run trains as always and says once how to get its curves.
"""
from __future__ import annotations

import sys
from pathlib import Path

HINT = ("tensorboard is not installed, so this run writes no TensorBoard curves (its stats.jsonl / metrics.csv as "
        "always); `pip install -r requirements.txt` installs the pinned version, --no-tensorboard skips this note")
_said = False


def tensorboard_logger(kind: str, run_dir: str | Path, resume_step: int | None = None):
    """Lightning's TensorBoardLogger writing into `run_dir`, or None when tensorboard is not installed.

    Args:
        kind: "fabric" (lightning.fabric's, for train-gan's own loop) or "trainer" (lightning.pytorch's, for a
            Trainer's `logger=`).
        resume_step: for a resumed run, the first step it logs again: TensorBoard then hides whatever the interrupted
            run logged from that step on (`purge_step`), so a continued curve holds no step twice.
    """
    try:
        import tensorboard  # noqa: F401  (both loggers write through torch.utils.tensorboard, which needs it)
    except ImportError:
        say_missing()
        return None
    kw = {"purge_step": resume_step} if resume_step else {}
    # name="" and version="": the events go to run_dir itself, not to run_dir/lightning_logs/version_0
    if kind == "fabric":
        from lightning.fabric.loggers import TensorBoardLogger

        return TensorBoardLogger(root_dir=str(run_dir), name="", version="", default_hp_metric=False, **kw)
    if kind == "trainer":
        from lightning.pytorch.loggers import TensorBoardLogger
        from lightning.pytorch.utilities import rank_zero_only

        class RunFolderLogger(TensorBoardLogger):
            @rank_zero_only
            def save(self) -> None:
                self.experiment.flush()  # no hparams.yaml of {}: every option is in the run's config.json

        return RunFolderLogger(save_dir=str(run_dir), name="", version="", default_hp_metric=False, **kw)
    raise ValueError(f"tensorboard_logger kind {kind!r}: fabric or trainer")


def say_missing() -> None:
    """The install hint, once per process (an ablation's jobs each say it once in their own log)."""
    global _said
    if not _said:
        _said = True
        print(f"note: {HINT}", file=sys.stderr, flush=True)
