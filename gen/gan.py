"""One GAN (G, G_ema, D and their optimisers) and its own train step; knows nothing of the loop around it.

The trainer builds the objects (and wraps them with Lightning Fabric for device, precision and DDP) and passes
`backward` in, so this file works the same with or without Fabric.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from gen.diffaug import diff_augment
from gen.losses import LecamAnchors, d_loss, g_loss, gsr_penalty, lecam_reg


class GanPair:
    """G + D (+ EMA of G) trained together; `num_classes == 0` for an unconditional (per-class) pair."""

    def __init__(self, G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
                 G_raw: nn.Module, D_raw: nn.Module, ema, loss: str, policy: tuple[str, ...], nz: int,
                 conditional: bool, backward: Callable[[torch.Tensor], None] = lambda t: t.backward(),
                 toggle_d_grad: bool = True, class_loss: str = "none", class_weight: float = 1.0,
                 real_flip: bool = False, lecam_weight: float = 0.0, lecam_start: int = 1000,
                 transition: Callable[[int], float] | None = None, gsr_lam: torch.Tensor | None = None):
        from gen.nets.heads import has_batchnorm

        self.G, self.D, self.opt_g, self.opt_d = G, D, opt_g, opt_d
        self.G_raw, self.D_raw, self.ema = G_raw, D_raw, ema
        self.loss, self.policy, self.nz, self.conditional = loss, policy, nz, conditional
        self.backward = backward
        # Freezing D during the G step skips D's weight gradients (faster); DDP needs every parameter's
        # gradient each step, so the trainer turns this off for several devices.
        self.toggle_d_grad = toggle_d_grad
        self.class_loss, self.class_weight, self.real_flip = class_loss, class_weight, real_flip
        self.lecam_weight = lecam_weight
        self.lecam = LecamAnchors(lecam_start) if lecam_weight > 0 else None
        # transitional-cGAN: step -> the weight of the class on G's input and of D's conditional terms (nets built
        # transitional: G has the `transition` buffer, D two logits)
        self.transition = transition
        self.gsr_lam = gsr_lam  # gSR's per-class weights (gen.losses.gsr_class_weights); None: off
        # Real and fake through one D call (BigGAN-PyTorch's G_D): the same math with half the calls, unless
        # batch norm would mix the two halves' statistics.
        self.fuse = not has_batchnorm(D_raw)

    def _d(self, real: torch.Tensor, fake: torch.Tensor, y: torch.Tensor | None):
        """D's logits on real and fake images, and its class head's outputs on the real ones (or None)."""
        aux = self.class_loss != "none"
        if not self.fuse:
            out = self.D(real, y, aux=aux)
            real_logits, head = out if aux else (out, None)
            return real_logits, self.D(fake, y), head
        b = real.shape[0]
        out = self.D(torch.cat([real, fake]), None if y is None else torch.cat([y, y]), aux=aux)
        logits, head = out if aux else (out, None)
        if head is not None:  # per-image outputs of the real half; the proxy table as it is
            head = {k: v if k == "proxies" else v[:b] for k, v in head.items()}
        return logits[:b], logits[b:], head

    def set_transition(self, lam: float) -> None:
        """The class weight on G's input, in the trained G and its moving average (which would blend it)."""
        for g in (self.G_raw, self.ema.module):
            g.transition.fill_(lam)

    def _d_adv(self, real: torch.Tensor, fake: torch.Tensor, lam: float | None):
        """D's adversarial loss and its unconditional logits; transitional: unconditional + lam · conditional
        (transitional-cGAN's training/loss.py)."""
        if lam is None:
            return d_loss(self.loss, real.float(), fake.float()), real, fake
        loss = d_loss(self.loss, real[:, 0].float(), fake[:, 0].float()) + \
            lam * d_loss(self.loss, real[:, 1].float(), fake[:, 1].float())
        return loss, real[:, 0], fake[:, 0]

    def _g_adv(self, fake: torch.Tensor, lam: float | None) -> torch.Tensor:
        if lam is None:
            return g_loss(self.loss, fake.float())
        return g_loss(self.loss, fake[:, 0].float()) + lam * g_loss(self.loss, fake[:, 1].float())

    def _class_term(self, head: dict | None, y: torch.Tensor, stats: dict, name: str) -> torch.Tensor | float:
        """The weighted class loss on `head` (0 without a class loss), its value and D's accuracy into stats."""
        if head is None:
            return 0.0
        from gen.losses import class_loss, class_predictions

        term = class_loss(self.class_loss, head, y)
        stats[f"class_{name}"] = term.detach()
        stats[f"class_acc_{'real' if name == 'd' else 'fake'}"] = \
            (class_predictions(self.class_loss, head, head.get("proxies")) == y).float().mean()
        return self.class_weight * term

    def train_step(self, batches: list[tuple[torch.Tensor, torch.Tensor | None]],
                   step: int) -> dict[str, torch.Tensor]:
        """One D step per (real, y) batch (float [-1, 1]), then one G step with the last batch's labels.

        The losses come back as 0-d tensors on the device: reading one (`.item()`) waits for the GPU, so the loop
        reads them once per log interval instead of every step. Several D steps report their mean.
        """
        self.G.train()
        self.D.train()
        lam = None if self.transition is None else float(self.transition(step))
        if lam is not None:
            self.set_transition(lam)
        cw = 1.0 if lam is None else lam  # the class terms ramp in with the class input
        acc: dict[str, list[torch.Tensor]] = {}
        for real, y in batches:
            b = real.shape[0]
            yc = y if self.conditional else None
            if self.real_flip:  # mirror augmentation of the dataset (data-efficient-gans' --mirror_augment)
                real = torch.where(torch.rand(b, 1, 1, 1, device=real.device) < 0.5, real.flip(3), real)

            # Discriminator: real vs fake, both through the same DiffAugment policy (+ the class term on reals).
            z = torch.randn(b, self.nz, device=real.device)
            with torch.no_grad():
                fake = self.G(z, yc)
            real_in = diff_augment(real, self.policy)
            fake_in = diff_augment(fake.detach().float(), self.policy)
            real_logits, fake_logits, head = self._d(real_in, fake_in, yc)
            stats: dict[str, torch.Tensor] = {}
            loss_d, real_logits, fake_logits = self._d_adv(real_logits, fake_logits, lam)
            loss_d = loss_d + cw * self._class_term(head, y, stats, "d")
            if self.lecam is not None:  # the anchors first, then the term (the reference's order)
                itr = step + 1  # BigGAN-PyTorch's itr: the step being made, counted from 1 (as logged)
                self.lecam.update(real_logits, fake_logits, itr)
                if itr > self.lecam.start:
                    reg = lecam_reg(real_logits.float(), fake_logits.float(), self.lecam.real, self.lecam.fake)
                    loss_d = loss_d + self.lecam_weight * reg
                    stats["lecam"] = reg.detach()
            self.opt_d.zero_grad(set_to_none=True)
            self.backward(loss_d)
            self.opt_d.step()
            stats.update(loss_d=loss_d.detach(), d_real=real_logits.detach().float().mean(),
                         d_fake=fake_logits.detach().float().mean())
            for k, v in stats.items():
                acc.setdefault(k, []).append(v)

        # Generator: fool D on freshly drawn fakes of the same classes (and make them look like their class).
        if self.toggle_d_grad:
            self.D_raw.requires_grad_(False)
        z = torch.randn(b, self.nz, device=real.device)
        fake = self.G(z, yc)
        aux = self.class_loss != "none"
        out = self.D(diff_augment(fake.float(), self.policy), yc, aux=aux)
        fake_logits, head = out if aux else (out, None)
        g_stats: dict[str, torch.Tensor] = {}
        loss_gen = self._g_adv(fake_logits, lam) + cw * self._class_term(head, y, g_stats, "g")
        if self.gsr_lam is not None:
            reg = gsr_penalty(self.G_raw.class_gains(), self.gsr_lam)
            loss_gen = loss_gen + reg
            g_stats["gsr"] = reg.detach()
        self.opt_g.zero_grad(set_to_none=True)
        self.backward(loss_gen)
        self.opt_g.step()
        if self.toggle_d_grad:
            self.D_raw.requires_grad_(True)
        self.ema.update(self.G_raw, step=step + 1)
        out = {k: v[0] if len(v) == 1 else torch.stack(v).mean() for k, v in acc.items()}
        if lam is not None:
            self.set_transition(lam)  # the average blended the buffer too
            out["transition"] = torch.tensor(lam, device=loss_gen.device)
        return {**out, "loss_g": loss_gen.detach(), **g_stats}

    def state_dict(self) -> dict:
        state = {"G": self.G_raw.state_dict(), "G_ema": self.ema.module.state_dict(), "D": self.D_raw.state_dict(),
                 "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict()}
        if self.lecam is not None:  # part of D's training state: a resume goes on with the same anchors
            state["lecam"] = self.lecam.state_dict()
        return state

    def load_state_dict(self, state: dict, weights_only: bool = False) -> None:
        self.G_raw.load_state_dict(state["G"])
        self.ema.module.load_state_dict(state["G_ema"])
        self.D_raw.load_state_dict(state["D"])
        if not weights_only:
            self.opt_g.load_state_dict(state["opt_g"])
            self.opt_d.load_state_dict(state["opt_d"])
            if self.lecam is not None and "lecam" in state:
                self.lecam.load_state_dict(state["lecam"])
