"""The mode-collapse watch: which classes it flags, and when."""
import torch

from gen.snapshots import collapsed_classes, mean_pairwise_distance


def test_diversity_is_zero_for_identical_images_and_grows_with_spread():
    x = torch.zeros(4, 3, 8, 8)
    assert mean_pairwise_distance(x) == 0.0
    assert mean_pairwise_distance(torch.randn(4, 3, 8, 8)) > mean_pairwise_distance(0.1 * torch.randn(4, 3, 8, 8))


def test_collapse_is_flagged_after_training_starts_even_if_never_diverse():
    real = {"cat": 0.6, "dog": 0.6}
    fake = {"cat": 0.05, "dog": 0.4}
    assert collapsed_classes(fake, real, peak_div={"cat": 0.05, "dog": 0.4}, trained=True) == ["cat"]
    # Early on (before COLLAPSE_WARMUP steps) near-constant output is expected of an untrained G, not a collapse.
    assert collapsed_classes(fake, real, peak_div={}, trained=False) == []
    # ...unless it fell from a higher peak.
    assert collapsed_classes(fake, real, peak_div={"cat": 0.3}, trained=False) == ["cat"]


def test_coverage_sees_fakes_that_collapse_onto_a_few_reals():
    from gen.variety import coverage_density

    g = torch.Generator().manual_seed(0)
    real = torch.randn(60, 8, generator=g)
    spread = coverage_density(real, real[torch.randperm(60, generator=g)[:30]] + 0.01)
    collapsed = coverage_density(real, real[:1].repeat(30, 1) + 0.01 * torch.randn(30, 8, generator=g))
    assert spread["coverage"] >= 0.4 and collapsed["coverage"] <= 0.1
    assert coverage_density(real[:6], real[:6]) is None  # too few to have 5 neighbours besides itself


def test_a_coverage_fall_is_flagged_only_from_a_meaningful_peak():
    from gen.snapshots import coverage_fallen

    assert coverage_fallen({"cat": 0.1, "dog": 0.5}, {"cat": 0.6, "dog": 0.6}) == ["cat"]
    assert coverage_fallen({"cat": 0.05}, {"cat": 0.15}) == []  # never learned: nothing to fall from


def test_the_watch_flags_a_class_collapsing_onto_one_easy_image(tmp_path):
    """ACGAN's failure: the class stays right, the variety goes. Coverage (judge features) and the flag say so."""
    import json

    from augment.labels import LabelMap
    from gen.data import RealImages, to_float
    from gen.judge import real_features, train_judge
    from gen.options import GanOptions
    from gen.watch import Watch, snapshot

    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (80, 3, 32, 32), dtype=torch.uint8, generator=g)
    targets = torch.arange(80) % 2
    names = ["cat", "dog"]
    net, info = train_judge(images, targets, 2, steps=5)
    watch = Watch(RealImages(images, targets, LabelMap(names)), names, GanOptions(nz=8), "cpu", (net, info),
                  real_features(net, images, targets, names))
    per_class = [to_float(images[targets == k]) for k in range(2)]
    watch.fakes = lambda pairs: [x[:32] for x in per_class]  # as varied as the reals
    assert snapshot(tmp_path, 600, [], watch) == []
    collapsed = [per_class[0][:1].repeat(32, 1, 1, 1), per_class[1][:32]]  # cat: one image, 32 times
    watch.fakes = lambda pairs: collapsed
    assert snapshot(tmp_path, 1200, [], watch) == ["cat"]
    rows = [json.loads(line) for line in (tmp_path / "stats.jsonl").read_text().splitlines()]
    assert rows[0]["coverage"]["cat"] >= 0.2 and rows[1]["coverage"]["cat"] < 0.5 * rows[0]["coverage"]["cat"]
    assert rows[1]["coverage_fallen"] == ["cat"] and "density" in rows[1]
