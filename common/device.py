"""Device choice: CUDA (with AMP and pinned memory) when present, CPU otherwise."""
from __future__ import annotations

import torch

from common.errors import UserError


def pick_device(preference: str = "auto", option: str = "--device") -> torch.device:
    """'auto' -> cuda if available else cpu; 'cpu'/'cuda'/'cuda:1' are honoured or refused clearly."""
    if preference in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(preference)
    except (RuntimeError, ValueError, TypeError):  # torch's own message is about its parser, not the option
        raise UserError(f"{option} {preference!r}: not a device; use auto, cpu, cuda or cuda:N (N: the GPU's "
                        "number)") from None
    if dev.type not in ("cpu", "cuda"):
        raise UserError(f"{option} {preference!r}: SynthMix runs on cpu or cuda; use auto, cpu, cuda or cuda:N")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"{option} {preference}: no CUDA GPU is visible; use --device cpu or auto")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise UserError(f"{option} {preference}: only {torch.cuda.device_count()} GPU(s) visible (cuda:0 .. "
                        f"cuda:{torch.cuda.device_count() - 1}); pick one of them or use auto")
    return dev


def use_amp(device: torch.device) -> bool:
    """Mixed precision only where it pays: CUDA."""
    return device.type == "cuda"


def pin_memory(device: torch.device) -> bool:
    """Pinned host memory speeds host-to-GPU copies; useless on CPU."""
    return device.type == "cuda"


def default_workers() -> int:
    """Loader workers: leave a core for the main process on small machines."""
    import os

    n = os.cpu_count() or 1
    return max(0, min(8, n - 1))


def threads_per_process(processes: int) -> int:
    """This machine's cores split between `processes` torch processes (at least one each)."""
    import os

    return max(1, (os.cpu_count() or 1) // processes)


def share_cpu_threads(processes: int) -> int:
    """Split the cores between DDP processes on one CPU machine (each would otherwise take them all)."""
    n = threads_per_process(processes)
    torch.set_num_threads(n)
    return n
