"""Device choice: CUDA (with AMP and pinned memory) when present, CPU otherwise."""
from __future__ import annotations

import torch

from common.errors import UserError


def pick_device(preference: str = "auto") -> torch.device:
    """'auto' -> cuda if available else cpu; 'cpu'/'cuda'/'cuda:1' are honoured or refused clearly."""
    if preference in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(preference)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"--device {preference}: no CUDA GPU is visible; use --device cpu or auto")
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


def share_cpu_threads(processes: int) -> int:
    """Split the cores between DDP processes on one CPU machine (each would otherwise take them all)."""
    import os

    n = max(1, (os.cpu_count() or 1) // processes)
    torch.set_num_threads(n)
    return n
