"""The long-tail remedies: each against a case worked by hand or its reference implementation's formula, and each
trained, predicted and refused as a user meets it."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.clf.conftest import tiny_options

COUNTS = [500, 50, 5]


def test_balanced_softmax_is_cross_entropy_on_logits_plus_log_prior():
    """naver-ai/cmo BalancedSoftmaxLoss: CE(logits + log(n / sum n)); worked by hand for one image."""
    from clf.losses import classification_loss, log_prior, logit_shift, soft_targets

    logits = torch.tensor([[2.0, 0.5, -1.0]])
    y = torch.tensor([2])
    t = soft_targets(y, 3, 0.0)
    loss = classification_loss(logits, t, "balanced_softmax", shift=logit_shift("balanced_softmax", t,
                                                                                log_prior(COUNTS), None))
    z = [2.0 + np.log(500 / 555), 0.5 + np.log(50 / 555), -1.0 + np.log(5 / 555)]
    by_hand = -(z[2] - np.log(np.exp(z).sum()))
    assert loss.item() == pytest.approx(by_hand, rel=1e-5)
    assert loss.item() > F.cross_entropy(logits, y).item()  # a rare class's logit must work harder


def test_logit_adjusted_tau_scales_the_prior_and_tau_zero_is_plain_cross_entropy():
    from clf.losses import log_prior

    assert torch.allclose(log_prior(COUNTS, 2.0), 2 * log_prior(COUNTS, 1.0))
    assert torch.allclose(log_prior(COUNTS, 0.0), torch.zeros(3))
    assert torch.allclose(log_prior([0, 1]), log_prior([1, 1]))  # an empty class counts as one: finite


def test_ldam_matches_the_reference_loss():
    """kaidic/LDAM-DRW LDAMLoss: CE(s * (x - m_y on the target), weight) with m ∝ n^-1/4, max 0.5."""
    from clf.losses import classification_loss, ldam_margins, logit_shift, soft_targets

    m = ldam_margins([1, 16, 256])
    assert torch.allclose(m, torch.tensor([0.5, 0.25, 0.125]))  # 1, 1/2, 1/4 of the rarest class's
    cos = torch.tensor([[0.3, -0.2, 0.9], [0.1, 0.4, -0.5]])
    y = torch.tensor([0, 2])
    w = torch.tensor([1.0, 2.0, 3.0])
    s = 30.0
    index = F.one_hot(y, 3).bool()
    ref = F.cross_entropy(s * torch.where(index, cos - m[y].view(-1, 1), cos), y, weight=w)
    t = soft_targets(y, 3, 0.0)
    ours = classification_loss(s * cos, t, "ldam", w, shift=logit_shift("ldam", t, None, s * m))
    assert ours.item() == pytest.approx(ref.item(), rel=1e-5)


def test_effective_number_weights_worked_by_hand():
    """Cui et al.: (1 - b) / (1 - b^n), scaled to sum to the number of classes; b -> 0 is uniform."""
    from clf.losses import effective_number_weights

    w = effective_number_weights([1, 3], beta=0.5).numpy()
    raw = np.array([0.5 / 0.5, 0.5 / 0.875])
    assert w == pytest.approx(raw / raw.sum() * 2)
    assert effective_number_weights(COUNTS, 1e-9).numpy() == pytest.approx([1, 1, 1])
    big = effective_number_weights(COUNTS).numpy()
    assert big[2] > big[1] > big[0] and big.sum() == pytest.approx(3)


def test_cmo_pastes_a_box_and_weighs_the_labels_by_its_area():
    from clf.losses import cmo_paste

    x, minority = torch.zeros(4, 3, 16, 16), torch.ones(6, 3, 16, 16)
    for seed in range(20):
        out, own = cmo_paste(x, minority, np.random.default_rng(seed))
        pasted = out[:, 0].mean(dim=(1, 2))
        assert torch.allclose(pasted, torch.full((4,), 1 - own))  # the same box on every image, weighed by its area
        assert 0 <= own <= 1 and x.sum() == 0  # the batch itself is left as it was


def test_posthoc_adjustment_subtracts_tau_log_prior():
    from clf.losses import log_prior
    from clf.models import LogitAdjusted

    base = torch.nn.Linear(2, 3)
    x = torch.randn(5, 2)
    adj = LogitAdjusted(base, log_prior(COUNTS, 0.5))
    assert torch.allclose(adj(x), base(x) - 0.5 * torch.log(torch.tensor(COUNTS) / 555.0), atol=1e-6)


def test_drw_weights_from_its_epoch_only(toy):
    """Deferred re-weighting: plain loss before --drw-epoch, effective-number weights from it on."""
    from augment.labels import LabelMap
    from clf.freeze import parse_stages
    from clf.module import ClassifierModule

    o = tiny_options(toy["train"], toy["root"], epochs=4, drw_epoch=2)
    mod = ClassifierModule(torch.nn.Linear(2, 3), LabelMap(["a", "b", "c"]), o, parse_stages((), 4, "all", "adamw",
                                                                                          0.1), counts=COUNTS)
    seen = {}
    for epoch in range(4):
        type(mod).current_epoch = property(lambda self, e=epoch: e)
        seen[epoch] = mod.loss_weight()
    del type(mod).current_epoch
    assert seen[0] is None and seen[1] is None
    assert torch.equal(seen[2], seen[3]) and seen[2][2] > seen[2][0]


@pytest.mark.parametrize("kw", [dict(loss="balanced_softmax"), dict(loss="logit_adjusted", la_tau=1.5),
                                dict(loss="ldam", drw_epoch=1), dict(drw_epoch=1), dict(cmo=1.0)],
                         ids=["balanced_softmax", "logit_adjusted", "ldam_drw", "drw", "cmo"])
def test_each_remedy_trains_and_its_run_predicts_as_it_scored(toy, tmp_path, kw):
    """A run of each remedy learns the toy colours, and predict rebuilds it (LDAM's cosine head too): the test set
    predicted from the folder gives the accuracy the run reported."""
    from clf.predict import run_predict
    from clf.train import train

    run = train(tiny_options(toy["train"], tmp_path, test_data=str(toy["test"]), tensorboard=False, **kw))
    m = json.loads((run / "metrics.json").read_text())
    assert m["test_acc"] > 0.6
    p = run_predict(str(run), str(toy["test"]), progress=False)
    truth = [k.split("/")[0] for k in p.keys]
    acc = np.mean([p.labels[i] == c for i, c in zip(p.probs.argmax(1), truth)])
    assert acc == pytest.approx(m["test_acc"])


def test_posthoc_la_moves_predictions_towards_rare_classes_and_predict_can_override(toy, tmp_path):
    """The run's test scoring and predict use its tau; --posthoc-la 0 gives the plain model, a large tau favours the
    rarest class (red: 6 of 26 images)."""
    from clf.checkpoint import read_checkpoint
    from clf.predict import run_predict
    from clf.train import train

    run = train(tiny_options(toy["train"], tmp_path, test_data=str(toy["test"]), tensorboard=False, posthoc_la=1.0))
    meta = read_checkpoint(run / "best.pt")["synthmix"]
    assert meta["class_counts"] == [12, 8, 6] or sum(meta["class_counts"]) < 26  # the training split's counts
    assert meta["posthoc_la"] == 1.0
    own = run_predict(str(run), str(toy["test"]), progress=False)
    plain = run_predict(str(run), str(toy["test"]), progress=False, posthoc_la=0.0)
    strong = run_predict(str(run), str(toy["test"]), progress=False, posthoc_la=50.0)
    prior = np.array(meta["class_counts"]) / sum(meta["class_counts"])
    expect = plain.probs * prior ** -1.0
    assert own.probs == pytest.approx(expect / expect.sum(1, keepdims=True), abs=1e-5)
    rarest = int(np.argmin(meta["class_counts"]))
    assert (strong.probs.argmax(1) == rarest).mean() > (plain.probs.argmax(1) == rarest).mean()


def test_cmo_draws_minority_classes_more_often(toy):
    """CMO's sampler (naver-ai/cmo, alpha 1): per-image weight 1/count, so each class is drawn about equally; the
    same (seed, epoch) draws the same batches."""
    from augment.labels import LabelMap
    from augment.manifest import load_manifest
    from augment.presets import create_transform
    from clf.data import minority_batches

    df = load_manifest(str(toy["train"]))
    lm = LabelMap(sorted(df["label"].unique()))
    tf = create_transform("none", 16, False)
    batches = minority_batches(df, lm, tf, 8, seed=0)
    it = batches(0)
    ys = torch.cat([next(it)[1] for _ in range(30)])
    share = torch.bincount(ys, minlength=3).float() / len(ys)
    assert share.min() > 0.25  # red is 6 of 26 images (0.23) but drawn about a third of the time
    a, b = next(batches(3))[1], next(batches(3))[1]
    assert torch.equal(a, b)


def test_posthoc_la_on_a_run_that_already_corrected_the_prior_is_refused(toy, tmp_path):
    from clf.predict import run_predict
    from clf.train import train
    from common.errors import UserError

    run = train(tiny_options(toy["train"], tmp_path, epochs=1, tensorboard=False, class_weighted=True))
    with pytest.raises(UserError, match="--class-weighted.*count"):
        run_predict(str(run), str(toy["test"]), progress=False, posthoc_la=1.0)
    assert len(run_predict(str(run), str(toy["test"]), progress=False).keys) == 12  # without it: as trained


def test_ldam_on_airbench_replaces_its_scaled_head():
    """airbench's 1/9 belongs to its head: LDAM's cosine head (scale s) replaces it, so the margins are in the
    units the reference uses (s * cos - s * m), not nine times larger."""
    from clf.models import CosineHead, create_classifier, set_head

    m = set_head(create_classifier("airbench_cifar", 4), {"kind": "cosine", "scale": 30.0})
    assert isinstance(m.get_classifier(), CosineHead)
    out = m.eval()(torch.randn(3, 3, 32, 32))
    assert out.abs().max() <= 30.0 + 1e-4 and out.abs().max() > 30.0 / 9  # cosines times s, nothing more
