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


# --- LeCam regularisation (Tseng et al. CVPR 2021; google/lecam-gan biggan_cifar/losses.py, utils.ema_losses) ----
# D's outputs on reals are pulled below the moving average of its outputs on fakes and the other way round, which
# keeps D from drifting apart on little data. The reference's constants: decay 0.9, anchors that equal the current
# means (decay 0) until step 1,000 and a term only after it, weight 0.3 on CIFAR-10 (all its lc-* scripts).
LECAM_DECAY = 0.9


def lecam_reg(real_logits: torch.Tensor, fake_logits: torch.Tensor, anchor_real: torch.Tensor,
              anchor_fake: torch.Tensor) -> torch.Tensor:
    """mean(relu(D(real) - anchor_fake)^2) + mean(relu(anchor_real - D(fake))^2), the reference's lecam_reg."""
    return F.relu(real_logits - anchor_fake).pow(2).mean() + F.relu(anchor_real - fake_logits).pow(2).mean()


class LecamAnchors:
    """The moving averages of D's mean output on reals and fakes (device tensors: no host sync per step)."""

    def __init__(self, start: int, decay: float = LECAM_DECAY):
        self.start, self.decay = start, decay
        self.real = self.fake = None

    def update(self, real_logits: torch.Tensor, fake_logits: torch.Tensor, step: int) -> None:
        """utils.ema_losses.update: decay 0 before `start` (the anchors follow the current means), then `decay`."""
        r, f = real_logits.detach().float().mean(), fake_logits.detach().float().mean()
        d = 0.0 if step < self.start or self.real is None else self.decay
        self.real = r if self.real is None else self.real * d + r * (1 - d)
        self.fake = f if self.fake is None else self.fake * d + f * (1 - d)

    def state_dict(self) -> dict:
        return {"real": self.real, "fake": self.fake}

    def load_state_dict(self, state: dict) -> None:
        self.real, self.fake = state["real"], state["fake"]


# --- class losses: a class-versus-class signal beside the adversarial one (issue 19) ------------------------------
# "ac": ACGAN as PyTorch-StudioGAN's ACGAN-Mod (src/worker.py, losses.CrossEntropyLoss): a classifier head on D's
# pooled features, trained on real images only; G is trained to make its fakes classified as their class.
# "d2dce": ReACGAN's data-to-data cross-entropy (losses.Data2DataCrossEntropyLoss): the head is an L2-normalised
# embedding pulled to its class proxy and pushed from other-class samples in the batch (same-class ones removed).
CLASS_LOSSES = ("none", "ac", "d2dce")
D2D_MARGIN, D2D_TEMPERATURE = 0.98, 0.5  # StudioGAN's CIFAR-10 ReACGAN: m_p 0.98, temperature 0.5


def class_loss(kind: str, aux: dict, y: torch.Tensor) -> torch.Tensor:
    """The class term on one batch: `aux` is what D returns beside its logits (`logits` or `embed` + `proxy`)."""
    if kind == "ac":
        return F.cross_entropy(aux["logits"].float(), y)
    if kind == "d2dce":
        return d2d_cross_entropy(aux["embed"].float(), aux["proxy"].float(), y)
    raise UserError(f"--class-loss {kind!r}: unknown; choose one of {', '.join(CLASS_LOSSES)}")


def d2d_cross_entropy(embed: torch.Tensor, proxy: torch.Tensor, y: torch.Tensor, margin: float = D2D_MARGIN,
                      temperature: float = D2D_TEMPERATURE) -> torch.Tensor:
    """ReACGAN's D2D-CE on normalised embeddings (B, d), their class proxies (B, d) and labels (B,).

    StudioGAN's arithmetic, with its numpy false-negative mask built on the device (no host copy per step).
    """
    b = embed.shape[0]
    off = ~torch.eye(b, dtype=torch.bool, device=embed.device)
    sim = ((embed @ embed.T + margin - 1) / temperature)[off].view(b, b - 1)
    sim = F.relu(sim) - sim.max(dim=1, keepdim=True).values.detach()  # numerical stability, as the reference
    other_class = (y[:, None] != y[None, :])[off].view(b, b - 1)
    pos_attr = F.relu((margin - (embed * proxy).sum(1)) / temperature)
    neg_repul = torch.log(torch.exp(-pos_attr) + (other_class * torch.exp(sim)).sum(1))
    return (pos_attr + neg_repul).mean()


@torch.no_grad()
def class_predictions(kind: str, aux: dict, proxies: torch.Tensor | None = None) -> torch.Tensor:
    """D's class guess per image: the head's argmax ("ac") or the nearest class proxy ("d2dce")."""
    if kind == "ac":
        return aux["logits"].argmax(1)
    return (aux["embed"].float() @ F.normalize(proxies.float(), dim=1).T).argmax(1)


# --- gSR (Rangwani et al. ECCV 2022; val-iisc/gSRGAN src/utils/model_ops.py plot_sn, src/worker.py) ---------------
# Each class's conditional-BN gain and bias vectors, reshaped to near-square matrices, have their top singular value
# penalised, rare classes more (inverse effective number): the class-specific gains of the tail stop collapsing.
# The reference's CIFAR-10 BigGAN config: beta 0.99, sn_reg_weight 0.5. Exact SVD here (the reference offers it
# beside power iteration): the matrices are a few dozen 16 x 16 blocks, cheap on any device.
GSR_BETA, GSR_WEIGHT = 0.99, 0.5


def near_square(n: int) -> tuple[int, int]:
    """The reference's get_dimensions: a x b = n with a the largest divisor of n not above sqrt(n)."""
    a = max(i for i in range(1, int(n ** 0.5) + 1) if n % i == 0)
    return a, n // a


def gsr_class_weights(counts: list[int], weight: float, beta: float = GSR_BETA) -> torch.Tensor:
    """lam_c = K * weight / En_c, En_c = (1 - beta^n_c) / (1 - beta), K = C / sum(1 / En) (worker.py)."""
    en = torch.tensor([(1 - beta ** n) / (1 - beta) for n in counts], dtype=torch.float64)
    k = len(counts) / (1 / en).sum()
    return (k * weight / en).float()


def gsr_penalty(gains: list[tuple[torch.Tensor, torch.Tensor]], lam: torch.Tensor) -> torch.Tensor:
    """sum over layers and classes of lam_c (sigma_max(gain_c)^2 + sigma_max(bias_c)^2) / (layers x classes), for
    per-layer (C, F) class gain and bias vectors."""
    total = 0.0
    for gain, bias in gains:
        a, b = near_square(gain.shape[1])
        sg = torch.linalg.matrix_norm(gain.float().reshape(-1, a, b), ord=2)
        sb = torch.linalg.matrix_norm(bias.float().reshape(-1, a, b), ord=2)
        total = total + (lam.to(sg.device) * (sg ** 2 + sb ** 2)).sum()
    return total / (len(gains) * len(lam))
