"""track_metric (train-gan's --score-every) and the `fid` command."""
import json

import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from common.atomic import read_jsonl
from common.errors import UserError
from gen.metrics import best_entry, track_metric


def result(value, family="effnet-lite0", protocol="kid1k_cls_lite0"):
    return {"protocol": protocol, "headline_key": "kid_cls_mean", "headline": value, "lower_is_better": True,
            "extractor": "effnet-lite0-in1k", "extractor_family": family, "n_real": 10, "n_fake": 10}


def test_track_metric_appends_and_keeps_the_best_checkpoint(tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    best = tmp_path / "best.pt"
    flags = []
    for step, value in [(100, 0.5), (200, 0.3), (300, 0.4), (400, None), (500, 0.2)]:
        ckpt.write_text(f"weights at {step}")
        flags.append(track_metric(tmp_path, step, ckpt, result(value), best_path=best))
    assert flags == [True, True, False, False, True]
    lines = read_jsonl(tmp_path / "metric-kid1k_cls_lite0.jsonl")
    assert [r["step"] for r in lines] == [100, 200, 300, 400, 500]
    assert all(r["checkpoint"] == str(ckpt) and r["extractor"] == "effnet-lite0" for r in lines)
    assert best.read_text() == "weights at 500"
    assert best_entry(tmp_path, "kid1k_cls_lite0")["step"] == 500


def test_track_metric_refuses_to_compare_extractors(tmp_path):
    track_metric(tmp_path, 1, None, result(0.5))
    with pytest.raises(UserError, match="cannot be compared"):
        track_metric(tmp_path, 2, None, result(0.1, family="inception"))


def test_fid_command_writes_metrics_json_and_fails_cleanly(tmp_path, monkeypatch):
    from cli import cli

    monkeypatch.setenv("SYNTHMIX_CACHE", str(tmp_path / "cache"))
    g = torch.Generator().manual_seed(0)
    for root, off in (("real", 0), ("fake", 20)):
        for c in ("a", "b"):
            (tmp_path / root / c).mkdir(parents=True)
            x = torch.nn.functional.interpolate(torch.rand(4, 3, 4, 4, generator=g), size=32, mode="bilinear")
            for i, im in enumerate((x * 255).to(torch.uint8)):
                Image.fromarray(im.permute(1, 2, 0).numpy()).save(tmp_path / root / c / f"{i}.png")
    out = tmp_path / "metrics.json"
    args = ["fid", "--real", str(tmp_path / "real"), "--fake", str(tmp_path / "fake"), "--per-class",
            "--metrics", "kid,fid", "--extractor", "effnet-lite0", "--out", str(out)]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    saved = json.loads(out.read_text())
    assert [r["class"] for r in saved["per_class_table"]] == ["a", "b"]
    assert saved["extractor"] == "effnet-lite0-in1k" and saved["fake"] == str(tmp_path / "fake")
    assert "kid_cls_mean" in res.output and "n_real" in res.output
    bad = CliRunner().invoke(cli, ["fid", "--real", str(tmp_path / "real"), "--out", str(out)])
    assert bad.exit_code == 2 and "exactly one of --fake" in bad.output


def test_fid_gan_run_samples_the_generator_directly(tmp_path, monkeypatch):
    import gen.synth
    from gen.metrics.command import FidOptions, format_result, run_fid

    monkeypatch.setenv("SYNTHMIX_CACHE", str(tmp_path / "cache"))
    real = tmp_path / "real"
    for c in ("x", "y"):
        (real / c).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(((torch.rand(28, 28, 3) * 255).to(torch.uint8)).numpy()).save(real / c / f"{i}.png")
    calls = []

    def fake_loader(run, checkpoint=None, device="auto"):
        def sample_fn(k, n):
            calls.append((k, n))
            return (torch.rand(n, 3, 32, 32) * 255).to(torch.uint8)
        return sample_fn, ["x", "y"]

    monkeypatch.setattr(gen.synth, "load_sampler", fake_loader)
    (tmp_path / "run").mkdir()
    r = run_fid(FidOptions(real=str(real), out=str(tmp_path / "m.json"), gan=str(tmp_path / "run"), n=6,
                           metrics="kid", extractor="effnet-lite0", per_class=True, progress=False))
    assert [row["n_fake"] for row in r["per_class_table"]] == [3, 3] and r["image_size"] == [32, 32]
    assert {k for k, _ in calls[1:]} == {0, 1} and r["gan"] == str(tmp_path / "run")
    assert "kid" in format_result(r)
