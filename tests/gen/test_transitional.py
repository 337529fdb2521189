"""Transitional conditioning (transitional-cGAN): the GAN starts unconditional and the class comes in on a ramp."""
import json

import pytest
import torch

from common.errors import UserError
from gen.nets import build_discriminator, build_generator
from gen.train import train_gan, transition_weight


def test_the_ramp_is_zero_before_its_start_linear_between_and_one_after():
    assert [transition_weight(s, 10, 20) for s in (0, 10, 15, 19, 20, 99)] == [0, 0, 0.5, 0.9, 1, 1]


def test_at_weight_zero_neither_g_nor_the_discriminators_loss_depends_on_the_class():
    from gen.gan import GanPair

    torch.manual_seed(0)
    G = build_generator(32, nz=16, ngf=4, num_classes=3, transitional=True).eval()
    D = build_discriminator(32, ndf=4, num_classes=3, transitional=True).eval()  # no power iteration per call
    z, y0, y1 = torch.randn(4, 16), torch.zeros(4, dtype=torch.long), torch.full((4,), 2)
    G.transition.fill_(0.0)
    assert torch.equal(G(z, y0), G(z, y1))
    G.transition.fill_(1.0)
    assert not torch.allclose(G(z, y0), G(z, y1))
    x = torch.randn(4, 3, 32, 32)
    a, b = D(x, y0), D(x, y1)
    assert a.shape == (4, 2) and torch.equal(a[:, 0], b[:, 0]) and not torch.allclose(a[:, 1], b[:, 1])
    pair = GanPair.__new__(GanPair)
    pair.loss = "hinge"
    fake = D(torch.randn(4, 3, 32, 32), y0)
    # unconditional + lam * conditional hinge: at lam 0 the class does not enter; at 1 it does
    assert torch.equal(pair._d_adv(a, fake, 0.0)[0], pair._d_adv(b, fake, 0.0)[0])
    assert not torch.equal(pair._d_adv(a, fake, 1.0)[0], pair._d_adv(b, fake, 1.0)[0])


def test_a_transitional_run_ramps_its_weight_samples_at_it_and_refuses_a_changed_ramp(gan_data, tiny_opts, tmp_path):
    from gen.options import SynthOptions
    from gen.synth import synth

    data = gan_data()
    run = train_gan(tiny_opts(data, steps=4, transition_start=0, transition_end=4))
    rows = [r for r in map(json.loads, (run / "stats.jsonl").read_text().splitlines()) if "loss_d" in r]
    assert [r["transition"] for r in rows] == [0.0, 0.25, 0.5, 0.75]
    ck = torch.load(run / "last.pt", weights_only=False)
    assert ck["arch"]["transitional"] and ck["models"][0]["G_ema"]["transition"].item() == 0.75
    df = synth(SynthOptions(gan=str(run), all_classes=True, n=2, out=str(tmp_path / "s")))
    assert len(df) == 4  # the sampler rebuilds the transitional G from the checkpoint
    with pytest.raises(UserError, match=r"cannot resume.*transition_end"):
        train_gan(tiny_opts(data, steps=6, transition_start=0, transition_end=8, resume=str(run)))
    with pytest.raises(UserError, match="must come after --transition-start"):
        train_gan(tiny_opts(data, transition_start=5, transition_end=5))
    with pytest.raises(UserError, match="built for the conditional GAN"):
        train_gan(tiny_opts(data, transition_end=4, g_cond="cbn"))
