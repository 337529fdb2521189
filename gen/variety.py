"""Variety in feature space: how much of a class's real images its fakes cover (Naeem et al. 2020, `prdc`).

Pixel diversity (gen.snapshots) rewards noise: unfinished fakes are far apart pixel by pixel. Coverage asks
instead whether each real image has a fake among its k nearest real neighbours, in the features of a fixed network:
the run's judge (gen.judge, trained on the reals once, never on a fake; not the projected D's Lite0). A G that
collapses onto a few easy images of a class (ACGAN's known failure) keeps its class but loses coverage.
Density beside it: how many real neighbourhoods each fake sits in (above 1: crowding onto typical reals).
"""
from __future__ import annotations

import contextlib
import io

import torch

NEAREST_K = 5  # prdc's recommended k for a few thousand images; with 32-256 per class still above noise


def coverage_density(real: torch.Tensor, fake: torch.Tensor, k: int = NEAREST_K) -> dict[str, float] | None:
    """{coverage, density} of fake features (M, D) against real ones (N, D); None when either is too small."""
    if len(real) <= k + 1 or len(fake) <= k + 1:  # prdc counts each point among its own neighbours
        return None
    from prdc import compute_prdc

    with contextlib.redirect_stdout(io.StringIO()):  # prdc prints the set sizes on every call
        m = compute_prdc(real.float().numpy(), fake.float().numpy(), nearest_k=k)
    return {"coverage": round(float(m["coverage"]), 4), "density": round(float(m["density"]), 4)}


def per_class(real: dict[str, torch.Tensor], fake: dict[str, torch.Tensor]) -> dict[str, dict[str, float]]:
    """coverage_density for every class present in both (feature tensors per class name)."""
    out = {}
    for c, f in fake.items():
        if c in real:
            m = coverage_density(real[c], f)
            if m is not None:
                out[c] = m
    return out
