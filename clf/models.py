"""timm classifiers: creation (scratch, timm hub, local weights, offline Lite0 ImageNet) and their data config."""
from __future__ import annotations

import contextlib
import socket
from collections import OrderedDict
from pathlib import Path

import torch
import torch.nn.functional as F

import clf.archs  # noqa: F401  (registers the CIFAR-stem ResNets with timm)
from common.errors import UserError
from common.lite0 import LITE0_MEAN, LITE0_STD, TIMM_NAME as LITE0_NAME


def create_classifier(name: str, num_classes: int, pretrained: bool = False, weights: str | None = None,
                      lite0_imagenet: bool = False) -> torch.nn.Module:
    """A timm model with a fresh `num_classes` head; backbone from scratch, the hub, a file or Lite0 ImageNet."""
    import timm

    if sum(map(bool, (pretrained, weights, lite0_imagenet))) > 1:
        raise UserError("--pretrained, --weights and --lite0-imagenet are alternatives; give at most one")
    if not timm.is_model(name):
        close = timm.list_models(f"*{name.split('_')[0]}*")[:8]
        raise UserError(f"--model {name!r}: not a timm model name; e.g. {', '.join(close) or 'resnet18'}")
    if lite0_imagenet:
        from common.lite0 import load_lite0_imagenet

        if name != LITE0_NAME:
            raise UserError(f"--lite0-imagenet holds weights for {LITE0_NAME} only, not {name}; drop --model "
                            "or use --pretrained/--weights for other models")
        model = load_lite0_imagenet()
        model.reset_classifier(num_classes)
        return model
    if pretrained:
        return _create_from_hub(name, num_classes)
    model = timm.create_model(name, pretrained=False, num_classes=num_classes)
    if weights:
        load_weights(model, weights)
    return model


def _hub_reachable(timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=timeout):
            return True
    except OSError:
        return False


def _create_from_hub(name: str, num_classes: int) -> torch.nn.Module:
    """timm hub weights; offline, only the local cache is tried, so the command fails fast instead of retrying."""
    import timm

    offline = not _hub_reachable()
    ctx = _hf_offline() if offline else contextlib.nullcontext()
    try:
        with ctx:
            return timm.create_model(name, pretrained=True, num_classes=num_classes)
    except Exception as e:  # hub/network errors come in many types (OSError, HTTPError, LocalEntryNotFoundError)
        why = "no network and not in the local cache" if offline else f"{type(e).__name__}: {str(e)[:120]}"
        raise UserError(f"--pretrained {name}: cannot get timm's hub weights ({why}); use --lite0-imagenet "
                        "(offline ImageNet weights), --weights FILE, or train from scratch") from None


@contextlib.contextmanager
def _hf_offline():
    import huggingface_hub.constants as hc

    old = hc.HF_HUB_OFFLINE
    hc.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        hc.HF_HUB_OFFLINE = old


def _state_dict_of(obj) -> "OrderedDict[str, torch.Tensor]":
    """The model tensors inside a checkpoint: ours (Lightning), timm's, or a bare state dict."""
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict):
        for key in ("state_dict_ema", "state_dict", "model_state_dict", "model"):
            if key in obj and isinstance(obj[key], dict):
                obj = obj[key]
                break
    sd = OrderedDict((k, v) for k, v in obj.items() if isinstance(v, torch.Tensor))
    for prefix in ("model.", "module."):
        if sd and all(k.startswith(prefix) for k in sd):
            sd = OrderedDict((k[len(prefix):], v) for k, v in sd.items())
    return sd


def load_weights(model: torch.nn.Module, path: str) -> None:
    """Load a local checkpoint's weights into `model` (weights only); a head of another class count is skipped."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"--weights {path}: file not found; pass a .pt/.pth/.ckpt/.safetensors checkpoint")
    try:
        if p.suffix == ".safetensors":
            from safetensors.torch import load_file

            obj = load_file(str(p))
        else:
            obj = torch.load(p, map_location="cpu", weights_only=False)  # local, user-chosen file
    except Exception as e:  # corrupt or foreign files raise many types
        raise UserError(f"--weights {path}: cannot read it ({type(e).__name__}); pass a PyTorch checkpoint") from None
    src = _state_dict_of(obj)
    dst = model.state_dict()
    head = {n for n, _ in model.get_classifier().named_parameters(prefix=_classifier_prefix(model))}
    bad = [f"{k} {tuple(v.shape)}≠{tuple(dst[k].shape)}" for k, v in src.items()
           if k in dst and k not in head and v.shape != dst[k].shape]
    missing = [k for k in dst if k not in src and k not in head and not k.endswith("num_batches_tracked")]
    if bad or missing or not src:
        raise UserError(f"--weights {path}: does not fit {type(model).__name__} "
                        f"({'; '.join(bad[:3] + [f'missing {m}' for m in missing[:3]]) or 'no tensors'}); "
                        "pass weights of the same --model")
    keep = {k: v for k, v in src.items() if k in dst and v.shape == dst[k].shape}
    model.load_state_dict(keep, strict=False)


class CosineHead(torch.nn.Linear):
    """LDAM's normed linear layer (kaidic/LDAM-DRW NormedLinear: cosine of features and class weights), times the
    loss's scale s, so the probabilities read at test time are the ones the loss trained."""

    def __init__(self, in_features: int, num_classes: int, scale: float):
        super().__init__(in_features, num_classes, bias=False)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * F.normalize(x, dim=1) @ F.normalize(self.weight, dim=1).t()


def set_head(model: torch.nn.Module, head: dict | None) -> torch.nn.Module:
    """Swap the timm model's linear classifier for the head a run trained with (None or linear: keep it)."""
    if not head or head.get("kind", "linear") == "linear":
        return model
    old = model.get_classifier()
    if not isinstance(old, torch.nn.Linear):
        raise UserError(f"--loss ldam: {type(model).__name__}'s classifier is a {type(old).__name__}, not one linear "
                        "layer, so it has no cosine form; use another loss or model")
    name = _classifier_prefix(model)
    parent = model.get_submodule(name.rpartition(".")[0]) if "." in name else model
    setattr(parent, name.rpartition(".")[2], CosineHead(old.in_features, old.out_features, float(head["scale"])))
    return model


class LogitAdjusted(torch.nn.Module):
    """Post-hoc logit adjustment (Menon et al. 2021): logits - tau * log(training prior), at test time only."""

    def __init__(self, model: torch.nn.Module, shift: torch.Tensor):
        super().__init__()
        self.model = model
        self.register_buffer("shift", shift.view(1, -1).float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x) - self.shift.to(x.device)


def _classifier_prefix(model: torch.nn.Module) -> str:
    clf = model.get_classifier()
    for name, mod in model.named_modules():
        if mod is clf:
            return name
    return ""


def data_config(model: torch.nn.Module, name: str, size: int | None, lite0_imagenet: bool) -> dict:
    """Input size, mean and std for this model: the option, else the model's own (Lite0 ImageNet: 0.5/0.5)."""
    from augment.presets import data_config_for

    cfg = data_config_for(model, size, *((LITE0_MEAN, LITE0_STD) if lite0_imagenet else (None, None)))
    return {"size": cfg["size"], "mean": list(cfg["mean"]), "std": list(cfg["std"]), "arch": name}
