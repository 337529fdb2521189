"""Generator format 2: conditioning choices, standing statistics, the judge, the projected D, old files refused."""
from __future__ import annotations

import json

import pytest
import torch

from common.errors import UserError
from gen.checkpoint import load_checkpoint, save_checkpoint
from gen.judge import agreement, train_judge
from gen.nets import build_discriminator, build_generator
from gen.sampling import generate, with_standing_stats
from gen.train import train_gan


@pytest.mark.parametrize("cond", ["shared", "cbn"])
def test_both_conditionings_depend_on_class_and_z(cond):
    torch.manual_seed(0)
    G = build_generator(32, nz=16, ngf=4, num_classes=3, cond=cond)
    for m in G.modules():  # move conditional-BN gains off their identity start
        if hasattr(m, "gain"):
            torch.nn.init.normal_(m.gain.weight, 0.5, 0.5)
    G.eval()
    z = torch.randn(2, 16)
    by_class = G(z[:1].repeat(2, 1), torch.tensor([0, 1]))
    by_z = G(z, torch.tensor([2, 2]))
    assert not torch.allclose(by_class[0], by_class[1]) and not torch.allclose(by_z[0], by_z[1])


def test_standing_stats_are_deterministic_and_leave_the_source_alone():
    G = build_generator(32, nz=8, ngf=4, num_classes=2)
    G.train()
    G(torch.randn(4, 8), torch.tensor([0, 1, 0, 1]))  # give the running stats something to differ from
    before = {k: v.clone() for k, v in G.state_dict().items()}
    a = with_standing_stats(G, 8, 2, "cpu", batches=3, batch=8)
    b = with_standing_stats(G, 8, 2, "cpu", batches=3, batch=8)
    assert all(torch.equal(v, G.state_dict()[k]) for k, v in before.items())  # the EMA copy is untouched
    assert torch.equal(a.bn0.bn.running_mean, b.bn0.bn.running_mean)
    assert not torch.equal(a.bn0.bn.running_mean, G.bn0.bn.running_mean)
    x = generate(a, 8, 1, [5, 6], "cpu")
    assert torch.equal(x, generate(b, 8, 1, [5, 6], "cpu")) and not a.training


def test_judge_learns_separable_classes_without_touching_the_global_rng():
    g = torch.Generator().manual_seed(0)
    imgs = torch.randint(0, 60, (60, 3, 16, 16), generator=g, dtype=torch.uint8)
    targets = torch.arange(60) % 3
    for k in range(3):
        imgs[targets == k, k] += 150  # class k: channel k bright
    state = torch.random.get_rng_state()
    net, info = train_judge(imgs, targets, 3, seed=0, steps=60)
    assert torch.equal(state, torch.random.get_rng_state())
    assert info["real_acc"] == 1.0 and info["n_holdout"] == 6
    shares = agreement(net, {k: imgs[targets == k] for k in range(3)})
    assert all(v == 1.0 for v in shares.values())


def test_projected_discriminator_gives_logits_and_trains_only_its_heads():
    D = build_discriminator(32, ndf=8, num_classes=3, arch="projected")
    x = (torch.rand(2, 3, 32, 32) * 2 - 1).requires_grad_()
    out = D(x, torch.tensor([0, 2]))
    assert out.shape[0] == 2 and out.ndim == 2
    out.mean().backward()
    assert x.grad.abs().sum() > 0  # gradients reach G through the frozen features
    assert not any(n.startswith("_feat") for n, _ in D.named_parameters())  # Lite0 is neither saved nor trained
    assert all(p.grad is not None for p in D.discs.parameters() if p.requires_grad)


def test_projected_run_is_not_scored_by_its_own_features(gan_data, tiny_opts, tmp_path):
    from gen.metrics.command import FidOptions, run_fid

    data = gan_data()
    with pytest.raises(UserError, match="--d-arch projected.*inception"):
        train_gan(tiny_opts(data, d_arch="projected", score_every=1, score_extractor="effnet-lite0"))
    run = train_gan(tiny_opts(data, d_arch="projected", steps=1))
    with pytest.raises(UserError, match=r"--gan .*--d-arch projected.*inception"):
        run_fid(FidOptions(real=str(data), gan=str(run), extractor="effnet-lite0", out=str(tmp_path / "m.json")))
    assert not (tmp_path / "m.json").exists()


def test_stats_record_agreement_and_config_the_architecture(gan_data, tiny_opts):
    run = train_gan(tiny_opts(gan_data()))
    rows = [json.loads(x) for x in (run / "stats.jsonl").read_text().splitlines()]
    snap = [r for r in rows if "diversity" in r][-1]
    assert set(snap["agreement"]) == {"cat", "dog"} and 0 <= snap["agreement_mean"] <= 1
    assert "judge_real_acc" in snap and (run / "judge.pt").is_file()
    ck = load_checkpoint(run / "last.pt")
    assert ck["version"] == 2 and ck["arch"]["g_cond"] == "shared" and ck["arch"]["d_arch"] == "dcgan"
    with pytest.raises(UserError, match=r"g_cond 'shared' vs 'cbn'"):
        train_gan(tiny_opts(gan_data(), g_cond="cbn", init_from=str(run)))


def test_max_minutes_ends_the_run_with_a_checkpoint(gan_data, tiny_opts):
    run = train_gan(tiny_opts(gan_data(), steps=1000, max_minutes=1e-9, snapshot_every=500))
    assert load_checkpoint(run / "last.pt")["step"] == 1


def test_an_old_generator_checkpoint_gets_one_clear_line(gan_data, tiny_opts, tmp_path):
    from gen.options import SynthOptions
    from gen.synth import synth

    run = train_gan(tiny_opts(gan_data()))
    ck = torch.load(run / "last.pt", weights_only=True)
    ck["version"] = 1
    ck["arch"] = {k: v for k, v in ck["arch"].items() if k not in ("g_cond", "d_arch")}
    torch.save(ck, run / "last.pt")
    msg = r"old generator \(format 1.*cannot load it; train a new GAN"
    with pytest.raises(UserError, match=msg):
        synth(SynthOptions(gan=str(run), all_classes=True, n=1, out=str(tmp_path / "s")))
    with pytest.raises(UserError, match=msg):
        train_gan(tiny_opts(gan_data(), steps=4, resume=str(run)))
    with pytest.raises(UserError, match=msg):
        train_gan(tiny_opts(gan_data(), init_from=str(run)))
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("input_size, logits", [(64, 3 * 25 + 1), (96, 4 * 9), (224, 4 * 16)])
def test_projected_d_follows_projected_gans_layout_at_every_input_size(input_size, logits):
    """Cross-channel (x1..x8) and cross-scale mixing, fixed; a trainable disc on every mixed map, down to 8 px then a
    4x4 class map (so each map's logit count follows from its size)."""
    D = build_discriminator(32, ndf=8, num_classes=3, arch="projected", proj_size=input_size)
    fixed = {n for n, _ in D.named_buffers() if n.startswith(("ccm", "csm"))}
    assert len(fixed) == 16 and not any(n.startswith(("ccm", "csm")) for n, _ in D.named_parameters())
    assert [D.ccm0_w.shape[0], D.ccm1_w.shape[0], D.ccm2_w.shape[0], D.ccm3_w.shape[0]] == [64, 128, 256, 512]
    assert all(any(isinstance(m, torch.nn.Conv2d) for m in d.modules()) for d in D.discs)  # trainable at every scale
    assert all(hasattr(d, "embed_proj") for d in D.discs)  # embedding, linear + LeakyReLU, then the projection
    assert D(torch.rand(2, 3, 32, 32) * 2 - 1, torch.tensor([0, 2])).shape == (2, logits)


def test_the_projected_input_size_is_an_architecture_and_old_projected_checkpoints_get_one_line(gan_data, tiny_opts,
                                                                                               tmp_path):
    data = gan_data()
    with pytest.raises(UserError, match="--proj-size 100"):
        train_gan(tiny_opts(data, d_arch="projected", proj_size=100))
    run = train_gan(tiny_opts(data, d_arch="projected", steps=1, snapshot_every=1))
    ck = load_checkpoint(run / "last.pt")
    assert ck["arch"]["proj_size"] == 64
    with pytest.raises(UserError, match=r"proj_size 64 vs 96"):
        train_gan(tiny_opts(data, d_arch="projected", proj_size=96, init_from=str(run), out=str(tmp_path / "b")))
    ck["arch"].pop("proj_size")  # as written before the layout changed
    ck.pop("format"), ck.pop("version")
    save_checkpoint(run / "old.pt", ck)
    with pytest.raises(UserError, match="before projected-gan's layout.*its G still samples"):
        train_gan(tiny_opts(data, d_arch="projected", init_from=str(run / "old.pt"), out=str(tmp_path / "c")))
