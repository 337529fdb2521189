"""Losses on soft targets (one-hot, label-smoothed or mixed): cross-entropy and focal, with class weights."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def soft_targets(y: torch.Tensor, num_classes: int, smoothing: float) -> torch.Tensor:
    """Hard labels → label-smoothed one-hot rows (timm's convention: off-class mass spread evenly)."""
    off = smoothing / num_classes
    t = torch.full((y.shape[0], num_classes), off, device=y.device)
    return t.scatter_(1, y.view(-1, 1), 1.0 - smoothing + off)


def classification_loss(logits: torch.Tensor, targets: torch.Tensor, kind: str = "ce",
                        weight: torch.Tensor | None = None, gamma: float = 2.0,
                        sample_weight: torch.Tensor | None = None) -> torch.Tensor:
    """`ce` or `focal` on soft targets; `weight` per class, `sample_weight` per image (a weighted mean over the
    batch, normalised by the weights' sum as torch's class weights are). Focal is hand-written: timm and
    torchvision only ship the binary one."""
    logits = logits.float()
    if kind == "ce":
        if sample_weight is None:  # torch's own mean, bit for bit what runs before sample weights computed
            return F.cross_entropy(logits, targets, weight=weight)
        per = F.cross_entropy(logits, targets, weight=weight, reduction="none")
    else:
        logp = F.log_softmax(logits, dim=1)
        w = weight.view(1, -1) if weight is not None else 1.0
        per = -(targets * w * (1.0 - logp.exp()).pow(gamma) * logp).sum(1)
    if sample_weight is None:
        return per.mean()
    sw = sample_weight.to(per)
    return (per * sw).sum() / sw.sum().clamp_min(1e-12)
