"""Image sets to score: folders, manifests or tensors, grouped by class, served to torch-fidelity as uint8 CHW.

torch-fidelity batches images, so every image in one call must have the same size: mixed sizes are refused
unless a resize is asked for (shorter side to S, then centre crop, as torch-fidelity's samples_resize_and_crop).
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable, Union

import numpy as np
import torch
from torch.utils.data import Dataset

from common.errors import UserError

# One class's images: file paths, or a uint8 tensor (n, 3, H, W).
Images = Union[list, torch.Tensor]
# What fid can do about an unreadable image: it has no --skip-bad (it scores every image it is given).
CORRUPT_FIX = "remove or replace it, or pass a manifest CSV that leaves it out"


def load_groups(spec, what: str) -> dict[str | None, Images]:
    """Real or fake images as {class name (None when unlabeled): paths or uint8 tensor}.

    `spec`: a class-per-folder (or category/class) dir, a flat dir of images, a manifest/labels CSV, a manifest
    DataFrame, or a dict {class name: paths | uint8 tensor (n, 3, H, W)}.
    """
    import pandas as pd

    if isinstance(spec, dict):
        return {k: (_check_tensor(v, f"{what} images of class {k!r}") if torch.is_tensor(v) else [str(p) for p in v])
                for k, v in spec.items()}
    if torch.is_tensor(spec):
        return {None: _check_tensor(spec, f"{what} images")}
    if isinstance(spec, pd.DataFrame):
        df = spec
    else:
        from augment.manifest import load_manifest

        path = Path(spec)
        if not path.exists():
            raise UserError(f"--{what} {spec}: not found; pass a folder of images or a manifest CSV")
        flat = path.is_dir() and not any(p.is_dir() and not p.name.startswith(".") for p in path.iterdir())
        df = load_manifest(path, unlabeled=flat, encoding_option=None)  # fid has no --encoding to advise
    if len(df) == 0:
        raise UserError(f"--{what} {spec}: no images; pass a folder of images or a manifest CSV")
    groups: dict[str | None, list] = {}
    for p, lab in zip(df["path"], df["label"]):
        lab = None if lab is None or lab != lab else str(lab)  # NaN -> unlabeled
        groups.setdefault(lab, []).append(str(p))
    return groups


def _check_tensor(t: torch.Tensor, what: str) -> torch.Tensor:
    if t.dtype != torch.uint8:
        raise UserError(f"{what}: dtype {t.dtype}, expected uint8 in [0, 255]; convert with "
                        "`((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)`")
    if t.dim() != 4 or t.shape[1] != 3:
        raise UserError(f"{what}: shape {tuple(t.shape)}, expected (n, 3, H, W) RGB; "
                        "grey images need `.repeat(1, 3, 1, 1)`")
    return t.cpu()


def pooled(groups: dict[str | None, Images]) -> Images:
    """All classes together (paths concatenated or tensors stacked)."""
    items = list(groups.values())
    if all(torch.is_tensor(v) for v in items):
        return torch.cat(items) if len(items) > 1 else items[0]
    if any(torch.is_tensor(v) for v in items):
        raise UserError("an image set mixes files and tensors; pass one kind")
    return [p for v in items for p in v]


def image_sizes(images: Images) -> set[tuple[int, int]]:
    """Distinct (H, W) of a set, from file headers (no full decode), EXIF rotation honoured."""
    if torch.is_tensor(images):
        return {tuple(images.shape[-2:])}
    from PIL import Image, UnidentifiedImageError

    sizes = set()
    for p in images:
        try:
            with Image.open(p) as im:
                w, h = im.size
                if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):  # rotated by 90 degrees on load
                    w, h = h, w
        except FileNotFoundError:
            raise UserError(f"{p}: image file not found; fix the path or rebuild the manifest") from None
        except (UnidentifiedImageError, OSError) as e:
            raise UserError(f"{p}: unreadable or corrupt image ({e}); {CORRUPT_FIX}") from None
        sizes.add((h, w))
    return sizes


def check_sizes(named_sets: dict[str, Images], resize: int | None) -> tuple[int, int]:
    """The common (H, W) after optional resize; one clear error when sizes are mixed."""
    if resize is not None:
        if resize < 8:
            raise UserError(f"--resize {resize}: too small; use the GAN's resolution, e.g. 32 or 64")
        return resize, resize
    found: dict[tuple[int, int], str] = {}
    for name, images in named_sets.items():
        for s in image_sizes(images):
            found.setdefault(s, name)
    if len(found) != 1:
        listed = ", ".join(f"{h}x{w} ({name})" for (h, w), name in list(found.items())[:4])
        raise UserError(f"images have mixed sizes: {listed}; pass --resize S (resize= in Python) to resize and "
                        "centre-crop every image to S px, e.g. the GAN's resolution")
    return next(iter(found))


def fingerprint(images: Images, extra: str = "") -> str:
    """A short hash of a set's content identity (paths + sizes + mtimes, or tensor bytes) for cache names."""
    h = hashlib.sha1(extra.encode())
    if torch.is_tensor(images):
        h.update(str(tuple(images.shape)).encode())
        h.update(np.ascontiguousarray(images.numpy()).tobytes())
    else:
        for p in sorted(images):
            st = Path(p).stat()
            h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:12]


def subset(images: Images, n: int, seed: int) -> Images:
    """At most n images, a seeded random choice (all when there are fewer)."""
    if len(images) <= n:
        return images
    idx = np.sort(np.random.RandomState(seed).choice(len(images), n, replace=False))
    return images[torch.from_numpy(idx)] if torch.is_tensor(images) else [images[i] for i in idx]


class UInt8Images(Dataset):
    """Items are uint8 (3, H, W) tensors, as torch-fidelity expects; files are read with augment's load_rgb."""

    def __init__(self, images: Images, resize: int | None = None):
        self.images = images
        self.resize = resize

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        if torch.is_tensor(self.images):
            x = self.images[i]
        else:
            from augment.images import load_rgb

            rgb = load_rgb(self.images[i], fix=CORRUPT_FIX)
            x = torch.from_numpy(np.array(rgb)).permute(2, 0, 1).contiguous()  # a writable copy
        return _resize_crop(x, self.resize) if self.resize else x


def _resize_crop(x: torch.Tensor, size: int) -> torch.Tensor:
    import torchvision.transforms.v2.functional as TF

    if tuple(x.shape[-2:]) == (size, size):
        return x
    x = TF.resize(x, size, antialias=True)
    return TF.center_crop(x, [size, size])


class SampledImages(torch.nn.Module):
    """A generator behind torch-fidelity's GenerativeModelModuleWrapper, with the classes fixed inside.

    torch-fidelity 0.4.0 crashes on conditional wrappers (num_classes > 0 uses the removed `np.int`), so the
    wrapper sees an unconditional model (num_classes=0) and this module serves `labels` in order: each call
    takes the next len(z) labels. Each class's images are drawn with ONE `sample_fn(class_index, total)` call and
    handed out in slices, because sample functions are deterministic (same seeds on every call): drawing per batch
    would score the first batch over and over.
    """

    def __init__(self, sample_fn: Callable[[int, int], torch.Tensor], labels: list[int], size: tuple[int, int],
                 resize: int | None, device: torch.device):
        super().__init__()
        self.sample_fn, self.labels, self.size, self.resize, self.device = sample_fn, labels, size, resize, device
        self.cursor = 0
        self.pool: dict[int, torch.Tensor] = {}
        self.taken: dict[int, int] = {}

    def _draw(self, c: int) -> torch.Tensor:
        total = sum(1 for lab in self.labels if lab == c)
        x = _check_tensor(self.sample_fn(c, total), f"sample_fn({c}, {total})")
        if len(x) != total:
            raise UserError(f"sample_fn({c}, {total}) returned {len(x)} images; it must return exactly n")
        if self.resize:
            x = _resize_crop(x, self.resize)
        if tuple(x.shape[-2:]) != tuple(self.size):
            raise UserError(f"sample_fn({c}, ...) returned {tuple(x.shape[-2:])} images, earlier "
                            f"{tuple(self.size)}; a generator must keep one size")
        return x

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        k = z.shape[0]
        labels = self.labels[self.cursor:self.cursor + k]
        self.cursor += k
        out = torch.empty((k, 3, *self.size), dtype=torch.uint8)
        for c in sorted(set(labels)):
            if c not in self.pool:
                self.pool[c], self.taken[c] = self._draw(c), 0
            where = [i for i, lab in enumerate(labels) if lab == c]
            start = self.taken[c]
            out[where] = self.pool[c][start:start + len(where)]
            self.taken[c] = start + len(where)
        return out.to(self.device)
