"""train-gan says what its steps cost once it has timed the first ones, and a time budget chooses the steps."""
import json

import pytest
import torch

from common.eta import RateMeter, duration
from gen.cost import USEFUL_STEPS, alternatives, plan
from gen.train import train_gan


def test_duration_reads_as_a_person_would():
    assert [duration(s) for s in (0.4, 48, 425, 22740)] == ["0 s", "48 s", "7 min 05 s", "6 h 19 min"]


def test_rate_meter_skips_the_warm_up_step_and_waits_for_enough_time():
    now = [0.0]
    meter = RateMeter(warmup=1, min_s=5.0, min_steps=3, clock=lambda: now[0])
    now[0] = 30.0
    assert meter.tick() is None            # the slow first step: the clock starts after it
    for t in (32.0, 34.0):
        now[0] = t
        assert meter.tick() is None        # two steps, 4 s: not enough of either yet
    now[0] = 36.0
    assert meter.tick() == pytest.approx(0.5) and meter.rate == pytest.approx(0.5)  # 3 steps in 6 s
    now[0] = 99.0
    assert meter.tick() is None and meter.rate == pytest.approx(0.5)  # said once, kept


def test_a_budget_buys_the_steps_its_rest_pays_for_snapshots_included():
    # 2 steps/s and a 10 s snapshot every 100 steps: 0.6 s a step; 600 s budget, 60 spent at step 20: 900 more
    p = plan(rate=2.0, step=20, asked=5000, spent_s=60, budget_s=600, snapshot_s=10, snapshot_every=100)
    assert p.steps == p.bought == 920 and p.eta_s == pytest.approx(540) and p.too_few
    p = plan(2.0, 20, 500, 60, 600, 10, 100)
    assert (p.steps, p.bought, p.too_few) == (500, 920, True)     # never more than asked; the budget still poor
    assert plan(2.0, 20, 5000, 700, 600, 10, 100).steps == 20      # spent already: stop where it is
    p = plan(2.0, 0, 1600, 0, None, 0, 100)                         # no budget: the time of what was asked
    assert (p.steps, p.eta_s, p.too_few) == (1600, 800, False)
    assert not plan(2.0, 0, 5000, 0, 600, 0, 100).too_few and USEFUL_STEPS <= 1200


def test_the_cheaper_settings_named_are_half_the_widths_and_32_px():
    assert [f for f, _ in alternatives(64, 64, 64)] == ["--ngf 32 --ndf 32", "--size 32", "--size 32 --ngf 32 --ndf 32"]
    assert [f for f, _ in alternatives(32, 8, 8)] == []


def test_budget_plans_the_steps_says_so_and_learns_what_the_same_steps_learn(gan_data, tiny_opts, tmp_path,
                                                                            monkeypatch, capsys):
    import common.eta
    import gen.cost

    monkeypatch.setattr(common.eta, "MEASURE_S", 0.0)  # tiny steps: a rate from two of them
    monkeypatch.setattr(common.eta, "MEASURE_STEPS", 2)
    monkeypatch.setattr(gen.cost, "USEFUL_STEPS", 10 ** 12)  # no budget buys that many: the advice is given
    data = gan_data()
    run = train_gan(tiny_opts(data, steps=6, ngf=16, ndf=16, budget_minutes=600, snapshot_every=3))
    err = capsys.readouterr().err
    pace = json.loads((run / "plan.json").read_text())
    assert pace["steps"] == 6 and pace["steps_per_s"] > 0 and pace["budget_s"] == 36000 and pace["too_few"]
    assert "the 10 h 00 min budget buys " in err and "--steps stops at 6" in err
    # too few to learn anything: the cheaper width is timed here and named with its pace, and a GPU
    assert "too few to learn the classes" in err and "--ngf 8 --ndf 8: " in err and "a GPU" in err
    import re

    bought = re.search(r"budget buys ([\d,]+) steps", err)[1]
    assert f"train-gan: {bought} steps are too few" in err  # both lines say the same plan
    # timing the other setting did not touch the run's random streams: the same weights as a run without a budget
    plain = train_gan(tiny_opts(data, steps=6, ngf=16, ndf=16, snapshot_every=3, out=str(tmp_path / "plain")))
    a, b = (torch.load(r / "last.pt", weights_only=False) for r in (run, plain))
    assert a["step"] == b["step"] == 6
    for k, v in a["models"][0]["G"].items():
        assert torch.equal(v, b["models"][0]["G"][k]), k
    # without a budget it says what the steps asked will take
    assert "6 steps take ≈" in capsys.readouterr().err
