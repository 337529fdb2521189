"""GAN losses on D's logits: hinge (default, SNGAN/BigGAN) and non-saturating (Goodfellow et al.)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from common.errors import UserError


def d_loss(kind: str, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Discriminator loss."""
    if kind == "hinge":
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()
    if kind == "ns":
        return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    raise UserError(f"--loss {kind!r}: unknown; choose hinge or ns")


def g_loss(kind: str, fake_logits: torch.Tensor) -> torch.Tensor:
    """Generator loss."""
    if kind == "hinge":
        return -fake_logits.mean()
    if kind == "ns":
        return F.softplus(-fake_logits).mean()
    raise UserError(f"--loss {kind!r}: unknown; choose hinge or ns")


LOSSES = ("hinge", "ns")
