"""The DCGAN family, parametrised by resolution (32, 64, 128 px) rather than one file per size.

mimicry keeps `dcgan_32.py`, `dcgan_64.py`, ...; here the three sizes differ only in how many 2x up/down
blocks sit between 4x4 and the output, so one class with `size` keeps them from drifting apart.

Generator: z -> linear -> 4x4 -> (ConvTranspose 4x4/2 + BN + ReLU) x log2(size/4) -> conv 3x3 -> tanh.
Conditional generators replace BN by class-conditional BN (per-class gain and bias, as in the projection-
discriminator paper's generator) and take a class embedding beside z. Discriminator: a 3x3 input conv, then DCGAN's 4x4/2 convs, all spectral-norm
with LeakyReLU 0.1; global sum pooling, a linear output and, when conditional, the projection term <embed(y), h>
(Miyato & Koyama 2018). SNGAN's extra 3x3 convs per block are left out: they cost 2.5x the CPU time per step.
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
    """BatchNorm whose gain and bias are looked up per class; plain affine BN when num_classes == 0."""

    def __init__(self, channels: int, num_classes: int):
        super().__init__()
        self.num_classes = num_classes
        self.bn = nn.BatchNorm2d(channels, affine=num_classes == 0)
        if num_classes:
            self.gain = nn.Embedding(num_classes, channels)
            self.bias = nn.Embedding(num_classes, channels)
            nn.init.ones_(self.gain.weight)
            nn.init.zeros_(self.bias.weight)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        x = self.bn(x)
        if self.num_classes:
            x = x * self.gain(y)[:, :, None, None] + self.bias(y)[:, :, None, None]
        return x


class DCGANGenerator(nn.Module):
    """z (B, nz) [+ class index y (B,)] -> image (B, 3, size, size) in [-1, 1]."""

    def __init__(self, size: int = 32, nz: int = 128, ngf: int = 64, num_classes: int = 0):
        super().__init__()
        self.size, self.nz, self.ngf, self.num_classes = size, nz, ngf, num_classes
        w = _widths(size, ngf)
        # The class also enters beside z (as in BigGAN's shared embedding): conditional BN alone lets z dominate
        # for hundreds of steps, so early samples ignore their class.
        self.embed = nn.Embedding(num_classes, nz) if num_classes else None
        self.fc = nn.Linear(2 * nz if num_classes else nz, 4 * 4 * w[0])
        self.bn0 = CondBatchNorm2d(w[0], num_classes)
        self.ups = nn.ModuleList(nn.ConvTranspose2d(a, b, 4, 2, 1) for a, b in zip(w[:-1], w[1:]))
        self.bns = nn.ModuleList(CondBatchNorm2d(b, num_classes) for b in w[1:])
        self.out = nn.Conv2d(w[-1], 3, 3, 1, 1)
        self.act = nn.ReLU(inplace=True)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes and y is None:
            raise ValueError("a conditional generator needs class indices y")
        h = self.fc(z if self.embed is None else torch.cat([z, self.embed(y)], dim=1)).view(z.shape[0], -1, 4, 4)
        h = self.act(self.bn0(h, y))
        for up, bn in zip(self.ups, self.bns):
            h = self.act(bn(up(h), y))
        return torch.tanh(self.out(h))

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

    def __init__(self, size: int = 32, ndf: int = 64, num_classes: int = 0):
        super().__init__()
        self.size, self.ndf, self.num_classes = size, ndf, num_classes
        w = list(reversed(_widths(size, ndf)))  # size x size ... 4x4
        self.inp = spectral_norm(nn.Conv2d(3, w[0], 3, 1, 1))
        blocks = []
        for a, b in zip(w[:-1], w[1:]):
            blocks += [spectral_norm(nn.Conv2d(a, b, 4, 2, 1)), nn.LeakyReLU(0.1, inplace=True)]
        self.blocks = nn.Sequential(nn.LeakyReLU(0.1), *blocks)
        self.linear = spectral_norm(nn.Linear(w[-1], 1))
        if num_classes:
            self.embed = spectral_norm(nn.Embedding(num_classes, w[-1]))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.blocks(self.inp(x)).sum(dim=(2, 3))  # global sum pooling (SNGAN)
        out = self.linear(h).squeeze(1)
        if self.num_classes:
            if y is None:
                raise ValueError("a conditional discriminator needs class indices y")
            out = out + (self.embed(y) * h).sum(dim=1)  # projection term
        return out


def build_generator(size: int, nz: int, ngf: int, num_classes: int) -> DCGANGenerator:
    """A DCGAN generator with DCGAN's N(0, 0.02) init for convolutions."""
    g = DCGANGenerator(size, nz, ngf, num_classes)
    for m in g.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.zeros_(m.bias)
    return g


def build_discriminator(size: int, ndf: int, num_classes: int) -> DCGANDiscriminator:
    """A spectral-norm DCGAN discriminator (PyTorch's default init, as SNGAN)."""
    return DCGANDiscriminator(size, ndf, num_classes)
