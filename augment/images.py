"""Reading images as RGB uint8 arrays, whatever their file format or mode."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from common.errors import UserError

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff")


def is_image_file(path: str | Path) -> bool:
    """True when the name has an image extension we read."""
    return Path(path).suffix.lower() in IMAGE_EXTS


def load_rgb(path: str | Path, fix: str = "remove it or pass --skip-bad") -> np.ndarray:
    """Read an image as (H, W, 3) uint8, EXIF orientation applied; grey/RGBA/palette become RGB.

    `fix` ends the error for an unreadable file: a command without --skip-bad (fid) passes its own advice.
    """
    path = Path(path)
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            return np.asarray(to_rgb(im))
    except FileNotFoundError:
        raise UserError(f"{path}: image file not found; fix the path or rebuild the manifest") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise UserError(f"{path}: unreadable or corrupt image ({e}); {fix}") from None


def to_rgb(im: Image.Image) -> Image.Image:
    """Any PIL mode → RGB; transparency is composited on white rather than turned black."""
    if im.mode == "RGB":
        return im
    if im.mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA"):
        im = im.convert("RGBA")
        bg = Image.new("RGB", im.size, (255, 255, 255))
        bg.paste(im, mask=im.getchannel("A"))
        return bg
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.float64)
        hi = arr.max() or 1.0
        im = Image.fromarray((arr * (255.0 / hi)).astype(np.uint8))
    return im.convert("RGB")


def check_image(path: str | Path) -> str | None:
    """Return None when the file is a readable image, else a short reason (for validation reports)."""
    path = Path(path)
    if not path.exists():
        return "missing file"
    if path.stat().st_size == 0:
        return "zero-byte file"
    try:
        with Image.open(path) as im:
            im.verify()
        with Image.open(path) as im:  # verify() leaves the image unusable; decode fully to catch truncation
            im.load()
    except Exception as e:  # PIL raises many types for corrupt data
        return f"unreadable image ({type(e).__name__})"
    return None
