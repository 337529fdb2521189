"""Augmentation presets: registry, output shape/dtype/range, model-derived data config."""
import numpy as np
import pytest
import torch

from augment.datasets import ManifestDataset, class_balanced_weights, class_weights
from augment.labels import LabelMap
from augment.manifest import load_manifest
from augment.presets import UPSCALE, create_transform, data_config_for, list_presets
from common.errors import UserError


def test_registry_holds_the_documented_presets():
    assert list_presets()[:5] == ["none", "flip", "basic", "heavy", "crop"]


@pytest.mark.parametrize("preset", ["none", "flip", "basic", "heavy", "crop"])
@pytest.mark.parametrize("training", [True, False])
def test_every_preset_gives_normalised_chw_float(preset, training):
    img = np.random.default_rng(0).integers(0, 256, (20, 28, 3), dtype=np.uint8)
    t = create_transform(preset, 32, is_training=training, mean=(0.5,) * 3, std=(0.5,) * 3)
    out = t(image=img)["image"]
    assert out.shape == (3, 32, 32) and out.dtype == torch.float32
    assert -1.0 - 1e-6 <= float(out.min()) and float(out.max()) <= 1.0 + 1e-6


def test_flip_only_flips():
    img = np.arange(4 * 4 * 3, dtype=np.uint8).reshape(4, 4, 3) * 5
    t = create_transform("flip", 4, mean=(0,) * 3, std=(1,) * 3, upscale="nearest")
    seen = set()
    for _ in range(40):
        out = (t(image=img)["image"].numpy().transpose(1, 2, 0) * 255).round().astype(np.uint8)
        candidates = {"id": img, "h": img[:, ::-1], "v": img[::-1], "hv": img[::-1, ::-1]}
        match = [k for k, c in candidates.items() if np.array_equal(out, c)]
        assert match, "flip preset produced something other than a flip"
        seen.add(match[0])
    assert len(seen) >= 3


def test_crop_shifts_by_at_most_an_eighth_and_may_flip():
    """The CIFAR recipe: every output is the input moved by at most size/8 pixels (reflected in), maybe mirrored."""
    img = np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    t = create_transform("crop", 16, mean=(0,) * 3, std=(1,) * 3, upscale="nearest", seed=0)
    pad = np.pad(img, ((2, 2), (2, 2), (0, 0)), mode="reflect")
    views = {(dy, dx, f): (pad[dy:dy + 16, dx:dx + 16][:, ::-1] if f else pad[dy:dy + 16, dx:dx + 16])
             for dy in range(5) for dx in range(5) for f in (0, 1)}
    seen = set()
    for _ in range(60):
        out = (t(image=img)["image"].numpy().transpose(1, 2, 0) * 255).round().astype(np.uint8)
        match = [k for k, v in views.items() if np.array_equal(out, v)]
        assert match, "crop produced something other than a shifted (flipped) copy"
        seen.add(match[0])
    assert len({k[:2] for k in seen}) > 5 and {k[2] for k in seen} == {0, 1}


def test_eval_transform_is_deterministic():
    img = np.random.default_rng(1).integers(0, 256, (10, 10, 3), dtype=np.uint8)
    t = create_transform("heavy", 16, is_training=False)
    assert torch.equal(t(image=img)["image"], t(image=img)["image"])


@pytest.mark.parametrize("upscale", list(UPSCALE))
def test_upscale_choices(upscale):
    img = np.zeros((8, 8, 3), np.uint8)
    assert create_transform("none", 24, upscale=upscale)(image=img)["image"].shape == (3, 24, 24)


def test_unknown_names_are_refused():
    with pytest.raises(UserError, match="unknown augmentation preset 'extreme'; choose one of: none, flip"):
        create_transform("extreme", 32)
    with pytest.raises(UserError, match="--upscale"):
        create_transform("none", 32, upscale="magic")


def test_data_config_from_timm_backbone_and_from_options():
    cfg = data_config_for("tf_efficientnet_lite0")
    assert cfg["size"] == 224 and cfg["mean"] == (0.5, 0.5, 0.5)
    assert data_config_for(None, size=64)["size"] == 64
    with pytest.raises(UserError, match="unknown timm model"):
        data_config_for("no_such_net_v9")


def test_dataset_and_balanced_weights(make_folder):
    df = load_manifest(make_folder({"a": 6, "b": 2}))
    lm = LabelMap.from_labels(df["label"])
    ds = ManifestDataset(df, lm, create_transform("none", 16))
    x, y = ds[7]
    assert x.shape == (3, 16, 16) and y == 1
    w = class_balanced_weights(ds.targets)
    assert torch.isclose(w[torch.tensor(ds.targets) == 0].sum(), w[torch.tensor(ds.targets) == 1].sum())
    cw = class_weights(ds.targets, 2)
    assert cw[1] > cw[0]


def test_seeded_transform_repeats_and_seeds_differ():
    img = np.random.default_rng(2).integers(0, 256, (24, 24, 3), dtype=np.uint8)
    run = lambda seed: [create_transform("heavy", 16, seed=seed)(image=img)["image"] for _ in range(3)]
    a, b, c = run(7), run(7), run(8)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not all(torch.equal(x, y) for x, y in zip(a, c))


def test_crop_cutout_blanks_one_square_half_the_side_on_every_image():
    """Cutout: each output has exactly one zeroed square of side size/2 (whole, inside the image)."""
    img = np.full((16, 16, 3), 200, dtype=np.uint8)
    t = create_transform("crop_cutout", 16, mean=(0,) * 3, std=(1,) * 3, upscale="nearest", seed=0)
    corners = set()
    for _ in range(20):
        hole = (t(image=img)["image"].numpy()[0] == 0)
        ys, xs = np.nonzero(hole)
        assert hole.sum() == 64 and ys.max() - ys.min() == 7 and xs.max() - xs.min() == 7
        corners.add((ys.min(), xs.min()))
    assert len(corners) > 3  # the hole moves
