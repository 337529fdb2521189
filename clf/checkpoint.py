"""Self-describing classifier checkpoints: atomic writes, and loading a trained model from a run or a file."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO

from augment.labels import LabelMap
from common.atomic import atomic_path
from common.errors import UserError

FORMAT = 1


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint writer, but through a temp file and a rename (a killed run leaves no torn file)."""

    def save_checkpoint(self, checkpoint, path, storage_options=None):
        with atomic_path(path) as tmp:
            torch.save(checkpoint, tmp)


@dataclass
class TrainedModel:
    """A trained classifier ready for inference, with what it needs to read images."""

    model: torch.nn.Module
    label_map: LabelMap
    data_config: dict  # size, mean, std, arch
    meta: dict
    path: Path


def checkpoint_file(model_path: str | Path, which: str = "auto") -> Path:
    """A run folder → its best.pt/last.pt (common.runs' one rule); a file is taken as is."""
    from common.runs import run_checkpoint

    return run_checkpoint(model_path, which, "--model", "train")


def read_checkpoint(path: str | Path, fix: str = "pass a best.pt from a run") -> dict:
    """torch.load with the safe unpickler first (our checkpoints fit it), the full one for older files.

    A truncated or foreign file is one line naming it and `fix` (what to do instead).
    """
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # a checkpoint holding arbitrary Python objects; our own run folders are trusted
        try:
            return torch.load(path, map_location="cpu", weights_only=False)
        except Exception as e:  # corrupt file
            raise UserError(f"{path}: this checkpoint cannot be read ({type(e).__name__}: truncated, or not a "
                            f"checkpoint); {fix}") from None


def model_state(ckpt: dict) -> dict:
    """The timm model's own tensors (Lightning prefixes them with `model.`)."""
    sd = ckpt.get("state_dict", ckpt)
    return {k[len("model."):]: v for k, v in sd.items() if k.startswith("model.")} or dict(sd)


def load_trained(model_path: str | Path, which: str = "auto", device: str | torch.device = "cpu",
                 posthoc_la: float | None = None) -> TrainedModel:
    """Rebuild the timm model named in a checkpoint and load its weights (no network, no hub).

    `posthoc_la` tau: its logits become logits - tau * log(training prior); None: the run's own (--posthoc-la).
    """
    import timm

    import clf.archs  # noqa: F401  (a run may name one of our registered models)
    from clf.models import LogitAdjusted, set_head

    path = checkpoint_file(model_path, which)
    ckpt = read_checkpoint(path)
    meta = ckpt.get("synthmix") if isinstance(ckpt, dict) else None
    if not meta:
        raise UserError(f"{path}: not a SynthMix classifier checkpoint (no class names inside); "
                        "pass a run folder written by `train`")
    lm = LabelMap.from_dict(meta["label_map"])
    model = set_head(timm.create_model(meta["arch"], pretrained=False, num_classes=lm.num_classes), meta.get("head"))
    model.load_state_dict(model_state(ckpt))
    tau = float(meta.get("posthoc_la", 0.0) if posthoc_la is None else posthoc_la)
    if posthoc_la and not meta.get("posthoc_la"):
        from clf.options import prior_corrections

        done = prior_corrections(meta.get("options", {}))
        if done:
            raise UserError(f"--posthoc-la {posthoc_la}: {path} was trained with {', '.join(done)}, which already "
                            "corrects for the class prior; adjusting again counts it twice; leave --posthoc-la out")
    if tau > 0:
        if "class_counts" not in meta:
            raise UserError(f"--posthoc-la: {path} does not hold its training class counts (trained before they were "
                            "saved); retrain it, or leave --posthoc-la out")
        from clf.losses import log_prior

        model = LogitAdjusted(model, log_prior(meta["class_counts"], tau))
    model.eval().to(device)
    return TrainedModel(model, lm, dict(meta["data_config"]), meta, path)


class BestFrom(ModelCheckpoint):
    """Lightning's ModelCheckpoint that considers only epochs from `start` on (`--real-last`'s real-only epochs)."""

    def __init__(self, start: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.start = start

    def _should_skip_saving_checkpoint(self, trainer) -> bool:
        return trainer.current_epoch < self.start or super()._should_skip_saving_checkpoint(trainer)
