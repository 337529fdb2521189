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
