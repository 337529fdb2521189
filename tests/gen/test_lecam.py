"""LeCam regularisation (google/lecam-gan): the reference's formula, its anchors, and a run that resumes exactly."""
import json

import pytest
import torch

from common.errors import UserError
from gen.losses import LecamAnchors, lecam_reg
from gen.train import train_gan


def test_lecam_term_on_hand_made_logits():
    real, fake = torch.tensor([1.0, -0.5]), torch.tensor([0.2, -1.0])
    # relu(real - (-0.3))^2 = [1.69, 0]; relu(0.5 - fake)^2 = [0.09, 2.25]; means 0.845 + 1.17
    assert lecam_reg(real, fake, torch.tensor(0.5), torch.tensor(-0.3)).item() == pytest.approx(2.015)


def test_anchors_follow_the_current_means_until_the_start_then_decay_at_0_9():
    a = LecamAnchors(start=2)
    a.update(torch.tensor([1.0, 3.0]), torch.tensor([-2.0]), step=0)
    a.update(torch.tensor([4.0]), torch.tensor([0.0]), step=1)
    assert (a.real.item(), a.fake.item()) == (4.0, 0.0)  # before the start: the current means, no memory
    a.update(torch.tensor([14.0]), torch.tensor([10.0]), step=2)
    assert (a.real.item(), a.fake.item()) == (pytest.approx(4.0 * 0.9 + 14.0 * 0.1), pytest.approx(1.0))


def _weights(run):
    ck = torch.load(run / "last.pt", weights_only=False)
    return ck, [t for m in ck["models"] for k in ("G", "D") for t in m[k].values()]


def test_a_lecam_run_logs_its_term_and_resumes_bit_identically(gan_data, tiny_opts):
    data = gan_data()
    straight = train_gan(tiny_opts(data, steps=4, lecam_weight=0.3, lecam_start=1))
    rows = [r for r in map(json.loads, (straight / "stats.jsonl").read_text().splitlines()) if "loss_d" in r]
    assert "lecam" not in rows[0] and all(r["lecam"] >= 0 for r in rows[1:]) and len(rows) == 4  # from step 2 on
    first = train_gan(tiny_opts(data, steps=2, lecam_weight=0.3, lecam_start=1))
    resumed = train_gan(tiny_opts(data, steps=4, lecam_weight=0.3, lecam_start=1, resume=str(first)))
    (ck_a, wa), (ck_b, wb) = _weights(straight), _weights(resumed)
    assert ck_a["models"][0]["lecam"]["real"] == ck_b["models"][0]["lecam"]["real"]  # the anchors went on too
    assert all(torch.equal(a, b) for a, b in zip(wa, wb))
    plain = train_gan(tiny_opts(data, steps=4))  # the term changes what D learns
    assert not all(torch.equal(a, b) for a, b in zip(wa, _weights(plain)[1]))
    with pytest.raises(UserError, match=r"cannot resume.*lecam_weight"):
        train_gan(tiny_opts(data, steps=6, lecam_weight=0.1, lecam_start=1, resume=str(first)))
    assert json.loads((first / "config.json").read_text())["options"]["lecam_weight"] == 0.3
