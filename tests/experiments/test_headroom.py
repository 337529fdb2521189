"""Headroom before any GAN: a learning curve through subsets of the real images says what twice the data would add."""
import json

import numpy as np
import pytest
import yaml

from common.errors import UserError
from experiments.ablate import run_ablation
from experiments.learning_curve import fit_power_law, headroom, predicted_score
from tests.experiments.test_ablate import FAKES, setup  # noqa: F401  (the fixture, and its fakes)


def test_a_power_law_is_recovered_and_twice_the_data_predicted_by_hand():
    # error = 0.8 n^-0.5: at 100 images 0.08 (score 0.92), at 200 0.0566 (0.9434): a gain of 0.0234
    n = np.array([25, 50, 100])
    a, b = fit_power_law(n, 0.8 * n ** -0.5)
    assert (a, b) == (pytest.approx(0.8), pytest.approx(0.5))
    assert predicted_score(a, b, 200) == pytest.approx(1 - 0.8 / 200 ** 0.5)
    points = [{"fraction": f, "n": int(100 * f), "seed": s, "score": 1 - (0.8 + 0.1 * s) * (100 * f) ** -0.5}
              for f in (0.25, 0.5, 1.0) for s in (0, 1, 2)]
    h = headroom(points)
    gains = [(0.8 + 0.1 * s) * (100 ** -0.5 - 200 ** -0.5) for s in (0, 1, 2)]
    assert h["n"] == 100 and h["target_n"] == 200 and h["gain"]["mean"] == pytest.approx(np.mean(gains))
    assert h["gain"]["ci_lo"] < h["gain"]["mean"] < h["gain"]["ci_hi"] and h["exponent"]["mean"] == pytest.approx(0.5)
    # predicting a measured set from the smaller ones (the benchmark's check): fit on 0.25 and 0.5 only
    h = headroom(points, fit_on={0.25, 0.5})
    assert h["n"] == 50 and h["predicted"]["mean"] == pytest.approx(np.mean([p["score"] for p in points
                                                                             if p["fraction"] == 1.0]))
    assert headroom([p for p in points if p["fraction"] == 1.0])["gain"]["n"] == 0  # one size: no line


def test_ablate_measures_headroom_before_the_gan_and_opens_its_report_with_it(setup, tmp_path):  # noqa: F811
    config, opts, count, calls = setup
    cfg = config(grid={"ratios": [0, 1], "augs": ["none"], "pretrained": [False], "seeds": [0, 1, 2]},
                 cas={"enabled": False}, headroom={"enabled": True, "min_gain": 0.5})
    lines: list[str] = []
    folder = run_ablation(opts(cfg, headroom_only=True), echo=lines.append)
    # the subsets (2 fractions x 3 seeds) and the grid's 3 real-only cells, no generator yet
    assert (count("train"), count("train-gan")) == (9, 0)
    trains = calls.read_text().splitlines()
    assert sum("headroom-f0.25" in ln for ln in trains) == 3 and sum("headroom-f0.5-" in ln for ln in trains) == 3
    room = json.loads((folder / "headroom.json").read_text())
    assert len(room["points"]) == 9 and {p["n"] for p in room["points"]} == {3, 5, 10}  # a: 2/4/8, b: 1/1/2
    assert room["gain"]["n"] == 3 and room["gain"]["mean"] > 0 and room["low"] is True
    runs = [ln for ln in lines if ln.startswith("[ablate] headroom ") and "[" in ln.split(":")[-1]]
    assert len(runs) == 9 and runs[-1].endswith("[9/9]")  # each run said as it ends
    said = next(ln for ln in lines if "Headroom (test_acc)" in ln)
    assert "twice the real images (10 → 20) would add +" in said
    assert "below 0.5: synthetic images are unlikely to pay" in said
    assert (folder / room["plot"]).stat().st_size > 1000

    with pytest.raises(UserError, match="pass --resume"):  # the full-set cells ran: the grid goes on with --resume
        run_ablation(opts(cfg), echo=lambda *_: None)
    lines.clear()
    run_ablation(opts(cfg, resume=True), echo=lines.append)
    # nothing of the headroom stage again; the GAN, and only the synthetic cells
    assert (count("train"), count("train-gan")) == (9 + 3, 1)
    assert lines.index(next(ln for ln in lines if "training the GAN" in ln)) > 0
    summary = (folder / "summary.md").read_text().splitlines()
    assert summary[2].startswith("**Headroom (test_acc): twice the real images")
    rep = json.loads((folder / "summary.json").read_text())
    assert rep["headroom"]["line"] == rep["recommendation"]["lines"][0] == said.removeprefix("[ablate] ")
    assert any(ln.startswith("[ablate] Headroom") for ln in lines[-len(rep["recommendation"]["lines"]):])


def test_headroom_settings_are_checked_at_config_load(setup, tmp_path):  # noqa: F811
    config, opts, _, _ = setup
    for bad, msg in (({"enabled": True, "fractions": [0.5, 1]}, "between 0 and 1"),
                     ({"enabled": True, "min_gain": -1}, "0 or more"), ({"enable": True}, "unknown key")):
        with pytest.raises(UserError, match=msg):
            run_ablation(opts(config(headroom=bad)), echo=lambda *_: None)
    with pytest.raises(UserError, match="has no headroom stage"):
        run_ablation(opts(config(), headroom_only=True), echo=lambda *_: None)
    assert not (tmp_path / "runs").exists()
