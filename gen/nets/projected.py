"""A class-conditional discriminator on frozen pretrained features (Projected GAN, Sauer et al. 2021).

Images go (after DiffAugment, in the GAN pair) through the packaged ImageNet EfficientNet-Lite0 (common.lite0;
the paper uses Lite1), frozen, in eval mode. Four of its stages (strides 4, 8, 16, 32) are mapped by fixed
random 1x1 convolutions ("cross-channel mixing"; the paper's cross-scale mixing is left out) to PROJ_CH channels,
and one small trainable discriminator per scale turns each map into a grid of logits. The class enters through
a projection head per scale, as projected-gan's SingleDiscCond: logit = <features, embed(y)> / sqrt(dim).

The feature network is kept out of the module tree (and so out of checkpoints and optimisers): it is rebuilt
from the package's weights, and its parameters never train. Lite0 is the fast FID extractor too, so a run with
this discriminator must be judged by Inception FID, diversity and classifier agreement, never by Lite0 FID.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

STAGES = (1, 2, 4, 6)   # Lite0 blocks whose outputs are used: 24, 40, 112, 320 channels at strides 4..32
PROJ_CH = 64            # channels after the fixed random 1x1 projection
CMAP_DIM = 64           # class-projection width
PROJ_SEED = 1234


def refuse_lite0_scoring(d_arch: str | None, extractor: str, what: str) -> None:
    """A projected-D GAN is never judged by Lite0 features: its discriminator already looks through them."""
    if d_arch == "projected" and extractor == "effnet-lite0":
        from common.errors import UserError

        raise UserError(f"{what}: trained with --d-arch projected (Lite0 features), so Lite0 FID would reward fooling "
                        "its own eyes; score it with Inception (--extractor / --score-extractor inception)")


def _lite0_features() -> nn.Module:
    """The frozen ImageNet Lite0 (offline weights from the package; timm hub when those are missing)."""
    from common.lite0 import load_lite0_imagenet

    try:
        net = load_lite0_imagenet()
    except Exception:  # no package: fall back to timm's own download (online users)
        import timm

        net = timm.create_model("tf_efficientnet_lite0", pretrained=True)
    return net.eval().requires_grad_(False)


class _ScaleD(nn.Module):
    """Down-sampling convs (SN conv 4x4/2, BN, LeakyReLU 0.2) to 4x4, then per-location class projection."""

    def __init__(self, ch: int, res: int, num_classes: int, width: int):
        super().__init__()
        blocks, c = [], ch
        while res > 4:
            blocks += [spectral_norm(nn.Conv2d(c, width, 4, 2, 1, bias=False)), nn.BatchNorm2d(width),
                       nn.LeakyReLU(0.2, inplace=True)]
            c, res = width, res // 2
        self.blocks = nn.Sequential(*blocks)
        k = 4 if res == 4 else 1
        self.num_classes = num_classes
        out = CMAP_DIM if num_classes else 1
        self.head = spectral_norm(nn.Conv2d(c, out, k, 1, 0))
        if num_classes:
            self.embed = nn.Embedding(num_classes, CMAP_DIM)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        h = self.head(self.blocks(x))
        if self.num_classes:
            h = (h * self.embed(y)[:, :, None, None]).sum(1, keepdim=True) / math.sqrt(CMAP_DIM)
        return h.flatten(1)


class ProjectedDiscriminator(nn.Module):
    """image (B, 3, size, size) in [-1, 1] [+ y] -> logits (B, L): every location of every scale is a logit."""

    def __init__(self, size: int = 32, ndf: int = 64, num_classes: int = 0, class_head: str = "none"):
        super().__init__()
        self.size, self.ndf, self.num_classes = size, ndf, num_classes
        self.input_size = max(64, size)  # Lite0 needs room: 32 px inputs are upsampled to 64 (maps 16..2)
        self._feat = [_lite0_features()]  # a list: not a submodule (not saved, not trained, moved lazily)
        g = torch.Generator().manual_seed(PROJ_SEED)
        chans = self._channels()
        for i, c in enumerate(chans):
            w = torch.empty(PROJ_CH, c, 1, 1)
            bound = 1 / math.sqrt(c)
            self.register_buffer(f"proj{i}", w.uniform_(-bound, bound, generator=g) * math.sqrt(3))
        res = [self.input_size // s for s in (4, 8, 16, 32)]
        self.discs = nn.ModuleList(_ScaleD(PROJ_CH, r, num_classes, max(ndf, 32)) for r in res)
        if class_head != "none":  # on the frozen network's deepest features, pooled: computed anyway
            from gen.nets.heads import ClassHead

            self.class_head = ClassHead(chans[-1], num_classes, class_head)

    def _channels(self) -> list[int]:
        net = self._feat[0]
        return [net.blocks[i][-1].conv_pwl.out_channels for i in STAGES]

    def _features(self, x: torch.Tensor) -> list[torch.Tensor]:
        net = self._feat[0]
        p = next(net.parameters())
        if p.device != x.device:
            net.to(x.device)
        x = F.interpolate(x, size=(self.input_size,) * 2, mode="bilinear", align_corners=False)
        h = net.bn1(net.conv_stem(x))  # Lite0's mean = std = 0.5: [-1, 1] is already its normalised range
        feats = []
        for i, block in enumerate(net.blocks):
            h = block(h)
            if i in STAGES:
                feats.append(h)
            if i >= STAGES[-1]:
                break
        return feats

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, aux: bool = False):
        """Logits (B, L); with `aux`, also the class head's outputs on the pooled deepest features."""
        if self.num_classes and y is None:
            raise ValueError("a conditional discriminator needs class indices y")
        feats = self._features(x)
        outs = [d(F.conv2d(f, getattr(self, f"proj{i}").to(f.dtype)), y)
                for i, (f, d) in enumerate(zip(feats, self.discs))]
        out = torch.cat(outs, dim=1)
        return (out, self.class_head(feats[-1].mean(dim=(2, 3)), y)) if aux else out
