"""One GAN (G, G_ema, D and their optimisers) and its own train step; knows nothing of the loop around it.

The trainer builds the objects (and wraps them with Lightning Fabric for device, precision and DDP) and passes
`backward` in, so this file works the same with or without Fabric.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from gen.diffaug import diff_augment
from gen.losses import d_loss, g_loss


class GanPair:
    """G + D (+ EMA of G) trained together; `num_classes == 0` for an unconditional (per-class) pair."""

    def __init__(self, G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
                 G_raw: nn.Module, D_raw: nn.Module, ema, loss: str, policy: tuple[str, ...], nz: int,
                 conditional: bool, backward: Callable[[torch.Tensor], None] = lambda t: t.backward(),
                 toggle_d_grad: bool = True):
        self.G, self.D, self.opt_g, self.opt_d = G, D, opt_g, opt_d
        self.G_raw, self.D_raw, self.ema = G_raw, D_raw, ema
        self.loss, self.policy, self.nz, self.conditional = loss, policy, nz, conditional
        self.backward = backward
        # Freezing D during the G step skips D's weight gradients (faster); DDP needs every parameter's
        # gradient each step, so the trainer turns this off for several devices.
        self.toggle_d_grad = toggle_d_grad

    def train_step(self, real: torch.Tensor, y: torch.Tensor | None, step: int) -> dict[str, torch.Tensor]:
        """One D step on `real` (float [-1, 1]) then one G step with the same labels; returns the losses.

        The losses stay 0-d tensors on the device: reading one (`.item()`) waits for the GPU, so the loop reads
        them once per log interval instead of four times a step.
        """
        self.G.train()
        self.D.train()
        b = real.shape[0]
        yc = y if self.conditional else None

        # Discriminator: real vs fake, both through the same DiffAugment policy.
        z = torch.randn(b, self.nz, device=real.device)
        with torch.no_grad():
            fake = self.G(z, yc)
        real_logits = self.D(diff_augment(real, self.policy), yc)
        fake_logits = self.D(diff_augment(fake.detach().float(), self.policy), yc)
        loss_d = d_loss(self.loss, real_logits.float(), fake_logits.float())
        self.opt_d.zero_grad(set_to_none=True)
        self.backward(loss_d)
        self.opt_d.step()

        # Generator: fool D on freshly drawn fakes of the same classes.
        if self.toggle_d_grad:
            self.D_raw.requires_grad_(False)
        z = torch.randn(b, self.nz, device=real.device)
        fake = self.G(z, yc)
        loss_gen = g_loss(self.loss, self.D(diff_augment(fake.float(), self.policy), yc).float())
        self.opt_g.zero_grad(set_to_none=True)
        self.backward(loss_gen)
        self.opt_g.step()
        if self.toggle_d_grad:
            self.D_raw.requires_grad_(True)
        self.ema.update(self.G_raw, step=step + 1)
        return {"loss_d": loss_d.detach(), "loss_g": loss_gen.detach(),
                "d_real": real_logits.detach().float().mean(), "d_fake": fake_logits.detach().float().mean()}

    def state_dict(self) -> dict:
        return {"G": self.G_raw.state_dict(), "G_ema": self.ema.module.state_dict(), "D": self.D_raw.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict()}

    def load_state_dict(self, state: dict, weights_only: bool = False) -> None:
        self.G_raw.load_state_dict(state["G"])
        self.ema.module.load_state_dict(state["G_ema"])
        self.D_raw.load_state_dict(state["D"])
        if not weights_only:
            self.opt_g.load_state_dict(state["opt_g"])
            self.opt_d.load_state_dict(state["opt_d"])
