"""Model creation, the Lite0 ImageNet mapping, freezing, local weights, offline --pretrained."""
from __future__ import annotations


import pytest
import torch

from common.errors import UserError


def test_lite0_imagenet_reproduces_daisy_on_flower_photo():
    import timm
    from PIL import Image
    from sklearn.datasets import load_sample_image
    from timm.data import create_transform, resolve_data_config

    from common.lite0 import load_lite0_imagenet

    model = load_lite0_imagenet().eval()
    cfg = resolve_data_config({}, model=model)
    assert cfg["mean"] == (0.5, 0.5, 0.5) and cfg["std"] == (0.5, 0.5, 0.5)
    x = create_transform(**cfg)(Image.fromarray(load_sample_image("flower.jpg"))).unsqueeze(0)
    with torch.no_grad():
        assert model(x).argmax(1).item() == 985  # ImageNet "daisy"
    assert timm.is_model("tf_efficientnet_lite0")


def test_lite0_classifier_has_a_fresh_head_and_imagenet_backbone():
    from clf.models import create_classifier
    from common.lite0 import load_lite0_imagenet

    ref = load_lite0_imagenet()
    m = create_classifier("tf_efficientnet_lite0", 5, lite0_imagenet=True)
    assert m.get_classifier().out_features == 5
    assert torch.equal(m.conv_stem.weight, ref.conv_stem.weight)
    with pytest.raises(UserError, match="lite0"):
        create_classifier("resnet18", 5, lite0_imagenet=True)


def test_unknown_model_and_offline_pretrained_fail_fast(monkeypatch):
    from clf import models

    with pytest.raises(UserError, match="not a timm model"):
        models.create_classifier("no_such_net_xyz", 3)
    import socket

    monkeypatch.setattr(models, "_hub_reachable", lambda timeout=3.0: False)
    connects = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connects.append(a) or (_ for _ in ()).throw(OSError))
    with pytest.raises(UserError, match="--pretrained"):
        models.create_classifier("test_resnet", 3, pretrained=True)
    assert connects == []  # once the hub is known unreachable: cache only, no retry loop against the network


def test_trainable_head_and_last_blocks():
    import timm

    from clf.freeze import trainable_names

    m = timm.create_model("tf_efficientnet_lite0", num_classes=3)
    head = trainable_names(m, "head")
    assert head == {"classifier.weight", "classifier.bias"}
    last2 = trainable_names(m, "last:2")
    assert head < last2 and any(n.startswith("conv_head") for n in last2) and any("blocks.6" in n for n in last2)
    assert not any(n.startswith("blocks.0") for n in last2)
    with pytest.raises(UserError, match="last:"):
        trainable_names(m, "last:99")


def test_frozen_weights_stay_unchanged(toy, tmp_path):
    from clf.train import train
    from tests.clf.conftest import tiny_options

    import timm

    from clf.checkpoint import load_trained

    run = train(tiny_options(toy["train"], tmp_path, trainable="head", epochs=1))
    after = load_trained(run, "last").model.state_dict()
    torch.manual_seed(0)  # the same seed train() used builds the same initial weights
    before = timm.create_model("test_resnet", num_classes=3).state_dict()
    for k, v in before.items():
        if k.startswith("fc."):
            assert not torch.equal(v, after[k]), k  # the head trained
        else:
            assert torch.equal(v, after[k]), k  # weights and BN running stats untouched


def test_weights_file_loads_backbone_and_skips_other_head(trained_run):
    from clf.checkpoint import load_trained
    from clf.models import create_classifier

    ref = load_trained(trained_run).model
    m = create_classifier("test_resnet", 7, weights=str(trained_run / "best.pt"))
    assert torch.equal(m.conv1[0].weight, ref.conv1[0].weight)
    assert m.get_classifier().out_features == 7
    with pytest.raises(UserError, match="does not fit"):
        create_classifier("test_efficientnet", 3, weights=str(trained_run / "best.pt"))


def test_airbench_net_whitens_the_first_training_batch_and_keeps_it():
    """airbench's first layer: after the first training batch its filters whiten that batch's 2x2 patches (unit
    variance along each eigenvector, up to eps); later batches and eval never refit, and a state dict carries it."""
    from clf.models import create_classifier

    m = create_classifier("airbench_cifar", 7)
    assert m.get_classifier().out_features == 7
    x = torch.randn(16, 3, 32, 32) * torch.tensor([3.0, 1.0, 0.2]).view(1, 3, 1, 1)
    m.eval()(x)
    assert not bool(m.whiten.ready)  # eval never fits
    m.train()(x)
    w = m.whiten.weight.clone()
    assert bool(m.whiten.ready)
    out = torch.nn.functional.conv2d(x, w[:12])  # the positive half: one channel per eigenvector
    var = out.permute(1, 0, 2, 3).reshape(12, -1).pow(2).mean(1)
    assert torch.allclose(var[:6], torch.ones(6), atol=0.05)  # the strong directions come out at unit variance
    m(torch.randn(16, 3, 32, 32))
    assert torch.equal(m.whiten.weight, w)
    fresh = create_classifier("airbench_cifar", 7)
    fresh.load_state_dict(m.state_dict())
    assert bool(fresh.whiten.ready) and torch.equal(fresh.whiten.weight, w)


def test_tta_views_shift_one_pixel_each_way_and_mirror():
    from clf.predict import tta_views

    x = torch.arange(2 * 3 * 5 * 5, dtype=torch.float32).view(2, 3, 5, 5)
    views = tta_views(x, ("hflip", "shift"))
    assert len(views) == 6
    up_left, down_right = views[1], views[2]
    assert torch.equal(up_left[..., 1:, 1:], x[..., :-1, :-1])
    assert torch.equal(down_right[..., :-1, :-1], x[..., 1:, 1:])
    assert torch.equal(views[3], x.flip(-1)) and torch.equal(views[4], up_left.flip(-1))
    assert len(tta_views(x, ("hflip", "vflip"))) == 3  # the old views, unchanged


def test_airbench_net_has_timm_blocks_for_partial_training():
    from clf.freeze import trainable_names
    from clf.models import create_classifier

    m = create_classifier("airbench_cifar", 3)
    last1 = trainable_names(m, "last:1")
    assert "fc.weight" in last1 and any(n.startswith("features.2.") for n in last1)
    assert not any(n.startswith(("features.0.", "features.1.", "whiten")) for n in last1)
