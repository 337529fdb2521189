"""score() on tiny sets with the fast Lite0 extractor: zero on itself, monotone under degradation, per-class
tables, the real-statistics cache, and clear errors."""
import numpy as np
import pytest
import torch
from PIL import Image

from common.errors import UserError
from gen.metrics import score, score_generator

LITE0 = dict(extractor="effnet-lite0", progress=False)


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNTHMIX_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def smooth(n, size=32, seed=0):
    """Smooth random colour fields: natural-ish images, cheap to make."""
    g = torch.Generator().manual_seed(seed)
    x = torch.nn.functional.interpolate(torch.rand(n, 3, 5, 5, generator=g), size=size, mode="bicubic")
    return (x.clamp(0, 1) * 255).round().to(torch.uint8)


def noisy(x, sigma, seed=1):
    g = torch.Generator().manual_seed(seed)
    return (x.float() + torch.randn(x.shape, generator=g) * sigma).clamp(0, 255).round().to(torch.uint8)


def blurred(x, k):
    if k <= 1:
        return x
    return torch.nn.functional.avg_pool2d(x.float(), k, stride=1, padding=k // 2, count_include_pad=False)[
        ..., :x.shape[-2], :x.shape[-1]].round().to(torch.uint8)


def write_folder(root, groups):
    for label, imgs in groups.items():
        d = root / label if label else root
        d.mkdir(parents=True, exist_ok=True)
        for i, im in enumerate(imgs):
            Image.fromarray(im.permute(1, 2, 0).numpy()).save(d / f"{i:03d}.png")
    return root


def test_set_against_itself_scores_about_zero():
    real = {"a": smooth(12)}
    r = score(real, real, metrics="fid,kid", **LITE0)
    worse = score(real, {"a": noisy(real["a"], 60)}, metrics="fid,kid", **LITE0)
    assert abs(r["fid"]) < 1e-3 * worse["fid"]
    assert abs(r["kid"]) < 0.05 * worse["kid"]
    assert r["extractor_family"] == "effnet-lite0" and r["n_real"] == r["n_fake"] == 12


@pytest.mark.parametrize("degrade,levels", [(noisy, [0, 5, 10, 20]), (blurred, [1, 3, 5, 9])])
def test_scores_grow_as_the_set_is_degraded(degrade, levels):
    real = {"a": smooth(12, seed=4)}
    results = [score(real, {"a": degrade(real["a"], lv)}, metrics="kid,fid", dtype="float32", **LITE0)
               for lv in levels]
    fids = [r["fid"] for r in results]
    kids = [r["kid"] for r in results]
    assert fids == sorted(fids) and len(set(fids)) == len(fids), fids
    assert kids == sorted(kids) and len(set(kids)) == len(kids), kids


def test_per_class_lists_every_class_kid_first(tmp_path):
    real = write_folder(tmp_path / "real", {"cat": smooth(6, seed=1), "dog": smooth(5, seed=2),
                                            "rare": smooth(1, seed=3)})
    fake = write_folder(tmp_path / "fake", {"cat": smooth(6, seed=5), "dog": smooth(4, seed=6)})
    r = score(str(real), str(fake), metrics="kid,fid", per_class=True, n=20, **LITE0)
    rows = {row["class"]: row for row in r["per_class_table"]}
    assert list(rows) == ["cat", "dog", "rare"]
    assert list(rows["cat"])[:4] == ["class", "kid", "kid_std", "fid"]
    assert rows["cat"]["n_real"] == 6 and rows["cat"]["n_fake"] == 6 and rows["dog"]["n_fake"] == 4
    assert rows["cat"]["kid_subset_size"] == 6  # below torch-fidelity's default of 1000
    assert rows["rare"]["kid"] is None and "at least 2" in rows["rare"]["skipped"]
    assert r["n_classes"] == 3 and r["n_classes_scored"] == 2
    assert r["headline_key"] == "kid_cls_mean" and r["protocol"] == "kid10_cls_lite0" and r["n_fake"] == 10


def test_real_statistics_are_cached_and_reused(tmp_path, monkeypatch, cache):
    import augment.images

    real = write_folder(tmp_path / "real", {"a": smooth(10, seed=7)})
    fake = {"a": noisy(smooth(10, seed=7), 30)}  # tensors: only the real side reads files
    reads = []
    orig = augment.images.load_rgb
    monkeypatch.setattr(augment.images, "load_rgb", lambda p, **kw: reads.append(p) or orig(p, **kw))
    first = score(str(real), fake, metrics="fid,kid", **LITE0)
    assert len(set(reads)) == 10 and any(cache.rglob("synthmix-*-features-1280.pt"))
    reads.clear()
    second = score(str(real), fake, metrics="fid,kid", **LITE0)
    assert reads == []  # real images were not decoded again: statistics came from the cache
    assert second["fid"] == pytest.approx(first["fid"], rel=1e-9)
    assert second["kid"] == pytest.approx(first["kid"], rel=1e-9)
    # Changing the real files changes the cache key (content fingerprint).
    write_folder(tmp_path / "real", {"a": smooth(11, seed=8)})
    third = score(str(real), fake, metrics="fid", **LITE0)
    assert third["cache_name"] != first["cache_name"] and third["n_real"] == 11


def test_a_fake_folder_scored_against_two_real_sets_is_decoded_once(tmp_path, monkeypatch, cache):
    import augment.images

    fake = write_folder(tmp_path / "fake", {"a": noisy(smooth(10, seed=7), 30)})
    train = write_folder(tmp_path / "train", {"a": smooth(10, seed=7)})
    test = write_folder(tmp_path / "test", {"a": smooth(10, seed=9)})
    uncached = score(str(test), str(fake), metrics="kid", cache_name=False, **LITE0)
    reads = []
    orig = augment.images.load_rgb
    monkeypatch.setattr(augment.images, "load_rgb", lambda p, **kw: reads.append(p) or orig(p, **kw))
    score(str(train), str(fake), metrics="kid", **LITE0)
    is_fake = [str(p).startswith(str(fake)) for p in reads]
    assert sum(is_fake) >= 10
    reads.clear()
    vs_test = score(str(test), str(fake), metrics="kid", **LITE0)
    is_fake = [str(p).startswith(str(fake)) for p in reads]
    assert len(is_fake) >= 10 and not any(is_fake)  # test reals decoded, fakes came from the cache
    assert vs_test["kid"] == pytest.approx(uncached["kid"], rel=1e-9)


def test_generator_is_scored_without_files_classes_in_proportion():
    real = {"0": smooth(8, size=28, seed=1), "1": smooth(4, size=28, seed=2)}
    asked = []

    def sample_fn(c, n):
        asked.append((c, n))
        return smooth(n, size=32, seed=10 + c)

    r = score_generator(sample_fn, real, metrics=("kid", "fid"), extractor="effnet-lite0", n=12)
    assert r["image_size"] == [32, 32] and r["resize"] == 32  # reals compared at the generator's size
    total = {}
    for c, k in asked[1:]:  # the first call probes the output size
        total[c] = total.get(c, 0) + k
    assert total == {0: 8, 1: 4} and r["n_fake"] == 12
    per = score_generator(sample_fn, real, metrics="kid", extractor="effnet-lite0", n=12, per_class=True)
    assert [row["class"] for row in per["per_class_table"]] == ["0", "1"]


def test_clear_errors(tmp_path):
    a = smooth(4)
    with pytest.raises(UserError, match="needs at least 2"):
        score({"a": a}, {"a": a[:1]}, metrics="kid", **LITE0)
    with pytest.raises(UserError, match="--resize"):
        score({"a": a}, {"a": smooth(4, size=24)}, metrics="kid", **LITE0)
    mixed = write_folder(tmp_path / "mixed", {"a": smooth(2, size=32)})
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(mixed / "a" / "odd.png")
    with pytest.raises(UserError, match="mixed sizes"):
        score(str(mixed), {"a": smooth(3)}, metrics="kid", **LITE0)
    with pytest.raises(UserError, match=r"\(n, 3, H, W\)"):
        score({"a": a}, {"a": a[:, :1]}, metrics="kid", **LITE0)
    with pytest.raises(UserError, match="unknown metric"):
        score({"a": a}, {"a": a}, metrics="fdi", **LITE0)
    # --resize makes mixed sizes comparable.
    r = score(str(mixed), {"a": smooth(3, size=48)}, metrics="kid", resize=32, **LITE0)
    assert r["image_size"] == [32, 32] and r["n_real"] == 3


def test_a_corrupt_image_is_refused_with_a_fix_fid_offers(tmp_path):
    """fid has no --skip-bad: an unreadable fake, decoded only when resized, must not be told to pass it."""
    real = write_folder(tmp_path / "real", {"a": smooth(3)})
    fake = write_folder(tmp_path / "fake", {"a": smooth(3, seed=1)})
    (fake / "a" / "001.png").write_bytes(b"not a png")
    for resize in (32, None):  # decoded in the dataset with --resize, header-read for the size check without
        with pytest.raises(UserError) as e:
            score(str(real), str(fake), metrics="kid", resize=resize, **LITE0)
        assert "001.png: unreadable or corrupt image" in str(e.value) and "--skip-bad" not in str(e.value)
        assert "remove or replace it" in str(e.value)


def test_generator_sampled_once_per_class_so_batches_are_distinct():
    """sample_fn is deterministic (same seeds each call): batches must be slices of one draw, not repeats."""
    from gen.metrics.imagesets import SampledImages

    calls = []

    def sample_fn(c, n):
        calls.append((c, n))
        g = torch.Generator().manual_seed(c)
        return torch.randint(0, 256, (n, 3, 8, 8), dtype=torch.uint8, generator=g)

    labels = [0, 1] * 40
    mod = SampledImages(sample_fn, labels, (8, 8), None, torch.device("cpu"))
    batches = [mod(torch.zeros(16, 1)) for _ in range(5)]
    images = torch.cat(batches).flatten(1)
    assert sorted(calls) == [(0, 40), (1, 40)]
    assert len(torch.unique(images, dim=0)) == 80
