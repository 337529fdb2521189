"""Issue 19's class signal and D strength: class heads (ACGAN, ReACGAN's D2D-CE), D steps, fused D calls."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from common.errors import UserError
from gen.checkpoint import load_checkpoint, save_checkpoint
from gen.diffaug import parse_policy
from gen.gan import GanPair
from gen.losses import d2d_cross_entropy
from gen.nets import build_discriminator, build_generator
from gen.train import train_gan


def _studiogan_d2dce(embed, proxy, label, num_classes, temperature=0.5, m_p=0.98):
    """PyTorch-StudioGAN's Data2DataCrossEntropyLoss.forward (src/utils/losses.py), its numpy masks as written."""
    def remove_diag(M):
        h, w = M.shape
        mask = torch.from_numpy(np.ones((h, w)) - np.eye(h)).type(torch.bool)
        return M[mask].view(h, -1)

    labels = label.numpy()
    mask_multi = np.ones([num_classes, labels.shape[0]])
    for c in range(num_classes):
        mask_multi[c, np.where(labels == c)] = 0.0
    cos = torch.nn.CosineSimilarity(dim=-1)
    sim_matrix = cos(embed.unsqueeze(1), embed.unsqueeze(0)) + m_p - 1
    sim_matrix = remove_diag(sim_matrix / temperature)
    sim_max, _ = torch.max(sim_matrix, dim=1, keepdim=True)
    sim_matrix = F.relu(sim_matrix) - sim_max.detach()
    smp2proxy = cos(embed, proxy)
    removal_fn = remove_diag(torch.tensor(mask_multi).long()[label])
    improved = removal_fn * torch.exp(sim_matrix)
    pos_attr = F.relu((m_p - smp2proxy) / temperature)
    neg_repul = torch.log(torch.exp(-pos_attr) + improved.sum(dim=1))
    return (pos_attr + neg_repul).mean()


def test_d2d_cross_entropy_matches_the_reference():
    g = torch.Generator().manual_seed(0)
    embed = F.normalize(torch.randn(12, 16, generator=g), dim=1)
    proxy = F.normalize(torch.randn(12, 16, generator=g), dim=1)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 0, 3, 3, 1, 2])
    ours = d2d_cross_entropy(embed, proxy, y)
    assert torch.allclose(ours, _studiogan_d2dce(embed, proxy, y, 4).float(), atol=1e-5)


def test_real_and_fake_through_one_d_call_is_the_same_math():
    torch.manual_seed(0)
    D = build_discriminator(32, ndf=8, num_classes=3).eval()  # eval: no spectral-norm power iteration
    real, fake = torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32)
    y = torch.tensor([0, 1, 2, 1])
    both = D(torch.cat([real, fake]), torch.cat([y, y]))
    assert torch.allclose(both, torch.cat([D(real, y), D(fake, y)]), atol=1e-5)


def _pair(class_loss="none", d_arch="dcgan", **kw):
    from timm.utils import ModelEmaV3

    torch.manual_seed(0)
    G = build_generator(32, nz=8, ngf=4, num_classes=3)
    D = build_discriminator(32, ndf=4, num_classes=3, arch=d_arch, class_head=class_loss)
    ema = ModelEmaV3(G, decay=0.999, use_warmup=True)
    opt_g, opt_d = torch.optim.Adam(G.parameters(), 1e-3), torch.optim.Adam(D.parameters(), 1e-3)
    return GanPair(G, D, opt_g, opt_d, G, D, ema, "hinge", parse_policy("translation,cutout"), 8, True,
                   class_loss=class_loss, **kw)


def _batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(6, 3, 32, 32, generator=g) * 2 - 1, torch.tensor([0, 1, 2, 0, 1, 2])


@pytest.mark.parametrize("d_arch", ["dcgan", "projected"])
@pytest.mark.parametrize("class_loss", ["ac", "d2dce"])
def test_a_class_head_trains_on_reals_and_reports_d_class_accuracy(class_loss, d_arch):
    pair = _pair(class_loss, d_arch)
    assert pair.fuse == (d_arch == "dcgan")  # the projected D's scale heads hold batch norm
    head = [p.detach().clone() for p in pair.D_raw.class_head.parameters()]
    stats = pair.train_step([_batch()], step=0)
    assert {"class_d", "class_g", "class_acc_real", "class_acc_fake"} <= set(stats)
    assert all(0 <= float(stats[k]) <= 1 for k in ("class_acc_real", "class_acc_fake"))
    assert all(v.dim() == 0 and not v.requires_grad for v in stats.values())
    assert any(not torch.equal(a, b) for a, b in zip(head, pair.D_raw.class_head.parameters()))


def test_several_d_steps_each_take_their_batch():
    pair = _pair()
    pair.train_step([_batch(0), _batch(1), _batch(2)], step=0)
    d_state = next(iter(pair.opt_d.state.values()))
    g_state = next(iter(pair.opt_g.state.values()))
    assert int(d_state["step"]) == 3 and int(g_state["step"]) == 1


def test_the_sampler_draws_a_fresh_batch_per_d_step_and_keeps_the_first():
    from gen.data import StepSampler

    s = StepSampler(torch.arange(40) % 4, batch=8, seed=0)
    first, second = s.indices(5, None, 0), s.indices(5, None, 1)
    assert not np.array_equal(first, second)
    assert np.array_equal(first, s.indices(5))  # one D step draws exactly what it always drew


def test_class_loss_run_resume_and_old_checkpoints(gan_data, tiny_opts, tmp_path):
    data = gan_data({"cat": 6, "dog": 6})
    run = train_gan(tiny_opts(data, class_loss="d2dce", class_weight=0.5, d_steps=2, real_flip=True, steps=2))
    rows = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    assert all("class_acc_real" in r and "class_acc_fake" in r for r in rows if "loss_d" in r)
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["options"]["class_loss"] == "d2dce" and cfg["options"]["d_steps"] == 2 and cfg["arch"]["class_loss"]
    resumed = train_gan(tiny_opts(data, class_loss="d2dce", class_weight=0.5, d_steps=2, real_flip=True, steps=4,
                                  resume=str(run)))
    assert load_checkpoint(resumed / "last.pt")["step"] == 4
    with pytest.raises(UserError, match="d_steps"):
        train_gan(tiny_opts(data, class_loss="d2dce", class_weight=0.5, d_steps=3, real_flip=True, steps=6,
                            resume=str(run)))
    # A run from before these options: its checkpoint and config.json do not name them, and it resumes as it was.
    old = train_gan(tiny_opts(data, class_loss="none", out=str(tmp_path / "old")))
    ck = load_checkpoint(old / "last.pt")
    ck["arch"].pop("class_loss")
    ck.pop("format"), ck.pop("version")
    save_checkpoint(old / "last.pt", ck)
    cfg = json.loads((old / "config.json").read_text())
    for k in ("class_loss", "class_weight", "d_steps", "real_flip"):
        cfg["options"].pop(k)
    (old / "config.json").write_text(json.dumps(cfg))
    # today's default (ac) is refused, naming the difference; the value it trained with resumes it
    with pytest.raises(UserError, match="class_loss: run has 'none', now 'ac'"):
        train_gan(tiny_opts(data, steps=4, resume=str(old)))
    assert load_checkpoint(train_gan(tiny_opts(data, class_loss="none", steps=4, resume=str(old))) / "last.pt")[
        "step"] == 4
    with pytest.raises(UserError, match="class_loss 'none' vs 'ac'"):  # its D has no class head to load
        train_gan(tiny_opts(data, class_loss="ac", init_from=str(old), out=str(tmp_path / "new")))


@pytest.mark.parametrize("kw, message", [({"class_loss": "ac", "mode": "per-class"}, "--mode conditional"),
                                         ({"class_loss": "acgan"}, "unknown"),
                                         ({"class_weight": 0.0, "class_loss": "ac"}, "above 0"),
                                         ({"d_steps": 0}, "at least 1")])
def test_bad_class_options_are_refused_before_any_folder(gan_data, tiny_opts, tmp_path, kw, message):
    with pytest.raises(UserError, match=message):
        train_gan(tiny_opts(gan_data(), out=str(tmp_path / "never"), **kw))
    assert not (tmp_path / "never").exists()
