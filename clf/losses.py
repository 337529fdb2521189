"""Losses on soft targets (one-hot, label-smoothed or mixed) and the long-tail terms that shape them.

Cross-entropy and focal, with class weights; Balanced Softmax (Ren et al. 2020) and the logit-adjusted loss (Menon
et al. 2021) add tau * log(prior) to the logits; LDAM (Cao et al. 2019) subtracts a per-class margin from the true
class's logit; DRW's class weights are Cui et al.'s effective-number weights. The formulas follow the reference code
(naver-ai/cmo losses.py and cifar_train.py, after kaidic/LDAM-DRW); none of them is in timm or torch.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from clf.options import PRIOR_LOSSES  # losses that shift the logits by the class prior while training


def soft_targets(y: torch.Tensor, num_classes: int, smoothing: float) -> torch.Tensor:
    """Hard labels → label-smoothed one-hot rows (timm's convention: off-class mass spread evenly)."""
    off = smoothing / num_classes
    t = torch.full((y.shape[0], num_classes), off, device=y.device)
    return t.scatter_(1, y.view(-1, 1), 1.0 - smoothing + off)


def _at_least_one(counts) -> np.ndarray:
    """Class counts as floats, a class without training images counted as one (every term below stays finite)."""
    return np.maximum(np.asarray(counts, dtype=np.float64), 1.0)


def log_prior(counts, tau: float = 1.0) -> torch.Tensor:
    """tau * log(class frequency), shape (classes,)."""
    n = _at_least_one(counts)
    return torch.as_tensor(tau * np.log(n / n.sum()), dtype=torch.float32)


def ldam_margins(counts, max_margin: float = 0.5) -> torch.Tensor:
    """LDAM's margins: proportional to n^(-1/4), the rarest class's equal to `max_margin` (reference max_m=0.5)."""
    m = 1.0 / np.sqrt(np.sqrt(_at_least_one(counts)))
    return torch.as_tensor(m * (max_margin / m.max()), dtype=torch.float32)


def effective_number_weights(counts, beta: float = 0.9999) -> torch.Tensor:
    """Class-balanced weights (1 - beta) / (1 - beta^n), scaled to sum to the number of classes (Cui et al. 2019)."""
    n = _at_least_one(counts)
    w = (1.0 - beta) / (1.0 - np.power(beta, n))
    return torch.as_tensor(w / w.sum() * len(n), dtype=torch.float32)


def logit_shift(kind: str, targets: torch.Tensor, prior: torch.Tensor | None, margins: torch.Tensor | None
                ) -> torch.Tensor | float:
    """What the loss `kind` adds to the logits before the softmax: +tau*log(prior) (Balanced Softmax, logit-adjusted)
    or -scale*margin on the target class (LDAM; a soft target takes its share of the margin); 0 otherwise."""
    if kind in PRIOR_LOSSES:
        return prior.view(1, -1)
    if kind == "ldam":
        return -targets * margins.view(1, -1)
    return 0.0


def classification_loss(logits: torch.Tensor, targets: torch.Tensor, kind: str = "ce",
                        weight: torch.Tensor | None = None, gamma: float = 2.0,
                        sample_weight: torch.Tensor | None = None, shift: torch.Tensor | float = 0.0) -> torch.Tensor:
    """`ce`, `focal` or a shifted cross-entropy (`shift` from logit_shift) on soft targets; `weight` per class,
    `sample_weight` per image. A weighted loss is a weighted mean normalised by the weights the targets take, torch's
    rule for hard labels (nn.CrossEntropyLoss(weight=w), the reference implementations' loss). Focal is hand-written:
    timm and torchvision only ship the binary one."""
    logits = logits.float() + shift
    if kind != "focal":
        if weight is None and sample_weight is None:  # torch's own mean, bit for bit what runs before computed
            return F.cross_entropy(logits, targets)
        per = F.cross_entropy(logits, targets, weight=weight, reduction="none")
    else:
        logp = F.log_softmax(logits, dim=1)
        w = weight.view(1, -1) if weight is not None else 1.0
        per = -(targets * w * (1.0 - logp.exp()).pow(gamma) * logp).sum(1)
    norm = (targets * weight.view(1, -1)).sum(1) if weight is not None else torch.ones_like(per)
    if sample_weight is not None:
        sw = sample_weight.to(per)
        per, norm = per * sw, norm * sw
    return per.sum() / norm.sum().clamp_min(1e-12)


def cmo_box(height: int, width: int, lam: float, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """CutMix's box for a kept share `lam` (naver-ai/cmo rand_bbox): (y1, y2, x1, x2), centre uniform, clipped."""
    cut = np.sqrt(1.0 - lam)
    ch, cw = int(height * cut), int(width * cut)
    cy, cx = int(rng.integers(height)), int(rng.integers(width))
    return (int(np.clip(cy - ch // 2, 0, height)), int(np.clip(cy + ch // 2, 0, height)),
            int(np.clip(cx - cw // 2, 0, width)), int(np.clip(cx + cw // 2, 0, width)))


def cmo_paste(x: torch.Tensor, minority: torch.Tensor, rng: np.random.Generator, beta: float = 1.0
              ) -> tuple[torch.Tensor, float]:
    """CMO: a box of the minority-sampled batch pasted onto the batch; returns the images and the share of each image
    still its own (the weight of its own label; 1 - it goes to the pasted image's label), as the reference counts it."""
    lam = float(rng.beta(beta, beta))
    y1, y2, x1, x2 = cmo_box(x.shape[-2], x.shape[-1], lam, rng)
    x = x.clone()
    x[..., y1:y2, x1:x2] = minority[: len(x), :, y1:y2, x1:x2]
    return x, 1.0 - (y2 - y1) * (x2 - x1) / (x.shape[-2] * x.shape[-1])
