"""D's class heads (issue 19): a class-versus-class signal on the discriminator's pooled features.

PyTorch-StudioGAN's layouts (src/models/deep_conv.py, d_cond_mtd "AC" and "D2DCE", spectral norm on as there):
"ac" is a linear classifier (no bias); "d2dce" a linear embedding (bias) and a class-proxy table, both
L2-normalised (normalize_d_embed). The losses are gen.losses.class_loss.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

D2D_EMBED = 512  # StudioGAN's d_embed_dim for CIFAR-10 ReACGAN


class ClassHead(nn.Module):
    """pooled features (B, C) [+ y] -> {"logits": (B, K)} ("ac") or {"embed", "proxy", "proxies"} ("d2dce")."""

    def __init__(self, in_dim: int, num_classes: int, kind: str):
        super().__init__()
        if kind not in ("ac", "d2dce") or num_classes < 2:
            raise ValueError(f"class head {kind!r} needs a conditional discriminator of 2+ classes")
        self.kind = kind
        if kind == "ac":
            self.linear = spectral_norm(nn.Linear(in_dim, num_classes, bias=False))
        else:
            self.linear = spectral_norm(nn.Linear(in_dim, D2D_EMBED))
            self.proxy = spectral_norm(nn.Embedding(num_classes, D2D_EMBED))

    def forward(self, h: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.kind == "ac":
            return {"logits": self.linear(h)}
        return {"embed": F.normalize(self.linear(h), dim=1), "proxy": F.normalize(self.proxy(y), dim=1),
                "proxies": self.proxy.weight}


def has_batchnorm(module: nn.Module) -> bool:
    """Batch norm makes a D's output depend on its batch: real and fake then need separate calls."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())
