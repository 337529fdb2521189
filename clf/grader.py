"""The course-grader API: `train_classifier(train_gt, train_img_dir, fast_train)` and `classify(model_path, dir)`.

Trains in memory (no run folder, no checkpoint, no file at all) on Lite0 with offline ImageNet weights.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from common.errors import UserError

FAST = dict(size=96, epochs=2, trainable="head", aug="flip", lr=3e-3, batch_size=32, warmup_epochs=0)
FULL = dict(size=224, epochs=12, stages=("2:head:adamw:3e-3", "10:last:4:adamw:5e-4"), aug="basic",
            batch_size=32, warmup_epochs=0, label_smoothing=0.1)


class GraderModel(torch.nn.Module):
    """A timm classifier that carries its class names and data config inside its own state_dict.

    `torch.save(model.state_dict(), path)` (or `torch.save(model, path)`) is enough for `classify` to rebuild it.
    """

    def __init__(self, net: torch.nn.Module, class_names: list[str], data_config: dict):
        super().__init__()
        self.net = net
        self.class_names = list(class_names)
        self.data_config = dict(data_config)

    def forward(self, x):
        return self.net(x)

    def get_extra_state(self):
        return {"class_names": self.class_names, "data_config": self.data_config}

    def set_extra_state(self, state):
        self.class_names, self.data_config = list(state["class_names"]), dict(state["data_config"])


def _frame(files: list[str], labels: list, root: Path) -> pd.DataFrame:
    return pd.DataFrame({"path": [str((root / f).resolve()) for f in files], "label": [str(v) for v in labels],
                         "category": [None] * len(files), "source": ["real"] * len(files)})


def train_classifier(train_gt: dict, train_img_dir: str, fast_train: bool = True) -> GraderModel:
    """Fine-tune Lite0 (ImageNet, offline) on {file name: class index}; returns the model, writes nothing."""
    from augment.labels import LabelMap
    from augment.spec import DataSpec
    from clf.data import Frames, check_learnable
    from clf.models import create_classifier, data_config
    from clf.options import TrainOptions
    from clf.train import fit

    if not train_gt:
        raise UserError("train_gt is empty; pass {file name: class index}")
    root = Path(train_img_dir)
    df = _frame(list(train_gt), list(train_gt.values()), root)
    lm = LabelMap.from_labels(df["label"])
    check_learnable(lm, "train_gt")
    # Validation only reports progress here; a small seeded sample of the training images is enough.
    val = df.sample(n=min(len(df), 64), random_state=0).reset_index(drop=True)
    o = TrainOptions(data=DataSpec(str(root)), model="tf_efficientnet_lite0", lite0_imagenet=True, workers=0,
                     progress=False, select="acc", weight_decay=1e-4, **(FAST if fast_train else FULL))
    net = create_classifier(o.model, lm.num_classes, lite0_imagenet=True)
    dcfg = {**data_config(net, o.model, o.size, True), "upscale": o.upscale}
    fit(o, net, Frames(df, val, None, lm, []), dcfg, None, {})
    return GraderModel(net.eval(), list(lm.names), dcfg)


def _load_any(model_path) -> GraderModel:
    """A GraderModel, its saved state_dict or pickled self, or a `train` run folder / checkpoint."""
    import timm

    if isinstance(model_path, GraderModel):
        return model_path
    p = Path(model_path)
    if p.is_dir() or (p.is_file() and p.suffix == ".pt" and _is_run_checkpoint(p)):
        from clf.checkpoint import load_trained

        tm = load_trained(p)
        lm = tm.label_map  # a run trained from a CSV of ids answers in those ids, like train_classifier's models
        return GraderModel(tm.model, list(lm.ids or lm.names), tm.data_config)
    if not p.is_file():
        raise UserError(f"{model_path}: model file not found; save the model returned by train_classifier")
    obj = torch.load(p, map_location="cpu", weights_only=False)  # the student's own model file
    if isinstance(obj, GraderModel):
        return obj
    if isinstance(obj, dict) and "_extra_state" in obj:
        extra = obj["_extra_state"]
        import clf.archs  # noqa: F401  (a run may name one of our registered models)

        net = timm.create_model(extra["data_config"]["arch"], pretrained=False,
                                num_classes=len(extra["class_names"]))
        m = GraderModel(net, extra["class_names"], extra["data_config"])
        m.load_state_dict(obj)
        return m
    raise UserError(f"{model_path}: not a model saved from train_classifier (torch.save(model.state_dict(), path))")


def _is_run_checkpoint(p: Path) -> bool:
    from clf.checkpoint import read_checkpoint

    ck = read_checkpoint(p)
    return isinstance(ck, dict) and "synthmix" in ck


def classify(model_path, test_img_dir: str) -> dict[str, int]:
    """{file name: class index} for every image in a folder (index = the integer class ids given in training)."""
    from clf.predict import image_frame, predict_probs
    from common.device import pick_device

    m = _load_any(model_path)
    df, keys, _ = image_frame(test_img_dir)
    probs = predict_probs(m.net, df, m.data_config, pick_device("auto"))
    names = m.class_names
    as_int = all(n.lstrip("-").isdigit() for n in names)
    return {k: (int(names[i]) if as_int else int(i)) for k, i in zip(keys, probs.argmax(1))}


def save_model(model: GraderModel, path: str) -> None:
    """Save for `classify` (atomic); the same as torch.save(model.state_dict(), path)."""
    from common.atomic import atomic_path

    with atomic_path(path) as tmp:
        torch.save(model.state_dict(), tmp)
