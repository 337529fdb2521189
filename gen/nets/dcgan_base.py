"""The DCGAN family, parametrised by resolution (32, 64, 128 px) rather than one file per size.

mimicry keeps `dcgan_32.py`, `dcgan_64.py`, ...; here the three sizes differ only in how many 2x up/down
blocks sit between 4x4 and the output, so one class with `size` keeps them from drifting apart.

Generator: z -> linear -> 4x4 -> (ConvTranspose 4x4/2 + BN + ReLU) x log2(size/4) -> conv 3x3 -> tanh.
Conditional generators replace BN by class-conditional BN; how the class reaches those BN layers is `cond`:

- "shared" (default): BigGAN's shared class embedding with hierarchical z. z is split into one chunk per
  layer; each conditional BN takes its gain and bias from a linear map of [its z chunk, embed(y)], so both the
  class and the noise reach every resolution.
- "cbn": per-class gain and bias looked up in a table (the projection-discriminator paper's generator).

SynthMix before format 2 also concatenated a class embedding as wide as z beside z: G learned to read the class
from it and ignore z (within-class variance 0.72 -> 0.012 of the output's in 500 steps), so every class came out
as one image. That design is gone; its checkpoints are refused (gen.checkpoint).

Discriminator ("dcgan"): a 3x3 input conv, then DCGAN's 4x4/2 convs, all spectral-norm with LeakyReLU 0.1;
global sum pooling, a linear output and, when conditional, the projection term <embed(y), h> (Miyato & Koyama
2018). SNGAN's extra 3x3 convs per block are left out: they cost 2.5x the CPU time per step. The other
discriminator, on frozen pretrained features, is in gen.nets.projected.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

RESOLUTIONS = (32, 64, 128)
MAX_MULT = 8  # widest layer = 8 x base width (DCGAN's 512 at width 64)


def _check_size(size: int) -> int:
    if size not in RESOLUTIONS:
        from common.errors import UserError

        raise UserError(f"--size {size}: not supported; choose one of {', '.join(map(str, RESOLUTIONS))}")
    return int(math.log2(size // 4))


def _widths(size: int, base: int) -> list[int]:
    """Channels at 4x4, 8x8, ..., size x size: base x min(8, size/res)."""
    n = _check_size(size)
    return [base * min(MAX_MULT, size // (4 * 2**i)) for i in range(n + 1)]


class CondBatchNorm2d(nn.Module):
    """BatchNorm whose gain and bias depend on a condition; plain affine BN when unconditional.

    `cond_dim == 0`: gain and bias looked up per class index (`num_classes` rows). `cond_dim > 0`: they are a
    linear map of a condition vector (BigGAN: [z chunk, shared class embedding]), gain = 1 + W_g c.
    """

    def __init__(self, channels: int, num_classes: int, cond_dim: int = 0):
        super().__init__()
        self.num_classes, self.cond_dim = num_classes, cond_dim
        self.bn = nn.BatchNorm2d(channels, affine=not (num_classes or cond_dim))
        if cond_dim:
            self.gain = nn.Linear(cond_dim, channels, bias=False)
            self.bias = nn.Linear(cond_dim, channels, bias=False)
        elif num_classes:
            self.gain = nn.Embedding(num_classes, channels)
            self.bias = nn.Embedding(num_classes, channels)
            nn.init.ones_(self.gain.weight)
            nn.init.zeros_(self.bias.weight)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        x = self.bn(x)
        if self.cond_dim:
            return x * (1 + self.gain(c))[:, :, None, None] + self.bias(c)[:, :, None, None]
        if self.num_classes:
            x = x * self.gain(c)[:, :, None, None] + self.bias(c)[:, :, None, None]
        return x


CONDS = ("shared", "cbn")
SHARED_DIM = 128  # BigGAN's shared class-embedding width


class DCGANGenerator(nn.Module):
    """z (B, nz) [+ class index y (B,)] -> image (B, 3, size, size) in [-1, 1]."""

    def __init__(self, size: int = 32, nz: int = 128, ngf: int = 64, num_classes: int = 0, cond: str = "shared",
                 transitional: bool = False):
        super().__init__()
        if cond not in CONDS:
            raise ValueError(f"cond {cond!r}: choose one of {CONDS}")
        if transitional and not (num_classes and cond == "shared"):
            raise ValueError("transitional conditioning scales the shared class embedding: conditional, cond shared")
        self.size, self.nz, self.ngf, self.num_classes, self.cond = size, nz, ngf, num_classes, cond
        w = _widths(size, ngf)
        self.hier = bool(num_classes) and cond == "shared"
        if self.hier:
            # Hierarchical z: chunk 0 feeds the 4x4 map, chunk i the i-th conditional BN.
            n = len(w)
            self.chunks = [nz // (n + 1) + (1 if i < nz % (n + 1) else 0) for i in range(n + 1)]
            self.shared = nn.Embedding(num_classes, SHARED_DIM)
            if transitional:
                # transitional-cGAN's weight on G's class input (its mapping network's `transition` buffer): 0 makes
                # G unconditional; the loop ramps it to 1 (GanPair.set_transition). Saved, so samples use the
                # weight the checkpoint was trained at.
                self.register_buffer("transition", torch.ones(()))
            norms = [CondBatchNorm2d(c, num_classes, self.chunks[i + 1] + SHARED_DIM) for i, c in enumerate(w)]
            fc_in = self.chunks[0]
        else:
            norms = [CondBatchNorm2d(c, num_classes) for c in w]
            fc_in = nz
        self.fc = nn.Linear(fc_in, 4 * 4 * w[0])
        self.bn0 = norms[0]
        self.ups = nn.ModuleList(nn.ConvTranspose2d(a, b, 4, 2, 1) for a, b in zip(w[:-1], w[1:]))
        self.bns = nn.ModuleList(norms[1:])
        self.out = nn.Conv2d(w[-1], 3, 3, 1, 1)
        self.act = nn.ReLU(inplace=True)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes and y is None:
            raise ValueError("a conditional generator needs class indices y")
        if self.hier:
            zs = torch.split(z, self.chunks, dim=1)
            e = self.shared(y)
            if hasattr(self, "transition"):
                e = e * self.transition
            conds = [torch.cat([zi, e], dim=1) for zi in zs[1:]]
            h = self.fc(zs[0])
        else:
            conds = [y] * (1 + len(self.bns))
            h = self.fc(z)
        h = self.act(self.bn0(h.view(z.shape[0], -1, 4, 4), conds[0]))
        for up, bn, c in zip(self.ups, self.bns, conds[1:]):
            h = self.act(bn(up(h), c))
        return torch.tanh(self.out(h))

    def class_gains(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Each conditional BN's class-specific gain and bias vectors, (classes, channels) each, with gradients
        (gSR's matrices): shared, W [0; embed(c)] (the z chunk's columns left out, as gSRGAN pads z with zeros);
        cbn, the table rows."""
        out = []
        for bn in (self.bn0, *self.bns):
            if self.hier:
                e = self.shared.weight
                out.append((e @ bn.gain.weight[:, -e.shape[1]:].T, e @ bn.bias.weight[:, -e.shape[1]:].T))
            else:
                out.append((bn.gain.weight, bn.bias.weight))
        return out

    @torch.no_grad()
    def generate_images(self, num_images: int, c: int | torch.Tensor | None = None,
                        generator: torch.Generator | None = None) -> torch.Tensor:
        """`num_images` samples (of class `c` when conditional), as mimicry's `generate_images`."""
        dev = next(self.parameters()).device
        z = torch.randn(num_images, self.nz, generator=generator).to(dev)
        y = None
        if self.num_classes:
            y = torch.as_tensor(c if c is not None else 0, device=dev).long().expand(num_images)
        return self(z, y)


class DCGANDiscriminator(nn.Module):
    """image (B, 3, size, size) [+ y] -> logit (B,); spectral norm everywhere; projection head when conditional."""

    def __init__(self, size: int = 32, ndf: int = 64, num_classes: int = 0, class_head: str = "none",
                 transitional: bool = False):
        super().__init__()
        if transitional and not num_classes:
            raise ValueError("transitional conditioning needs a conditional discriminator")
        self.size, self.ndf, self.num_classes = size, ndf, num_classes
        # transitional-cGAN's D: an unconditional and a conditional logit apart, (B, 2), weighed in the loss
        self.split = transitional
        w = list(reversed(_widths(size, ndf)))  # size x size ... 4x4
        self.inp = spectral_norm(nn.Conv2d(3, w[0], 3, 1, 1))
        blocks = []
        for a, b in zip(w[:-1], w[1:]):
            blocks += [spectral_norm(nn.Conv2d(a, b, 4, 2, 1)), nn.LeakyReLU(0.1, inplace=True)]
        self.blocks = nn.Sequential(nn.LeakyReLU(0.1), *blocks)
        self.linear = spectral_norm(nn.Linear(w[-1], 1))
        if num_classes:
            self.embed = spectral_norm(nn.Embedding(num_classes, w[-1]))
        if class_head != "none":
            from gen.nets.heads import ClassHead

            self.class_head = ClassHead(w[-1], num_classes, class_head)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, aux: bool = False):
        """Logits (B,) — (B, 2) unconditional and conditional when transitional; with `aux`, also the class head's
        outputs (the pooled features' class signal)."""
        h = self.blocks(self.inp(x)).sum(dim=(2, 3))  # global sum pooling (SNGAN)
        out = self.linear(h).squeeze(1)
        if self.num_classes:
            if y is None:
                raise ValueError("a conditional discriminator needs class indices y")
            proj = (self.embed(y) * h).sum(dim=1)  # projection term
            # transitional-cGAN's epilogue: the unconditional logit beside the class projection, as two outputs
            out = torch.stack([out, proj], dim=1) if self.split else out + proj
        return (out, self.class_head(h, y)) if aux else out


EMBED_INITS = ("normal", "biggan")


def build_generator(size: int, nz: int, ngf: int, num_classes: int, cond: str = "shared",
                    embed_init: str = "normal", transitional: bool = False) -> DCGANGenerator:
    """A DCGAN generator with DCGAN's N(0, 0.02) init (conditional-BN linear maps too: gain starts near 1).

    `embed_init` "biggan" starts the shared class embedding at N(0, 0.02) as BigGAN does, instead of nn.Embedding's
    N(0, 1), under which the class outweighs the z chunk in every conditional BN at the start.
    """
    g = DCGANGenerator(size, nz, ngf, num_classes, cond, transitional)
    for m in g.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    if embed_init == "biggan" and g.hier:
        nn.init.normal_(g.shared.weight, 0.0, 0.02)
    return g


D_ARCHS = ("dcgan", "projected")


def build_discriminator(size: int, ndf: int, num_classes: int, arch: str = "dcgan",
                        class_head: str = "none", proj_size: int = 64, transitional: bool = False) -> nn.Module:
    """'dcgan': spectral-norm DCGAN discriminator (PyTorch's default init, as SNGAN); 'projected': on Lite0 features
    of the images resized to `proj_size`.

    `class_head` "ac" or "d2dce" adds a class head on D's pooled features (gen.nets.heads).
    """
    if arch == "projected":
        from gen.nets.projected import ProjectedDiscriminator

        if transitional:
            raise ValueError("transitional conditioning is built for the dcgan discriminator")

        return ProjectedDiscriminator(size, ndf, num_classes, class_head, proj_size)
    if arch != "dcgan":
        raise ValueError(f"discriminator {arch!r}: choose one of {D_ARCHS}")
    return DCGANDiscriminator(size, ndf, num_classes, class_head, transitional)
