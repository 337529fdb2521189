"""Models timm lacks, registered in timm's registry so `--model` takes them like any other name.

`resnet10_cifar` / `resnet18_cifar`: timm's ResNet with the CIFAR stem of He et al. (2016, section 4.2), a 3x3
stride-1 convolution and no max-pool. timm's ImageNet stem divides a 32 px image by 4 before the first block, which
leaves 1,000 small images too little to learn from scratch; these keep 32 x 32 until layer2. Importing this module
registers them (clf.models and clf.checkpoint do).
"""
from __future__ import annotations

import torch.nn as nn
from timm.models import build_model_with_cfg, generate_default_cfgs, register_model
from timm.models.resnet import BasicBlock, ResNet

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)


class CifarResNet(ResNet):
    """timm's ResNet, its stem a 3x3 stride-1 conv without max-pool (input 32 px -> 4 px before pooling)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # timm's plain stem is 64 wide whatever the stage widths; here it is as wide as the first stage, so layer1
        # needs no 1x1 projection (a narrow net's first block then starts from the stem's own features).
        width = self.layer1[0].conv1.out_channels
        self.conv1 = nn.Conv2d(kwargs.get("in_chans", 3), width, 3, stride=1, padding=1, bias=False)
        self.bn1 = type(self.bn1)(width)
        first = self.layer1[0]
        if first.downsample is not None:
            first.conv1 = nn.Conv2d(width, width, 3, stride=1, padding=1, bias=False)
            first.downsample = None
        for conv in (self.conv1, first.conv1):
            nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")  # timm's init for convs
        self.maxpool = nn.Identity()
        for info in self.feature_info:  # every stage now sits 4x finer than timm's stem leaves it
            info["reduction"] = max(1, info["reduction"] // 4)
            if info["module"] == "act1":
                info["num_chs"] = width


def _cfg(**kwargs) -> dict:
    return {"url": "", "num_classes": 10, "input_size": (3, 32, 32), "pool_size": (4, 4), "crop_pct": 1.0,
            "interpolation": "bicubic", "mean": CIFAR_MEAN, "std": CIFAR_STD, "first_conv": "conv1",
            "classifier": "fc", **kwargs}


default_cfgs = generate_default_cfgs({"resnet10_cifar.untrained": _cfg(), "resnet18_cifar.untrained": _cfg()})


def _create(variant: str, pretrained: bool, **kwargs) -> CifarResNet:
    return build_model_with_cfg(CifarResNet, variant, pretrained, **kwargs)


@register_model
def resnet10_cifar(pretrained: bool = False, **kwargs) -> CifarResNet:
    """ResNet-10 (one basic block per stage), widths 32-256: about 64 MMAC at 32 px, for CPU budgets."""
    return _create("resnet10_cifar", pretrained, **dict(block=BasicBlock, layers=(1, 1, 1, 1),
                                                        channels=(32, 64, 128, 256)), **kwargs)


@register_model
def resnet18_cifar(pretrained: bool = False, **kwargs) -> CifarResNet:
    """The CIFAR ResNet-18 (widths 64-512, 0.56 GMAC at 32 px): the usual GPU recipe."""
    return _create("resnet18_cifar", pretrained, **dict(block=BasicBlock, layers=(2, 2, 2, 2)), **kwargs)
