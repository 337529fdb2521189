"""Albumentations pipelines by name, in one registry from which the CLI's choices are built.

`create_transform(preset, size, is_training, ...)` mirrors timm's flat entry point: options left as None
take the backbone's defaults (`resolve_data_config`) or ImageNet's.
"""
from __future__ import annotations

from typing import Callable

import albumentations as A
import cv2
from albumentations.pytorch import ToTensorV2

from common.errors import UserError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

UPSCALE = {
    "nearest": cv2.INTER_NEAREST,
    "bilinear": cv2.INTER_LINEAR,
    "bicubic": cv2.INTER_CUBIC,
    "area": cv2.INTER_AREA,
    "lanczos": cv2.INTER_LANCZOS4,
}

def interpolation(upscale: str) -> int:
    """The OpenCV flag for an --upscale name; the one place an unknown name is refused."""
    if upscale not in UPSCALE:
        raise UserError(f"--upscale {upscale!r}: unknown; choose one of {', '.join(UPSCALE)}")
    return UPSCALE[upscale]


# name -> builder(size, interpolation) returning the training-time augmentations (before normalisation).
_PRESETS: dict[str, Callable[[int, int], list]] = {}


def register_preset(name: str):
    """Decorator: add an augmentation preset (one entry in one place)."""
    def deco(fn):
        if name in _PRESETS:
            raise ValueError(f"preset {name!r} registered twice")
        _PRESETS[name] = fn
        return fn
    return deco


def list_presets() -> list[str]:
    """Preset names, in registration order (the CLI's choices)."""
    return list(_PRESETS)


@register_preset("none")
def _preset_none(size: int, interp: int) -> list:
    return [A.Resize(size, size, interpolation=interp)]


@register_preset("flip")
def _preset_flip(size: int, interp: int) -> list:
    return [A.Resize(size, size, interpolation=interp), A.HorizontalFlip(p=0.5), A.VerticalFlip(p=0.5)]


@register_preset("basic")
def _preset_basic(size: int, interp: int) -> list:
    # The Simpsons recipe: flips, shift-scale-rotate up to 20 degrees, slight blur.
    return [
        A.Resize(size, size, interpolation=interp),
        A.HorizontalFlip(p=0.5),
        A.Affine(translate_percent=(-0.0625, 0.0625), scale=(0.9, 1.1), rotate=(-20, 20),
                 interpolation=interp, border_mode=cv2.BORDER_REFLECT_101, p=0.7),
        A.GaussianBlur(blur_limit=(3, 3), sigma_limit=(0.1, 0.8), p=0.2),
    ]


@register_preset("heavy")
def _preset_heavy(size: int, interp: int) -> list:
    return [
        A.RandomResizedCrop(size=(size, size), scale=(0.6, 1.0), interpolation=interp),
        A.HorizontalFlip(p=0.5),
        A.Affine(translate_percent=(-0.1, 0.1), scale=(0.85, 1.15), rotate=(-25, 25), shear=(-8, 8),
                 interpolation=interp, border_mode=cv2.BORDER_REFLECT_101, p=0.7),
        A.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.05, p=0.7),
        A.OneOf([A.GaussianBlur(blur_limit=(3, 5)), A.GaussNoise(std_range=(0.02, 0.08))], p=0.4),
        A.CoarseDropout(num_holes_range=(1, 4), hole_height_range=(0.08, 0.2), hole_width_range=(0.08, 0.2),
                        fill=0, p=0.5),
    ]


@register_preset("crop")
def _preset_crop(size: int, interp: int) -> list:
    # The CIFAR recipe (He et al. 2016): pad by an eighth, random crop back, horizontal flip; no rotation or blur,
    # which at 32 px smear the few pixels an object has.
    pad = size + 2 * max(1, size // 8)
    return [
        A.Resize(size, size, interpolation=interp),
        A.PadIfNeeded(pad, pad, border_mode=cv2.BORDER_REFLECT_101),
        A.RandomCrop(size, size),
        A.HorizontalFlip(p=0.5),
    ]


@register_preset("crop_cutout")
def _preset_crop_cutout(size: int, interp: int) -> list:
    # The CIFAR recipe plus Cutout (DeVries & Taylor 2017: one square hole half the image's side, on every image),
    # the regulariser the small-data CIFAR baselines add to pad-and-crop.
    return [*_preset_crop(size, interp),
            A.CoarseDropout(num_holes_range=(1, 1), hole_height_range=(0.5, 0.5), hole_width_range=(0.5, 0.5),
                            fill=0, p=1.0)]


def create_transform(preset: str = "none", size: int = 224, is_training: bool = True,
                     mean: tuple[float, ...] | None = None, std: tuple[float, ...] | None = None,
                     upscale: str = "bicubic", seed: int | None = None) -> A.Compose:
    """The pipeline `preset` (training) or plain resize (eval), then normalise to a float CHW tensor.

    albumentations 2 draws from a generator of its own per Compose (global seeds do not reach it): pass `seed`
    for reproducible augmentation; loaders with workers reseed it per worker (`seed_worker_transform`).
    """
    if preset not in _PRESETS:
        raise UserError(f"unknown augmentation preset {preset!r}; choose one of: {', '.join(_PRESETS)}")
    interp = interpolation(upscale)
    ops = _PRESETS[preset](size, interp) if is_training else _PRESETS["none"](size, interp)
    ops += [A.Normalize(mean=mean or IMAGENET_MEAN, std=std or IMAGENET_STD, max_pixel_value=255.0), ToTensorV2()]
    return A.Compose(ops, seed=seed)


def data_config_for(model, size: int | None = None, mean=None, std=None) -> dict:
    """Size/mean/std: the options, else the timm backbone's (a built model or a model name), else ImageNet's."""
    if isinstance(model, str) and not model:
        model = None  # an empty name means "no backbone", as before
    if model is not None:
        from timm.data import resolve_data_config

        if isinstance(model, str):
            import timm

            try:
                model = timm.create_model(model, pretrained=False, num_classes=0)
            except RuntimeError:
                raise UserError(f"unknown timm model {model!r}; see timm.list_models()") from None
        cfg = resolve_data_config({}, model=model)
        size = size or cfg["input_size"][-1]
        mean = mean or tuple(cfg["mean"])
        std = std or tuple(cfg["std"])
    return {"size": int(size or 224), "mean": tuple(mean or IMAGENET_MEAN), "std": tuple(std or IMAGENET_STD)}


def seed_worker_transform(worker_id: int) -> None:
    """DataLoader worker_init_fn: give each worker's albumentations pipeline its own seed from torch's.

    Forked workers otherwise carry identical copies of the pipeline's generator and apply the same augmentations.
    """
    import torch

    info = torch.utils.data.get_worker_info()
    transform = getattr(info.dataset, "transform", None) if info else None
    if hasattr(transform, "set_random_seed"):
        transform.set_random_seed(torch.initial_seed() % 2**32)
