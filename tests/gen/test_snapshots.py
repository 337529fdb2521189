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
