"""GAN checkpoints: self-describing, written atomically, loadable with `torch.load(weights_only=True)`.

A checkpoint holds the architecture (mode, size, nz, ngf, ndf), class names, the options, the step, every
model's G / G_ema / D / optimiser states, all RNG states and the data-order state. RNG states are stored as
tensors and plain Python values (not numpy objects), so loading never needs to unpickle arbitrary code.
"""
from __future__ import annotations

from pathlib import Path

import torch

from common.atomic import atomic_path
from common.errors import UserError
from gen.options import OPTIONS_BEFORE

FORMAT = "synthmix-gan"
VERSION = 2  # 2: G without the class embedding beside z (g_cond), d_arch; format 1 cannot be loaded
ARCH_KEYS = ("mode", "size", "nz", "ngf", "ndf", "g_cond", "d_arch", "class_loss", "proj_size", "transitional")
# What a checkpoint from before a key was trained with: class_loss as gen.options says for runs (one rule, one place);
# proj_size None marks the projected D's layout before projected-gan's (refused below), not OPTIONS_BEFORE's 64.
ARCH_DEFAULTS = {"class_loss": OPTIONS_BEFORE["class_loss"], "proj_size": None, "transitional": False}


def save_checkpoint(path: str | Path, ckpt: dict) -> Path:
    """Write a checkpoint dict atomically."""
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, "version": VERSION, **ckpt}, tmp)
    return Path(path)


def load_checkpoint(path: str | Path, fix: str = "pass a train-gan run folder or its last.pt/best.pt") -> dict:
    """Read a SynthMix GAN checkpoint, refusing anything else with one clear message ending in `fix`."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: checkpoint not found; pass a train-gan run folder or its last.pt/best.pt")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for foreign pickles and truncated files
        raise UserError(f"{path}: this checkpoint cannot be read ({type(e).__name__}: truncated, or not a SynthMix "
                        f"GAN checkpoint); {fix}") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise UserError(f"{path}: not a SynthMix GAN checkpoint (a classifier's or another tool's file?); "
                        "pass a train-gan run folder or its last.pt/best.pt")
    if ckpt.get("version", 1) < VERSION or "g_cond" not in ckpt.get("arch", {}):
        raise UserError(f"{path}: a checkpoint of the old generator (format {ckpt.get('version', 1)}: class "
                        "embedding beside z, which made every class one image); this version cannot load it; "
                        "train a new GAN with train-gan")
    return ckpt


def resolve_checkpoint(gan: str | Path, which: str = "auto") -> Path:
    """A run folder (+ 'auto'/'best'/'last') or a .pt path -> the checkpoint file (common.runs' one rule)."""
    from common.runs import CHECKPOINT_CHOICES, run_checkpoint

    if which not in CHECKPOINT_CHOICES:
        return Path(which)
    return run_checkpoint(gan, which, "--gan", "train-gan")


def check_compatible(ckpt: dict, arch: dict, class_names: list[str], what: str) -> None:
    """Refuse weights from a GAN with another architecture or other classes (one message, every difference)."""
    saved = {**ARCH_DEFAULTS, **ckpt["arch"]}
    if saved.get("d_arch") == "projected" and saved.get("proj_size") is None:
        raise UserError(f"{what}: a projected-D checkpoint from before projected-gan's layout (issue 19): its D "
                        "cannot be loaded into today's; its G still samples (synth, fid --gan); train a new run")
    diffs = [f"{k} {saved.get(k)!r} vs {arch.get(k)!r}" for k in ARCH_KEYS if saved.get(k) != arch.get(k)]
    if list(ckpt["class_names"]) != list(class_names):
        diffs.append(f"classes {', '.join(ckpt['class_names'])} vs {', '.join(class_names)}")
    if diffs:
        raise UserError(f"{what}: checkpoint does not fit this GAN ({'; '.join(diffs)}); "
                        "use a checkpoint trained on the same classes with the same --mode/--size/widths/"
                        "--d-arch/--class-loss")
