"""Classifier agreement: does a fake of class c look like class c to a classifier that never saw a fake?

A small CNN (the "judge") is trained from scratch on the run's real images once per run and saved as
`judge.pt`; agreement = share of class-c fakes it assigns to c. It is deliberately not built on pretrained
(Lite0) features: the projected discriminator already looks through Lite0, and a judge sharing its eyes would
be fooled the same way. Its accuracy on held-out reals is kept beside it: agreement near that number means the
fakes are as recognisable as real images. Hand-written because it is a 30-line CNN trained on tensors already
in memory; timm/Lightning would add start-up and file I/O for no gain.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from common.atomic import atomic_path
from gen.data import to_float

JUDGE_SIZE = 32      # the judge looks at 32 px (larger images are downsampled: class identity survives)
BATCH = 64
MIN_STEPS, MAX_STEPS, EPOCHS = 200, 600, 10
HOLDOUT = 0.1


class JudgeNet(nn.Module):
    """Four 3x3 conv blocks (16-32-64-128) with BN and pooling, global average, linear."""

    def __init__(self, num_classes: int):
        super().__init__()
        layers, c = [], 3
        for w in (16, 32, 64, 128):
            layers += [nn.Conv2d(c, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            layers += [nn.MaxPool2d(2)] if w != 128 else []
            c = w
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


def _prep(x: torch.Tensor, device) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> float [-1, 1] at JUDGE_SIZE px on `device`."""
    x = to_float(x.to(device))
    if x.shape[-1] != JUDGE_SIZE:
        x = F.interpolate(x, size=(JUDGE_SIZE, JUDGE_SIZE), mode="bilinear", antialias=True, align_corners=False)
    return x


def _shift(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Random translation by up to 2 px (reflect-padded crop): the one augmentation safe for any classes."""
    pad = F.pad(x, (2, 2, 2, 2), mode="reflect")
    i, j = (int(v) for v in torch.randint(0, 5, (2,), generator=g))
    return pad[..., i:i + x.shape[-2], j:j + x.shape[-1]]


def _holdout(targets: torch.Tensor, seed: int) -> torch.Tensor:
    """Boolean mask of held-out images: HOLDOUT of each class with at least 5 images (seeded)."""
    g = torch.Generator().manual_seed(seed)
    mask = torch.zeros(len(targets), dtype=torch.bool)
    for k in targets.unique():
        idx = torch.nonzero(targets == k).flatten()
        if len(idx) >= 5:
            take = max(1, round(HOLDOUT * len(idx)))
            mask[idx[torch.randperm(len(idx), generator=g)[:take]]] = True
    return mask


def train_judge(images: torch.Tensor, targets: torch.Tensor, num_classes: int, seed: int = 0, device="cpu",
                steps: int | None = None) -> tuple[JudgeNet, dict]:
    """Train the judge on uint8 images (N, 3, H, W); returns it (eval mode) and {real_acc, n_train, n_holdout, steps}.

    Deterministic for a seed, and it never touches the global RNG (the GAN's exact resume depends on it).
    """
    held = _holdout(targets, seed)
    x_tr, y_tr = images[~held], targets[~held]
    if steps is None:
        steps = min(MAX_STEPS, max(MIN_STEPS, EPOCHS * len(x_tr) // BATCH))
    g = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = JudgeNet(num_classes).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=max(1, steps))
    net.train()
    for _ in range(steps):
        idx = torch.randint(0, len(x_tr), (min(BATCH, len(x_tr)),), generator=g)
        x = _shift(_prep(x_tr[idx], device), g)
        loss = F.cross_entropy(net(x), y_tr[idx].to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    net.eval().requires_grad_(False)
    acc = None
    if held.any():
        acc = float((predict(net, images[held], device) == targets[held]).float().mean())
    return net, {"real_acc": acc, "n_train": int(len(x_tr)), "n_holdout": int(held.sum()), "steps": steps,
                 "seed": seed}


@torch.no_grad()
def predict(net: JudgeNet, images: torch.Tensor, device=None, batch: int = 256) -> torch.Tensor:
    """Class index per uint8 image (on the judge's own device unless one is given)."""
    device = device if device is not None else next(net.parameters()).device
    out = [net(_prep(images[i:i + batch], device)).argmax(1).cpu() for i in range(0, len(images), batch)]
    return torch.cat(out) if out else torch.empty(0, dtype=torch.long)


@torch.no_grad()
def embed(net: JudgeNet, images: torch.Tensor, device=None, batch: int = 256) -> torch.Tensor:
    """The judge's pooled features (N, 128) of uint8 images, on the CPU: the space gen.variety measures in."""
    device = device if device is not None else next(net.parameters()).device
    out = [net.features(_prep(images[i:i + batch], device)).mean(dim=(2, 3)).float().cpu()
           for i in range(0, len(images), batch)]
    return torch.cat(out) if out else torch.empty(0, net.head.in_features)


REAL_FEATURES_PER_CLASS = 256  # kept in judge.pt, so synth and fid measure coverage without the training data


def real_features(net: JudgeNet, images: torch.Tensor, targets: torch.Tensor, class_names: list[str],
                  device=None) -> dict[str, torch.Tensor]:
    """{class: judge features of its first REAL_FEATURES_PER_CLASS real images}."""
    return {c: embed(net, images[torch.nonzero(targets == k).flatten()[:REAL_FEATURES_PER_CLASS]], device)
            for k, c in enumerate(class_names)}


def agreement(net: JudgeNet, fakes_by_class: dict[int, torch.Tensor], device=None) -> dict[int, float]:
    """{class index: share of that class's uint8 fakes the judge assigns to it}."""
    return {k: float((predict(net, x, device) == k).float().mean()) for k, x in fakes_by_class.items() if len(x)}


def save_judge(path: str | Path, net: JudgeNet, info: dict, class_names: list[str],
               features: dict[str, torch.Tensor] | None = None) -> Path:
    """judge.pt: weights, class names, the real held-out accuracy and the reals' features per class (atomic)."""
    with atomic_path(path) as tmp:
        torch.save({"format": "synthmix-judge", "state": net.state_dict(), "class_names": list(class_names),
                    "info": info, "real_features": features or {}}, tmp)
    return Path(path)


def load_real_features(path: str | Path) -> dict[str, torch.Tensor] | None:
    """The reals' judge features kept in judge.pt; None without one, or in a judge.pt from before they were kept."""
    path = Path(path)
    if not path.is_file():
        return None
    return torch.load(path, map_location="cpu", weights_only=True).get("real_features") or None


def load_judge(path: str | Path, device="cpu") -> tuple[JudgeNet, dict, list[str]] | None:
    """(net, info, class_names) from judge.pt, or None when there is none (a run trained without one)."""
    path = Path(path)
    if not path.is_file():
        return None
    d = torch.load(path, map_location="cpu", weights_only=True)
    net = JudgeNet(len(d["class_names"]))
    net.load_state_dict(d["state"])
    return net.to(device).eval().requires_grad_(False), d["info"], list(d["class_names"])
