"""gSR (gSRGAN): each class's conditional-BN gains, as near-square matrices, have their top singular value
penalised, weighted by inverse effective number."""
import json

import pytest
import torch

from common.errors import UserError
from gen.losses import gsr_class_weights, gsr_penalty, near_square
from gen.nets import build_generator
from gen.train import train_gan


def test_the_reshape_is_the_references_and_the_penalty_matches_a_hand_made_gain_matrix():
    assert [near_square(n) for n in (4, 6, 128, 256)] == [(2, 2), (2, 3), (8, 16), (16, 16)]
    # class 0's gain [3, 0, 0, 4] is [[3, 0], [0, 4]] (sigma 4), class 1's the identity (sigma 1), biases zero
    gain = torch.tensor([[3.0, 0, 0, 4], [1, 0, 0, 1]])
    assert gsr_penalty([(gain, torch.zeros(2, 4))], torch.tensor([1.0, 2.0])).item() == pytest.approx((16 + 2) / 2)


def test_rare_classes_weigh_more_by_inverse_effective_number():
    en = [(1 - 0.99 ** n) / 0.01 for n in (100, 10)]  # 63.40, 9.56
    k = 2 / (1 / en[0] + 1 / en[1])
    lam = gsr_class_weights([100, 10], weight=0.5, beta=0.99)
    assert lam.tolist() == pytest.approx([k * 0.5 / en[0], k * 0.5 / en[1]]) and lam[1] > 6 * lam[0]


def test_the_shared_generators_class_gains_are_its_bn_maps_of_the_class_embedding_alone():
    G = build_generator(32, nz=16, ngf=4, num_classes=3)
    gains = G.class_gains()
    assert len(gains) == 1 + len(G.bns) and gains[0][0].shape == (3, G.bn0.bn.num_features)
    c = torch.cat([torch.zeros(3, G.chunks[1]), G.shared.weight], dim=1)  # the z chunk zeroed, as gSRGAN pads it
    assert torch.allclose(gains[0][0], G.bn0.gain(c)) and torch.allclose(gains[0][1], G.bn0.bias(c))
    assert gains[0][0].requires_grad  # the penalty trains the embedding and the maps


def test_a_gsr_run_logs_its_penalty_and_per_class_mode_is_refused(gan_data, tiny_opts):
    run = train_gan(tiny_opts(gan_data({"cat": 8, "dog": 4}), steps=2, gsr_weight=0.5))
    rows = [r for r in map(json.loads, (run / "stats.jsonl").read_text().splitlines()) if "loss_g" in r]
    assert all(r["gsr"] > 0 for r in rows)
    with pytest.raises(UserError, match="--gsr-weight: gSR penalises the class-conditional gains"):
        train_gan(tiny_opts(gan_data(), mode="per-class", gsr_weight=0.5))
