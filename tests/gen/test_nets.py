"""The DCGAN family: output shapes at every resolution, conditional and not; one step changes the weights."""
from __future__ import annotations

import pytest
import torch

from gen.diffaug import diff_augment, parse_policy
from gen.gan import GanPair
from gen.nets import RESOLUTIONS, build_discriminator, build_generator
from common.errors import UserError


@pytest.mark.parametrize("size", RESOLUTIONS)
@pytest.mark.parametrize("num_classes", [0, 3])
def test_shapes_each_resolution_and_mode(size, num_classes):
    G = build_generator(size, nz=8, ngf=4, num_classes=num_classes)
    D = build_discriminator(size, ndf=4, num_classes=num_classes)
    y = torch.tensor([0, 2]) if num_classes else None
    x = G(torch.randn(2, 8), y)
    assert x.shape == (2, 3, size, size)
    assert x.min() >= -1 and x.max() <= 1
    assert D(x, y).shape == (2,)


def test_unsupported_size_is_refused():
    with pytest.raises(UserError, match="--size 48"):
        build_generator(48, nz=8, ngf=4, num_classes=0)


def test_conditional_generator_depends_on_class():
    G = build_generator(32, nz=8, ngf=4, num_classes=2)
    for bn in G.modules():  # move the class gains away from their identity init
        if hasattr(bn, "gain") and isinstance(bn.gain, torch.nn.Embedding):
            torch.nn.init.normal_(bn.gain.weight, 1.0, 0.5)
    G.eval()
    z = torch.randn(1, 8).repeat(2, 1)
    a, b = G(z, torch.tensor([0, 1]))
    assert not torch.allclose(a, b)


def test_diffaug_policy_parsing_and_gradients():
    assert parse_policy("none") == ()
    assert parse_policy("color,cutout") == ("color", "cutout")
    with pytest.raises(UserError, match="unknown part flip"):
        parse_policy("color,flip")
    x = torch.randn(3, 3, 32, 32, requires_grad=True)
    out = diff_augment(x, parse_policy("color,translation,cutout"))
    out.sum().backward()
    assert out.shape == x.shape and x.grad.abs().sum() > 0


@pytest.mark.parametrize("loss", ["hinge", "ns"])
@pytest.mark.parametrize("num_classes", [0, 3])
def test_one_step_changes_weights(loss, num_classes):
    from timm.utils import ModelEmaV3

    torch.manual_seed(0)
    G = build_generator(32, nz=8, ngf=4, num_classes=num_classes)
    D = build_discriminator(32, ndf=4, num_classes=num_classes)
    ema = ModelEmaV3(G, decay=0.999, use_warmup=True)
    pair = GanPair(G, D, torch.optim.Adam(G.parameters(), 1e-3), torch.optim.Adam(D.parameters(), 1e-3), G, D, ema,
                   loss, parse_policy("color,translation,cutout"), 8, num_classes > 0)
    before_g = [p.detach().clone() for p in G.parameters()]
    before_d = [p.detach().clone() for p in D.parameters()]
    y = torch.tensor([0, 1, 2, 1]) if num_classes else None
    stats = pair.train_step([(torch.rand(4, 3, 32, 32) * 2 - 1, y)], step=0)
    assert set(stats) == {"loss_d", "loss_g", "d_real", "d_fake"}
    # 0-d tensors, off the graph: the loop reads them once per log interval, not every step (no host sync)
    assert all(isinstance(v, torch.Tensor) and v.dim() == 0 and not v.requires_grad for v in stats.values())
    assert any(not torch.equal(a, b) for a, b in zip(before_g, G.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(before_d, D.parameters()))
    assert all(p.requires_grad for p in D.parameters())  # D unfrozen again after the G step


def test_the_biggan_embedding_init_starts_the_class_small():
    torch.manual_seed(0)
    default = build_generator(32, nz=32, ngf=4, num_classes=3).shared.weight
    biggan = build_generator(32, nz=32, ngf=4, num_classes=3, embed_init="biggan").shared.weight
    assert 0.8 < default.std() < 1.2 and 0.015 < biggan.std() < 0.025
