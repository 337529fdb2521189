"""The bad-input catalogue: every command, as a new user gets it wrong. Each case must end in exit code 2 with
one line naming the thing (and the fix), no traceback, and nothing written or half-written anywhere."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from cli import cli
from tests.clf.conftest import tiny_options, write_images


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """Inputs the cases share: data, a CSV, a trained classifier and GAN, and outputs that cannot be used."""
    from augment.spec import DataSpec
    from clf.train import train
    from gen.options import GanOptions
    from gen.train import train_gan

    root = tmp_path_factory.mktemp("catalogue")
    data = root / "data"
    write_images(data, {"blue": 6, "green": 6, "red": 6}, size=16)
    test = root / "test"
    write_images(test, {"blue": 2, "red": 2}, seed=3, size=16)
    bad = root / "bad_test"
    write_images(bad, {"blue": 2}, seed=4, size=16)
    (bad / "blue" / "broken.png").write_bytes(b"not a png")
    flat = root / "flat"
    flat.mkdir()
    write_images(flat / "x", {"red": 2}, seed=5, size=16)
    for f in (flat / "x" / "red").iterdir():
        f.rename(flat / f.name)
    (flat / "x" / "red").rmdir()
    (flat / "x").rmdir()
    (root / "runs").mkdir()
    clf_run = train(tiny_options(data, root / "runs", epochs=1, size=16))
    gan_run = train_gan(GanOptions(data=DataSpec(str(data)), out=str(root / "gans"), size=32, steps=2, batch=4,
                                   nz=16, ngf=8, ndf=8, snapshot_every=2, log_every=1, min_class_images=4,
                                   judge_steps=0, progress=False))
    afile = root / "a_file.txt"
    afile.write_text("in the way\n")
    full = root / "full"
    full.mkdir()
    (full / "keep.txt").write_text("x")
    if os.geteuid() == 0:  # root writes anywhere chmod allows; a read-only mount still refuses it
        locked = Path("/sys/synthmix-out")
    else:
        locked = root / "locked"
        locked.mkdir()
        locked.chmod(0o555)
    tmpl_noid = root / "tmpl_noid.csv"
    pd.DataFrame({"label": ["a", "b"], "other": ["c", "d"]}).to_csv(tmpl_noid, index=False)
    tmpl_missing = root / "tmpl_missing.csv"
    pd.DataFrame({"id": ["red000.png", "nope.png"], "label": [0, 0]}).to_csv(tmpl_missing, index=False)
    cfg = yaml.safe_load((Path(__file__).parents[1] / "experiments/configs/demo.yaml").read_text())
    cfg["grid"]["augs"] = ["extreme"]
    bad_cfg = root / "bad_aug.yaml"
    bad_cfg.write_text(yaml.safe_dump(cfg))
    cfg = yaml.safe_load((Path(__file__).parents[1] / "experiments/configs/demo.yaml").read_text())
    cfg["classifier"]["options"]["batchsize"] = 8
    bad_opt_cfg = root / "bad_option.yaml"
    bad_opt_cfg.write_text(yaml.safe_dump(cfg))
    nolabel_csv = root / "nolabel.csv"
    pd.DataFrame({"file": ["blue/blue000.png"], "score": [1]}).to_csv(nolabel_csv, index=False)
    return dict(root=root, data=data, test=test, bad=bad, flat=flat, clf=clf_run, gan=gan_run, file=afile,
                under_file=afile / "sub", full=full, locked=locked / "out", tmpl_noid=tmpl_noid,
                tmpl_missing=tmpl_missing, bad_cfg=bad_cfg, bad_opt_cfg=bad_opt_cfg, nolabel_csv=nolabel_csv)


# (case id, argv with {placeholders} from env and {new} for a fresh path, what the one line must say)
CASES = [
    ("data-demo/out-is-file", "data demo --out {file}", r"--out .*a file is there"),
    ("data-demo/out-under-file", "data demo --out {under_file}", r"is a file, not a folder"),
    ("data-demo/out-locked", "data demo --out {locked}", r"cannot write in"),
    ("data-demo/out-not-empty", "data demo --out {full}", r"not empty"),
    ("inspect/out-is-file", "data inspect --data {data} --out {file}", r"--out .*a file is there"),
    ("inspect/out-locked", "data inspect --data {data} --out {locked}", r"cannot write in"),
    ("inspect/data-missing", "data inspect --data {root}/nope --out {new}", r"nope: not found"),
    ("inspect/flat-folder", "data inspect --data {flat} --out {new}", r"no class subfolders"),
    ("inspect/corrupt-image", "data inspect --data {bad} --out {new}", r"broken.png: .*--skip-bad"),
    ("inspect/csv-no-label", "data inspect --data {nolabel_csv} --out {new}", r"which column holds the labels"),
    ("inspect/csv-bad-column", "data inspect --data {nolabel_csv} --label-column nope --out {new}",
     r"no column 'nope'.*--label-column"),
    ("split/out-is-file", "data split --data {data} --out {file}", r"--out .*a file is there"),
    ("preview/out-is-folder", "augment preview --data {data} --out {full}", r"a folder is there"),
    ("preview/unknown-preset", "augment preview --data {data} --preset extreme --out {new}.png",
     r"unknown augmentation preset 'extreme'"),
    ("train-gan/out-is-file", "train-gan --data {data} --out {file}", r"--out .*a file is there"),
    ("train-gan/out-locked", "train-gan --data {data} --out {locked}", r"cannot write in"),
    ("train-gan/resume-a-classifier", "train-gan --data {data} --out {new} --resume {clf}",
     r"a train run folder, not a train-gan run"),
    ("train-gan/init-from-classifier", "train-gan --data {data} --out {new} --init-from {clf}",
     r"not a SynthMix GAN checkpoint"),
    ("train-gan/upscale-typo", "train-gan --data {data} --out {new} --upscale bicubik", r"bicubik"),
    ("train-gan/resume-and-init", "train-gan --data {data} --out {new} --resume {gan} --init-from {gan}",
     r"--resume and --init-from together"),
    ("synth/out-is-file", "synth --gan {gan} --all --n 2 --out {file}", r"--out .*a file is there"),
    ("synth/out-not-empty", "synth --gan {gan} --all --n 2 --out {full}", r"not empty"),
    ("synth/out-locked", "synth --gan {gan} --all --n 2 --out {locked}", r"cannot write in"),
    ("synth/not-a-gan", "synth --gan {clf} --all --n 2 --out {new}", r"checkpoint|train-gan"),
    ("synth/unknown-class", "synth --gan {gan} --class purple --n 2 --out {new}", r"purple"),
    ("fid/out-is-folder", "fid --real {data} --fake {data} --extractor effnet-lite0 --out {full}",
     r"--out .*a folder is there"),
    ("fid/out-locked", "fid --real {data} --fake {data} --extractor effnet-lite0 --out {locked}", r"cannot write in"),
    ("fid/fake-and-gan", "fid --real {data} --fake {data} --gan {gan} --out {new}.json", r"exactly one of"),
    ("train/out-is-file", "train --data {data} --model test_resnet --out {file}", r"--out .*a file is there"),
    ("train/out-locked", "train --data {data} --model test_resnet --out {locked}", r"cannot write in"),
    ("train/resume-a-gan", "train --data {data} --model test_resnet --out {new} --resume {gan}",
     r"a train-gan run folder, not a train run"),
    ("train/unknown-model", "train --data {data} --model resnet_nope --out {new}", r"resnet_nope"),
    ("train/ratio-without-synth", "train --data {data} --model test_resnet --ratio 1 --out {new}", r"--synth"),
    ("train/unknown-aug", "train --data {data} --model test_resnet --aug extreme --out {new}", r"--aug 'extreme'"),
    ("predict/out-is-folder", "predict --model {clf} --images {test} --out {full}", r"--out .*a folder is there"),
    ("predict/probs-is-folder", "predict --model {clf} --images {test} --probs {full}",
     r"--probs .*a folder is there"),
    ("predict/out-locked", "predict --model {clf} --images {test} --out {locked}", r"cannot write in"),
    ("predict/label-as-id-without-ids", "predict --model {clf} --images {test} --label-as id --out {new}.json",
     r"--label-as id: this model was trained without dataset label ids"),
    ("predict/corrupt-image", "predict --model {clf} --images {bad} --out {new}.json", r"broken.png.*--skip-bad"),
    ("predict/nothing-to-write", "predict --model {clf} --images {test}", r"nothing to write"),
    ("predict/bad-tta", "predict --model {clf} --images {test} --tta rot90 --out {new}.json", r"--tta rot90"),
    ("predict/not-a-model", "predict --model {gan} --images {test} --out {new}.json",
     r"not a SynthMix classifier checkpoint"),
    ("submit/out-is-folder", "submit --model {clf} --images {test} --out {full}", r"--out .*a folder is there"),
    ("submit/out-locked", "submit --model {clf} --images {test} --out {locked}", r"cannot write in"),
    ("submit/template-without-ids", "submit --model {clf} --images {test} --template {tmpl_noid} --out {new}.csv",
     r"no column names the test images"),
    ("submit/template-missing-files", "submit --model {clf} --images {flat} --template {tmpl_missing} "
     "--out {new}.csv", r"nope.png"),
    ("submit/unknown-id-column", "submit --model {clf} --images {test} --template {tmpl_missing} --id-column Id "
     "--out {new}.csv", r"--id-column 'Id': not a column"),
    ("submit/label-as-id-without-ids", "submit --model {clf} --images {test} --label-as id --out {new}.csv",
     r"--label-as id"),
    ("submit/template-not-found", "submit --model {clf} --images {test} --template {root}/nope.csv --out {new}.csv",
     r"--template .*nope.csv: file not found"),
    ("ablate/out-is-file", "ablate --config experiments/configs/demo.yaml --out {file} --dry-run",
     r"--out .*a file is there"),
    ("ablate/out-locked", "ablate --config experiments/configs/demo.yaml --out {locked}", r"cannot write in"),
    ("ablate/config-missing", "ablate --config {root}/nope.yaml --out {new}", r"nope.yaml"),
    ("ablate/unknown-aug", "ablate --config {bad_cfg} --out {new} --dry-run", r"extreme"),
    ("ablate/jobs-zero", "ablate --config experiments/configs/demo.yaml --out {new} --jobs 0", r"--jobs 0"),
    ("ablate/no-wait-local", "ablate --config experiments/configs/demo.yaml --out {new} --no-wait",
     r"--no-wait needs --executor slurm"),
    ("ablate/unknown-option", "ablate --config {bad_opt_cfg} --out {new} --dry-run",
     r"classifier.options: unknown train option 'batchsize'"),
    ("split/bad-fraction", "data split --data {data} --val 1.5 --out {new}", r"--val"),
    ("inspect/class-table-missing", "data inspect --data {nolabel_csv} --label-column score --class-table "
     "{root}/nope.csv --out {new}", r"nope.csv: class table not found"),
    ("train-gan/steps-zero", "train-gan --data {data} --out {new} --steps 0", r"--steps 0"),
    ("train-gan/batch-one", "train-gan --data {data} --out {new} --batch 1", r"--batch 1"),
    ("train-gan/bad-diffaug", "train-gan --data {data} --out {new} --diffaug blur", r"blur"),
    ("train-gan/resume-not-a-run", "train-gan --data {data} --out {new} --resume {root}/nope", r"nope"),
    ("synth/min-confidence-alone", "synth --gan {gan} --all --n 2 --min-confidence 0.5 --out {new}",
     r"--classifier and --min-confidence go together"),
    ("synth/bad-seeds", "synth --gan {gan} --all --seeds 5-1 --out {new}", r"seed list"),
    ("synth/class-and-all", "synth --gan {gan} --all --class blue --n 2 --out {new}", r"--class and --all"),
    ("fid/real-missing", "fid --real {root}/nope --fake {data} --extractor effnet-lite0 --out {new}.json", r"nope"),
    ("fid/unknown-metric", "fid --real {data} --fake {data} --metrics fidd --extractor effnet-lite0 "
     "--out {new}.json", r"fidd"),
    ("train/val-data-missing", "train --data {data} --model test_resnet --val-data {root}/nope --out {new}",
     r"nope"),
    ("train/two-imbalance-fixes", "train --data {data} --model test_resnet --class-weighted --balanced-sampler "
     "--out {new}", r"pick one"),
    ("train/bad-stage", "train --data {data} --model test_resnet --stage 2:head:adamw --out {new}", r"--stage"),
    ("train/resume-not-a-run", "train --data {data} --model test_resnet --resume {root}/nope --out {new}",
     r"nope"),
    ("train/synth-without-manifest", "train --data {data} --model test_resnet --synth {full} --ratio 1 "
     "--out {new}", r"no manifest.csv"),
    ("predict/images-missing", "predict --model {clf} --images {root}/nope --out {new}.json", r"nope"),
    ("predict/model-missing", "predict --model {root}/nope --images {test} --out {new}.json", r"nope"),
    ("submit/images-empty", "submit --model {clf} --images {full} --out {new}.csv", r"no images found"),
    ("ablate/time-min-zero", "ablate --config experiments/configs/demo.yaml --out {new} --executor slurm "
     "--time-min 0 --dry-run", r"--time-min 0: must be at least 1"),
    ("ablate/bad-shard", "ablate --config experiments/configs/demo.yaml --out {new} --shard 2/2", r"--shard"),
    ("demo/out-is-file", "demo --out {file}", r"--out .*a file is there"),
    ("demo/out-locked", "demo --out {locked}", r"cannot write in"),
]


def _tree(*roots: Path) -> dict[str, int]:
    return {str(p): p.stat().st_size for r in roots if r.exists() for p in r.rglob("*")}


@pytest.mark.parametrize("case, argv, message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_one_line_exit_2_and_leaves_nothing(env, tmp_path, case, argv, message, monkeypatch):
    import re

    monkeypatch.chdir(Path(__file__).parents[1])
    args = argv.format(**{k: str(v) for k, v in env.items()}, new=str(tmp_path / "new")).split()
    before = _tree(env["root"], tmp_path)
    res = CliRunner().invoke(cli, args, catch_exceptions=False)
    out = res.output.strip()
    assert res.exit_code == 2, f"{case}: exit {res.exit_code}: {out[-500:]}"
    errors = [ln for ln in out.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in out, f"{case}: {out[-500:]}"
    assert re.search(message, errors[0]), f"{case}: {errors[0]}"
    assert _tree(env["root"], tmp_path) == before, f"{case}: files were written or changed"
