"""What is trainable: the head, the last K blocks (+ head), or all; and training stages built from options.

Blocks are timm's own parameter groups (`group_matcher(coarse=False)`), so "last K blocks" means the same thing
for any timm architecture (MobileNet/EfficientNet inverted-residual blocks, ResNet stages, ViT blocks).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from common.errors import UserError

_TRAINABLE = re.compile(r"^(all|head|last:(\d+))$")


@dataclass(frozen=True)
class Stage:
    """Epochs [start, end) trained with these trainable parts, optimizer and learning rate."""

    start: int
    end: int
    trainable: str
    opt: str
    lr: float


def check_trainable(spec: str) -> str:
    if not _TRAINABLE.match(spec or ""):
        raise UserError(f"--trainable {spec!r}: use all, head, or last:K (the last K blocks plus the head)")
    return spec


def parse_stages(stages: tuple[str, ...] | list[str], epochs: int, trainable: str, opt: str, lr: float
                 ) -> list[Stage]:
    """`("3:head:adamw:1e-3", "10:all:sgd:1e-4")` → consecutive stages; none given → one stage from the options."""
    from clf.options import OPTIMIZERS

    if not stages:
        return [Stage(0, epochs, check_trainable(trainable), opt, lr)]
    out, start = [], 0
    for s in stages:
        parts = s.split(":")
        if len(parts) == 5 and parts[1] == "last":  # "4:last:3:sgd:1e-4"
            parts = [parts[0], f"last:{parts[2]}", parts[3], parts[4]]
        try:
            n, tr, o, rate = parts
            n, rate = int(n), float(rate)
            if n < 1 or rate <= 0:
                raise ValueError
        except ValueError:
            raise UserError(f"--stage {s!r}: use EPOCHS:TRAINABLE:OPT:LR, e.g. 3:head:adamw:1e-3 or "
                            "10:last:4:sgd:1e-4") from None
        if o not in OPTIMIZERS:
            raise UserError(f"--stage {s!r}: optimizer {o!r} unknown; choose one of {', '.join(OPTIMIZERS)}")
        out.append(Stage(start, start + n, check_trainable(tr), o, rate))
        start += n
    return out


def stage_at(stages: list[Stage], epoch: int) -> Stage:
    for st in stages:
        if st.start <= epoch < st.end:
            return st
    return stages[-1]


def trainable_names(model: torch.nn.Module, spec: str) -> set[str]:
    """Names of the parameters `spec` trains."""
    from timm.models import group_parameters

    names = [n for n, _ in model.named_parameters()]
    if spec == "all":
        return set(names)
    head_mod = model.get_classifier()
    head_ids = {id(p) for p in head_mod.parameters()}
    head = {n for n, p in model.named_parameters() if id(p) in head_ids}
    if not head:
        raise UserError(f"{type(model).__name__}: no classifier head found to train; use --trainable all")
    if spec == "head":
        return head
    k = int(spec.split(":")[1])
    groups = group_parameters(model, model.group_matcher(coarse=False))
    blocks = [set(v) for v in groups.values() if not set(v) <= head]
    if k > len(blocks):
        raise UserError(f"--trainable {spec}: the model has only {len(blocks)} blocks; use last:{len(blocks)} or all")
    return head.union(*blocks[len(blocks) - k:]) if k else head


def apply_trainable(model: torch.nn.Module, names: set[str], set_requires_grad: bool = True) -> None:
    """Freeze everything outside `names`. Under DDP requires_grad stays on (DDP fixes the set at wrap time);
    the frozen parts are then only kept out of the optimizer and their norm layers held in eval mode."""
    for n, p in model.named_parameters():
        p.requires_grad_(n in names or not set_requires_grad)
    model._synthmix_trainable = set(names)  # read by `hold_frozen_norms`


def hold_frozen_norms(model: torch.nn.Module) -> None:
    """Norm layers of frozen parts stay in eval mode, so their running statistics do not drift."""
    names = getattr(model, "_synthmix_trainable", None)
    if names is None:
        return
    for mname, mod in model.named_modules():
        if isinstance(mod, torch.nn.modules.batchnorm._NormBase):
            own = [f"{mname}.{pn}" if mname else pn for pn, _ in mod.named_parameters(recurse=False)]
            if own and not any(n in names for n in own):
                mod.eval()


def param_groups(model: torch.nn.Module, names: set[str], weight_decay: float) -> list[dict]:
    """Trainable parameters in two groups: weight decay for weights, none for biases and norm scales."""
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        if n in names:
            (no_decay if p.ndim <= 1 or n.endswith(".bias") else decay).append(p)
    return [g for g in ({"params": decay, "weight_decay": weight_decay},
                        {"params": no_decay, "weight_decay": 0.0}) if g["params"]]
