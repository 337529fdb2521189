"""Models timm lacks, registered in timm's registry so `--model` takes them like any other name.

`resnet10_cifar` / `resnet18_cifar`: timm's ResNet with the CIFAR stem of He et al. (2016, section 4.2), a 3x3
stride-1 convolution and no max-pool. timm's ImageNet stem divides a 32 px image by 4 before the first block, which
leaves 1,000 small images too little to learn from scratch; these keep 32 x 32 until layer2. Importing this module
registers them (clf.models and clf.checkpoint do).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
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


class _Whiten(nn.Module):
    """airbench's first layer: a 2x2 conv whose filters whiten the image's 2x2 patches (their covariance's
    eigenvectors / sqrt(eigenvalues), each with its negative), frozen; only the bias trains.

    airbench computes the filters from 5,000 training images before training; a registry model has no data, so they
    are computed from the first training batch it sees (a buffer with a `ready` flag: checkpoints, resume and predict
    keep them and never recompute)."""

    def __init__(self, in_chans: int = 3, kernel: int = 2, eps: float = 5e-4):
        super().__init__()
        n = in_chans * kernel * kernel
        self.register_buffer("weight", nn.init.kaiming_normal_(torch.empty(2 * n, in_chans, kernel, kernel)))
        self.bias = nn.Parameter(torch.zeros(2 * n))
        self.register_buffer("ready", torch.zeros((), dtype=torch.bool))
        self.eps = eps
        self._seen_ready = False  # read the buffer once, not every step (on a GPU each read is a host sync)

    @property
    def out_channels(self) -> int:
        return self.weight.shape[0]

    @torch.no_grad()
    def fit(self, x: torch.Tensor) -> None:
        """Set the filters from the patches of a batch (airbench's init_whitening_conv)."""
        c, k = self.weight.shape[1], self.weight.shape[2]
        patches = x.float().unfold(2, k, 1).unfold(3, k, 1).transpose(1, 3).reshape(-1, c * k * k)
        cov = patches.T @ patches / len(patches)
        evals, evecs = torch.linalg.eigh(cov)
        evals, evecs = evals.flip(0).view(-1, 1, 1, 1), evecs.T.reshape(c * k * k, c, k, k).flip(0)
        scaled = evecs / torch.sqrt(evals.clamp_min(0) + self.eps)
        self.weight.copy_(torch.cat((scaled, -scaled)).to(self.weight))
        self.ready.fill_(True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and not self._seen_ready:
            if not bool(self.ready):
                self.fit(x)
            self._seen_ready = True
        return F.conv2d(x, self.weight.to(x.dtype), self.bias.to(x.dtype))


def _conv(cin: int, cout: int) -> nn.Conv2d:
    conv = nn.Conv2d(cin, cout, 3, padding="same", bias=False)
    nn.init.dirac_(conv.weight.data[: min(cin, cout)])  # airbench: the first filters start as the identity
    return conv


class _ConvGroup(nn.Sequential):
    """conv, max-pool, BN, GELU, conv, BN, GELU (airbench's ConvGroup)."""

    def __init__(self, cin: int, cout: int):
        super().__init__(_conv(cin, cout), nn.MaxPool2d(2), nn.BatchNorm2d(cout), nn.GELU(),
                         _conv(cout, cout), nn.BatchNorm2d(cout), nn.GELU())


class _ScaledLinear(nn.Linear):
    """airbench's bias-free head with its logits scaled (1/9): the scale is the head's, so a head swapped in for
    another loss (LDAM's cosine head, clf.models.set_head) replaces it too."""

    def __init__(self, in_features: int, num_classes: int, scale: float):
        super().__init__(in_features, num_classes, bias=False)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) * self.scale


class AirbenchNet(nn.Module):
    """KellerJordan/cifar10-airbench's airbench94 network (legacy/airbench94.py make_net): the whitening layer,
    three conv groups, a 3x3 max-pool and a bias-free linear head whose logits are scaled by 1/9.

    Left out: its frozen BN weights (BN trains both here, as everywhere in timm), its lookahead averaging and the
    whitening bias's freeze after 3 epochs (the training loop's, not the network's)."""

    def __init__(self, widths=(64, 256, 256), num_classes: int = 10, in_chans: int = 3, scale: float = 1 / 9,
                 **kwargs):
        super().__init__()
        self.whiten = _Whiten(in_chans)
        chans = [self.whiten.out_channels, *widths]
        self.features = nn.Sequential(*[_ConvGroup(a, b) for a, b in zip(chans, chans[1:])])
        self.num_features = widths[-1]
        self.scale = scale
        self.reset_classifier(num_classes)

    def get_classifier(self) -> nn.Module:
        return self.fc

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        self.fc = _ScaledLinear(self.num_features, num_classes, self.scale) if num_classes else nn.Identity()

    def group_matcher(self, coarse: bool = False) -> dict:
        """timm's parameter groups (--trainable last:K): the whitening layer, then each conv group."""
        return {"stem": r"^whiten", "blocks": r"^features\.(\d+)"}

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(F.gelu(self.whiten(x)))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = F.adaptive_max_pool2d(x, 1).flatten(1)  # airbench's MaxPool2d(3) on its 3x3 map, at any input size
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


default_cfgs.update(generate_default_cfgs({"airbench_cifar.untrained": _cfg(first_conv="whiten", classifier="fc",
                                                                            pool_size=(3, 3))}))


@register_model
def airbench_cifar(pretrained: bool = False, **kwargs) -> AirbenchNet:
    """airbench94's network (widths 64-256-256, about 0.2 GMAC at 32 px; its frozen first layer fitted to the first
    training batch): the field's fastest CIFAR-10 recipe's net, for training from scratch."""
    return build_model_with_cfg(AirbenchNet, "airbench_cifar", pretrained, **kwargs)
