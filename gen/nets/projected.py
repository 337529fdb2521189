"""A class-conditional discriminator on frozen pretrained features (Projected GAN, Sauer et al. 2021), laid out as
autonomousvision/projected-gan (pg_modules/projector.py, discriminator.py, blocks.py).

Images go (after DiffAugment, in the GAN pair) to `input_size` px (the reference: 224) and through the packaged
ImageNet EfficientNet-Lite0 (common.lite0), frozen, in eval mode, tapped as the reference taps it (strides 4, 8, 16,
32). Fixed random projections follow, never trained (the reference freezes its whole feature network):
cross-channel mixing (1x1 convs expanding to 64, 128, 256, 512 channels) and cross-scale mixing (from the deepest
map up: add, upsample x2, 1x1 conv; maps at strides 2, 4, 8, 16 with 64, 64, 128, 256 channels). One trainable
discriminator per scale (SingleDiscCond): spectral-norm 4x4/2 down blocks with batch norm to 8 px, a 4x4 conv to the
class map, and projected-gan's conditioning: embedding (128), linear + LeakyReLU to 64, projection / sqrt(64).
Unlike the reference (which fixes the block count to 256 px inputs), each scale goes down from its real size, so
small inputs keep a trainable layer on every map.

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

STAGES = (1, 2, 4, 6)      # Lite0 blocks whose outputs are tapped: 24, 40, 112, 320 channels at strides 4..32
CCM_CH = 64                # cross-channel mixing width (expanded x1, x2, x4, x8 by scale), projected-gan's cout
CMAP_DIM, EMBED_DIM = 64, 128
PROJ_SEED = 1234
INPUT_SIZES = (64, 96, 128, 224)
END_SZ = 8                 # each scale's down blocks stop at 8 px, then a 4x4 conv (projected-gan's end_sz)


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


def _fixed_conv(cin: int, cout: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A random 1x1 conv, initialised as nn.Conv2d's default (uniform within 1/sqrt(fan_in)), for a fixed projection."""
    bound = 1 / math.sqrt(cin)
    return (torch.empty(cout, cin, 1, 1).uniform_(-bound, bound, generator=g),
            torch.empty(cout).uniform_(-bound, bound, generator=g))


class _ScaleD(nn.Module):
    """projected-gan's SingleDiscCond (SingleDisc without classes) on one mixed feature map of `res` px."""

    def __init__(self, ch: int, res: int, num_classes: int, width: int):
        super().__init__()
        blocks, c = [], ch
        while res > END_SZ:
            blocks += [spectral_norm(nn.Conv2d(c, width, 4, 2, 1)), nn.BatchNorm2d(width),
                       nn.LeakyReLU(0.2, inplace=True)]
            c, res = width, (res + 1) // 2
        self.main = nn.Sequential(*blocks)
        self.num_classes = num_classes
        k = min(4, res)
        self.cls = spectral_norm(nn.Conv2d(c, CMAP_DIM if num_classes else 1, k, 1, 0, bias=False))
        if num_classes:
            self.embed = nn.Embedding(num_classes, EMBED_DIM)
            self.embed_proj = nn.Sequential(nn.Linear(EMBED_DIM, CMAP_DIM), nn.LeakyReLU(0.2, inplace=True))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        out = self.cls(self.main(x))
        if self.num_classes:
            cmap = self.embed_proj(self.embed(y))[:, :, None, None]
            out = (out * cmap).sum(dim=1, keepdim=True) / math.sqrt(CMAP_DIM)
        return out.flatten(1)


class ProjectedDiscriminator(nn.Module):
    """image (B, 3, size, size) in [-1, 1] [+ y] -> logits (B, L): every location of every scale is a logit."""

    def __init__(self, size: int = 32, ndf: int = 64, num_classes: int = 0, class_head: str = "none",
                 input_size: int = 64):
        super().__init__()
        if input_size not in INPUT_SIZES:
            raise ValueError(f"projected D input size {input_size}: choose one of {INPUT_SIZES}")
        self.size, self.ndf, self.num_classes, self.input_size = size, ndf, num_classes, input_size
        self._feat = [_lite0_features()]  # a list: not a submodule (not saved, not trained, moved lazily)
        g = torch.Generator().manual_seed(PROJ_SEED)
        chans = self._channels()
        ccm = [CCM_CH * 2 ** i for i in range(4)]
        for i, (c, o) in enumerate(zip(chans, ccm)):
            w, b = _fixed_conv(c, o, g)
            self.register_buffer(f"ccm{i}_w", w)
            self.register_buffer(f"ccm{i}_b", b)
        csm = [ccm[0], ccm[0], ccm[1], ccm[2]]  # fusion halves the channels, but for the top map
        for i in range(4):
            w, b = _fixed_conv(ccm[i], csm[i], g)
            self.register_buffer(f"csm{i}_w", w)
            self.register_buffer(f"csm{i}_b", b)
        res = [2 * math.ceil(input_size / s) for s in (4, 8, 16, 32)]  # cross-scale mixing doubles each map
        self.discs = nn.ModuleList(_ScaleD(c, r, num_classes, ndf) for c, r in zip(csm, res))
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

    def _mix(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        """Cross-channel then cross-scale mixing (projected-gan's F_RandomProj, proj_type 2), all fixed."""
        def conv(x, name):
            return F.conv2d(x, getattr(self, f"{name}_w").to(x.dtype), getattr(self, f"{name}_b").to(x.dtype))

        def up(x):
            return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)

        ccm = [conv(f, f"ccm{i}") for i, f in enumerate(feats)]
        out = [None] * 4
        out[3] = conv(up(ccm[3]), "csm3")
        for i in (2, 1, 0):  # from the bottom up: the deeper mixed map joins this scale's
            deeper = out[i + 1]
            if deeper.shape[-2:] != ccm[i].shape[-2:]:  # odd sizes (input 96, 224): match before adding
                deeper = F.interpolate(deeper, size=ccm[i].shape[-2:], mode="bilinear", align_corners=True)
            out[i] = conv(up(deeper + ccm[i]), f"csm{i}")
        return out

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, aux: bool = False):
        """Logits (B, L); with `aux`, also the class head's outputs on the pooled deepest features."""
        if self.num_classes and y is None:
            raise ValueError("a conditional discriminator needs class indices y")
        feats = self._features(x)
        out = torch.cat([d(m, y) for m, d in zip(self._mix(feats), self.discs)], dim=1)
        return (out, self.class_head(feats[-1].mean(dim=(2, 3)), y)) if aux else out
