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
    base = dict(root=root, data=data, test=test, bad=bad, flat=flat, clf=clf_run, gan=gan_run, file=afile,
                under_file=afile / "sub", full=full, locked=locked / "out", tmpl_noid=tmpl_noid,
                tmpl_missing=tmpl_missing, bad_cfg=bad_cfg, bad_opt_cfg=bad_opt_cfg, nolabel_csv=nolabel_csv)
    return {**base, **_issue23_inputs(root, data, clf_run, gan_run, full)}


def _issue23_inputs(root: Path, data: Path, clf_run: Path, gan_run: Path, full: Path) -> dict:
    """The inputs of the issue-23 cases: malformed CSVs, a one-class set, broken run folders, ablation configs."""
    import shutil

    from clf.train import train

    rows = "path,label\ndata/blue/blue000.png,blue\ndata/red/red000.png,red\n"
    csvs = {
        "csv_empty": b"",
        "csv_ragged": (rows + "data/red/red001.png,red,extra\n").encode(),
        "csv_short": (rows + "data/red/red001.png\n").encode(),
        "csv_blank": (rows + "data/red/red001.png,\n").encode(),
        "csv_latin1": (rows + "data/red/red001.png,café\n").encode("latin-1"),
        "csv_cp1251": (rows + "data/red/red001.png,Живопись\n").encode("cp1251"),
        "csv_ids": b"image_name,label_id\ndata/blue/blue000.png,7\ndata/red/red000.png,40\n",
        "table_empty": b"",
        "table_header": b"id,name\n",
        "tmpl_empty": b"",
        "tmpl_latin1": "id,label\nblue000.png,café\n".encode("latin-1"),
    }
    out = {}
    for name, content in csvs.items():
        (root / f"{name}.csv").write_bytes(content)
        out[name] = root / f"{name}.csv"
    one = root / "one_class"
    write_images(one, {"blue": 6}, size=16)
    half_bad = root / "half_bad"
    write_images(half_bad, {"blue": 6}, size=16)
    (half_bad / "red").mkdir()
    (half_bad / "red" / "broken.png").write_bytes(b"not a png")
    other = root / "other_classes"
    write_images(other, {"blue": 6, "green": 6}, seed=6, size=16)
    clf_other = train(tiny_options(other, root / "runs_other", epochs=1, size=16))
    for kind, run in (("clf", clf_run), ("gan", gan_run)):
        for how in ("garbage", "truncated"):
            copy = root / f"{kind}_{how}"
            shutil.copytree(run, copy)
            last = copy / "last.pt"
            last.write_bytes(b"garbage, not a checkpoint" if how == "garbage" else last.read_bytes()[:2000])
            out[f"{kind}_{how}"] = copy
    synth_stub = root / "synth_stub"  # a synth folder as `synth` writes it, for an ablation that needs no GAN
    write_images(synth_stub, {"blue": 6, "green": 6, "red": 6}, seed=7, size=16, prefix="seed")
    files = sorted(synth_stub.rglob("*.png"))
    pd.DataFrame({"path": [str(f) for f in files], "label": [f.parent.name for f in files], "category": "",
                  "source": "synthetic", "gan_run": "", "checkpoint": "", "seed": range(len(files))}
                 ).to_csv(synth_stub / "manifest.csv", index=False)
    for name, train_path, synth in (("abl_no_data", root / "nope", synth_stub), ("abl_no_manifest", data, full),
                                    ("abl_ok", data, synth_stub)):
        cfg = {"name": name, "data": {"train": str(train_path), "test": str(root / "test")},
               "gan": {"synth": str(synth)}, "grid": {"ratios": [0, 1], "augs": ["flip"], "seeds": [0, 1, 2]},
               "classifier": {"model": "test_resnet", "epochs": 1, "size": 16,
                              "options": {"batch_size": 8, "workers": 0, "warmup_epochs": 0}},
               "cas": {"enabled": False}, "fid": {"enabled": False}}
        out[name] = root / f"{name}.yaml"
        out[name].write_text(yaml.safe_dump(cfg))
    for name, section, key, value in (("abl_batch_one", "classifier", "options", {"batch_size": 1}),
                                      ("abl_synth_batch_zero", "gan", "synth_options", {"batch": 0})):
        cfg = yaml.safe_load(out["abl_ok"].read_text())
        cfg[section][key] = value
        out[name] = root / f"{name}.yaml"
        out[name].write_text(yaml.safe_dump(cfg))
    return {**out, "one_class": one, "half_bad": half_bad, "clf_other": clf_other, "synth_stub": synth_stub}


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
    ("train-gan/negative-budget", "train-gan --data {data} --out {new} --budget-minutes -5", r"--budget-minutes -5"),
    ("train-gan/bad-diffaug", "train-gan --data {data} --out {new} --diffaug blur", r"blur"),
    ("train-gan/resume-not-a-run", "train-gan --data {data} --out {new} --resume {root}/nope", r"nope"),
    ("synth/min-confidence-alone", "synth --gan {gan} --all --n 2 --min-confidence 0.5 --out {new}",
     r"--min-confidence 0.5: needs --classifier RUN"),
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

# Issue 23: the same promise, case by case, tagged with the class of mistake the issue names (c2 .. c8; class 1, a
# batch of one, and the cases that must succeed are tests of their own below). "''" stands for an empty argument.
TRAIN = "train --model test_resnet --size 16 --epochs 1 --batch-size 8 --workers 0 --no-progress"
GAN = "train-gan --size 32 --steps 2 --batch 4 --nz 16 --ngf 8 --ndf 8 --judge-steps 0"
FID = "fid --fake {data} --extractor effnet-lite0"
CASES_23 = [
    # 2. malformed CSV files: one reader for data, class tables and templates
    ("c2", "inspect/csv-empty", "data inspect --data {csv_empty} --out {new}", r"csv_empty.csv: empty file"),
    ("c2", "split/csv-ragged", "data split --data {csv_ragged} --out {new}", r"csv_ragged.csv: line 4 has 3 fields"),
    ("c2", "preview/csv-short-row", "augment preview --data {csv_short} --out {new}.png",
     r"csv_short.csv: line 4 has 1 field"),
    ("c2", "train/csv-latin1", TRAIN + " --data {csv_latin1} --out {new}", r"csv_latin1.csv: not UTF-8.*--encoding"),
    ("c2", "train-gan/csv-cp1251", GAN + " --data {csv_cp1251} --out {new}", r"csv_cp1251.csv: not UTF-8.*--encoding"),
    ("c2", "inspect/csv-blank-label", "data inspect --data {csv_blank} --out {new}",
     r"csv_blank.csv: line 4 has an empty label"),
    ("c2", "train/csv-blank-label", TRAIN + " --data {csv_blank} --out {new}", r"csv_blank.csv: line 4 has an empty"),
    ("c2", "inspect/class-table-empty", "data inspect --data {csv_ids} --class-table {table_empty} --out {new}",
     r"table_empty.csv: empty file"),
    ("c2", "train/class-table-no-rows", TRAIN + " --data {csv_ids} --class-table {table_header} --out {new}",
     r"table_header.csv: no rows"),
    ("c2", "submit/template-empty", "submit --model {clf} --images {test} --template {tmpl_empty} --out {new}.csv",
     r"tmpl_empty.csv: empty file"),
    ("c2", "submit/template-latin1", "submit --model {clf} --images {test} --template {tmpl_latin1} --out {new}.csv",
     r"tmpl_latin1.csv: not UTF-8.*--encoding"),
    ("c2", "fid/real-csv-ragged", FID + " --real {csv_ragged} --out {new}.json", r"csv_ragged.csv: line 4"),
    ("c2", "train/val-data-csv-empty", TRAIN + " --data {data} --val-data {csv_empty} --out {new}",
     r"csv_empty.csv: empty file"),
    ("c2", "inspect/unknown-encoding", "data inspect --data {csv_latin1} --encoding klingon --out {new}",
     r"--encoding 'klingon'"),
    # 3. numeric options out of range: checked with the other options, before any folder
    ("c3", "data-demo/per-class-zero", "data demo --per-class 0 --out {new}", r"--per-class 0"),
    ("c3", "data-demo/seed-negative", "data demo --seed -1 --out {new}", r"--seed -1"),
    ("c3", "split/seed-negative", "data split --data {data} --seed -1 --out {new}", r"--seed -1"),
    ("c3", "split/val-zero", "data split --data {data} --val 0 --out {new}", r"--val 0"),
    ("c3", "preview/n-zero", "augment preview --data {data} --n 0 --out {new}.png", r"--n 0"),
    ("c3", "preview/size-zero", "augment preview --data {data} --size 0 --out {new}.png", r"--size 0"),
    ("c3", "preview/copies-zero", "augment preview --data {data} --copies 0 --out {new}.png", r"--copies 0"),
    ("c3", "train-gan/workers-negative", GAN + " --data {data} --workers -1 --out {new}", r"--workers -1"),
    ("c3", "train-gan/lr-zero", GAN + " --data {data} --lr-g 0 --out {new}", r"--lr-g 0"),
    ("c3", "train-gan/ema-decay-above-one", GAN + " --data {data} --ema-decay 1.5 --out {new}", r"--ema-decay 1.5"),
    ("c3", "train-gan/seed-negative", GAN + " --data {data} --seed -1 --out {new}", r"--seed -1"),
    ("c3", "synth/n-zero", "synth --gan {gan} --all --n 0 --out {new}", r"--n 0"),
    ("c3", "synth/batch-zero", "synth --gan {gan} --all --n 2 --batch 0 --out {new}", r"--batch 0"),
    ("c3", "fid/n-zero", FID + " --real {data} --n 0 --out {new}.json", r"--n 0"),
    ("c3", "fid/batch-zero", FID + " --real {data} --batch-size 0 --out {new}.json", r"--batch-size 0"),
    ("c3", "fid/resize-zero", FID + " --real {data} --resize 0 --out {new}.json", r"--resize 0"),
    ("c3", "train/batch-one", TRAIN + " --data {data} --batch-size 1 --out {new}", r"--batch-size 1.*batch norm"),
    ("c3", "train/workers-negative", TRAIN + " --data {data} --workers -1 --out {new}", r"--workers -1"),
    ("c3", "train/size-zero", TRAIN + " --data {data} --size 0 --out {new}", r"--size 0"),
    ("c3", "train/lr-negative", TRAIN + " --data {data} --lr -0.1 --out {new}", r"--lr -0.1"),
    ("c3", "train/val-zero", TRAIN + " --data {data} --val 0 --out {new}", r"--val 0"),
    ("c3", "train/ratio-negative", TRAIN + " --data {data} --synth {synth_stub} --ratio -1 --out {new}",
     r"--ratio -1"),
    ("c3", "train/label-smoothing-one", TRAIN + " --data {data} --label-smoothing 1 --out {new}",
     r"--label-smoothing 1"),
    ("c3", "train/mixup-negative", TRAIN + " --data {data} --mixup -1 --out {new}", r"--mixup -1"),
    ("c3", "train/patience-negative", TRAIN + " --data {data} --patience -1 --out {new}", r"--patience -1"),
    ("c3", "train/devices-zero", TRAIN + " --data {data} --devices 0 --out {new}", r"--devices 0"),
    ("c3", "train/clip-grad-zero", TRAIN + " --data {data} --clip-grad 0 --out {new}", r"--clip-grad 0"),
    ("c3", "train/switch-epoch-past-the-end", TRAIN + " --data {data} --switch-loss focal --switch-epoch 9 "
     "--out {new}", r"--switch-epoch 9"),
    ("c3", "train/la-tau-zero", TRAIN + " --data {data} --loss logit_adjusted --la-tau 0 --out {new}", r"--la-tau 0"),
    ("c3", "train/posthoc-la-negative", TRAIN + " --data {data} --posthoc-la -1 --out {new}", r"--posthoc-la -1"),
    ("c3", "train/cmo-above-one", TRAIN + " --data {data} --cmo 1.5 --out {new}", r"--cmo 1.5"),
    ("c3", "train/drw-beta-one", TRAIN + " --data {data} --drw-epoch 1 --epochs 2 --drw-beta 1 --out {new}",
     r"--drw-beta 1"),
    ("c3", "train/drw-epoch-past-the-end", TRAIN + " --data {data} --drw-epoch 3 --out {new}", r"--drw-epoch 3"),
    ("c3", "train/unknown-loss", TRAIN + " --data {data} --loss balanced --out {new}", r"--loss 'balanced'"),
    ("c3", "train/prior-counted-twice", TRAIN + " --data {data} --loss balanced_softmax --posthoc-la 1 --out {new}",
     r"--loss balanced_softmax with --posthoc-la: .*count it twice"),
    ("c3", "train/prior-loss-with-sampler", TRAIN + " --data {data} --loss logit_adjusted --balanced-sampler "
     "--out {new}", r"--balanced-sampler"),
    ("c3", "train/drw-with-class-weights", TRAIN + " --data {data} --epochs 2 --drw-epoch 1 --class-weighted "
     "--out {new}", r"--class-weighted with --drw-epoch"),
    ("c3", "train/posthoc-with-sampler", TRAIN + " --data {data} --posthoc-la 1 --balanced-sampler --out {new}",
     r"--balanced-sampler with --posthoc-la"),
    ("c3", "train/switch-to-prior-loss-with-posthoc", TRAIN + " --data {data} --epochs 2 --switch-loss balanced_softmax "
     "--switch-epoch 1 --posthoc-la 1 --out {new}", r"--loss balanced_softmax with --posthoc-la"),
    ("c3", "train/la-tau-without-its-loss", TRAIN + " --data {data} --la-tau 2 --out {new}", r"--la-tau: only used"),
    ("c3", "train/drw-beta-without-drw", TRAIN + " --data {data} --drw-beta 0.99 --out {new}", r"--drw-beta: only"),
    ("c3", "train/cmo-with-cutmix", TRAIN + " --data {data} --cmo 0.5 --cutmix 1 --out {new}", r"--cmo with"),
    ("c3", "train/ldam-switched", TRAIN + " --data {data} --epochs 2 --loss ldam --switch-loss ce --switch-epoch 1 "
     "--out {new}", r"--loss ldam"),
    ("c3", "predict/posthoc-la-negative", "predict --model {clf} --images {test} --posthoc-la -1 --out {new}.json",
     r"--posthoc-la -1"),
    ("c3", "predict/batch-zero", "predict --model {clf} --images {test} --batch-size 0 --out {new}.json",
     r"--batch-size 0"),
    ("c3", "predict/workers-negative", "predict --model {clf} --images {test} --workers -1 --out {new}.json",
     r"--workers -1"),
    ("c3", "submit/batch-zero", "submit --model {clf} --images {test} --batch-size 0 --out {new}.csv",
     r"--batch-size 0"),
    ("c3", "ablate/config-batch-size-one", "ablate --config {abl_batch_one} --out {new} --dry-run",
     r"--batch-size 1: out of range"),
    ("c3", "ablate/config-synth-batch-zero", "ablate --config {abl_synth_batch_zero} --out {new} --dry-run",
     r"--batch 0: out of range"),
    ("c3", "ablate/cpus-per-cell-zero", "ablate --config experiments/configs/demo.yaml --out {new} --executor slurm "
     "--cpus-per-cell 0 --dry-run", r"--cpus-per-cell 0"),
    # 4. runs that cannot learn
    ("c4", "train/one-class", TRAIN + " --data {one_class} --out {new}", r"one_class: one class"),
    ("c4", "train/one-class-left-after-skip-bad", TRAIN + " --data {half_bad} --skip-bad --out {new}",
     r"half_bad: one class"),
    # 5. a run folder or checkpoint that is not what it claims; a malformed device
    ("c5", "train/resume-garbage-last", TRAIN + " --data {data} --resume {clf_garbage} --out {new}",
     r"clf_garbage/last.pt: .*cannot be read"),
    ("c5", "train/resume-truncated-last", TRAIN + " --data {data} --resume {clf_truncated} --out {new}",
     r"clf_truncated/last.pt: .*cannot be read"),
    ("c5", "train-gan/resume-garbage-last", GAN + " --data {data} --resume {gan_garbage} --out {new}",
     r"gan_garbage/last.pt: .*cannot be read.*start a new run"),
    ("c5", "train-gan/resume-truncated-last", GAN + " --data {data} --resume {gan_truncated} --out {new}",
     r"gan_truncated/last.pt: .*cannot be read"),
    ("c5", "train/device-malformed", TRAIN + " --data {data} --device gpu0 --out {new}", r"--device 'gpu0'"),
    ("c5", "synth/device-malformed", "synth --gan {gan} --all --n 2 --device cuda:x --out {new}",
     r"--device 'cuda:x'"),
    ("c5", "fid/device-malformed", FID + " --real {data} --device gpu --out {new}.json", r"--device 'gpu'"),
    ("c5", "predict/device-malformed", "predict --model {clf} --images {test} --device gpu0 --out {new}.json",
     r"--device 'gpu0'"),
    ("c5", "submit/device-malformed", "submit --model {clf} --images {test} --device 0cuda --out {new}.csv",
     r"--device '0cuda'"),
    # 6. an output place inside the input data
    ("c6", "train/out-inside-data", TRAIN + " --data {data} --out {data}/runs", r"--out .*inside --data"),
    ("c6", "train-gan/out-inside-data", GAN + " --data {data} --out {data}/gans", r"--out .*inside --data"),
    ("c6", "inspect/out-inside-data", "data inspect --data {data} --out {data}/eda", r"--out .*inside --data"),
    ("c6", "split/out-inside-data", "data split --data {data} --out {data}/blue/splits", r"--out .*inside --data"),
    ("c6", "preview/out-inside-data", "augment preview --data {data} --out {data}/blue/p.png",
     r"--out .*inside --data"),
    ("c6", "train/out-inside-val-data", TRAIN + " --data {data} --val-data {test} --out {test}/runs",
     r"--out .*inside --val-data"),
    # 7. leftovers: a refused command leaves nothing behind (the tree check below)
    ("c7", "ablate/data-missing", "ablate --config {abl_no_data} --out {new}", r"data.train: .*nope not found"),
    ("c7", "ablate/synth-without-manifest", "ablate --config {abl_no_manifest} --out {new}", r"no manifest.csv"),
    ("c7", "train/refused-after-its-folder", TRAIN + " --data {one_class} --out {new}", r"one class"),
    ("c7", "train/weights-missing", TRAIN + " --data {data} --weights {root}/nope.pt --out {new}", r"nope.pt"),
    ("c7", "train-gan/refused-after-its-folder", GAN + " --data {data} --mode per-class --out {new}",
     r"fewer than 32"),
    # 8. messages that point the wrong way
    ("c8", "inspect/data-empty", "data inspect --data '' --out {new}", r"--data '': empty"),
    ("c8", "split/data-empty", "data split --data '' --out {new}", r"--data '': empty"),
    ("c8", "preview/data-empty", "augment preview --data '' --out {new}.png", r"--data '': empty"),
    ("c8", "train/data-empty", TRAIN + " --data '' --out {new}", r"--data '': empty"),
    ("c8", "train-gan/data-empty", GAN + " --data '' --out {new}", r"--data '': empty"),
    ("c8", "train/out-empty", TRAIN + " --data {data} --out ''", r"--out '': empty"),
    ("c8", "train/resume-empty", TRAIN + " --data {data} --resume '' --out {new}", r"--resume '': empty"),
    ("c8", "train/val-data-empty", TRAIN + " --data {data} --val-data '' --out {new}", r"--val-data '': empty"),
    ("c8", "predict/images-empty", "predict --model {clf} --images '' --out {new}.json", r"--images '': empty"),
    ("c8", "submit/template-empty-name", "submit --model {clf} --images {test} --template '' --out {new}.csv",
     r"--template '': empty"),
    ("c8", "fid/latin1-csv-no-encoding-option", FID + " --real {csv_latin1} --out {new}.json",
     r"^(?!.*--encoding).*csv_latin1.csv: not UTF-8"),
    ("c8", "fid/corrupt-real-no-skip-bad", FID + " --real {bad} --out {new}.json", r"^(?!.*--skip-bad).*broken.png"),
    ("c8", "fid/corrupt-fake-resized-no-skip-bad", "fid --real {data} --fake {bad} --extractor effnet-lite0 "
     "--resize 16 --out {new}.json", r"^(?!.*--skip-bad).*broken.png: .*; remove"),
    ("c8", "synth/classifier-of-other-classes", "synth --gan {gan} --all --n 2 --classifier {clf_other} "
     "--min-confidence 0.5 --out {new}", r"--classifier .*other_classes.*red"),
]


def _tree(*roots: Path) -> dict[str, int]:
    return {str(p): p.stat().st_size for r in roots if r.exists() for p in r.rglob("*")}


@pytest.mark.parametrize("case, argv, message", CASES + [(f"{k}/{c}", a, m) for k, c, a, m in CASES_23],
                         ids=[c[0] for c in CASES] + [f"{k}/{c}" for k, c, _, _ in CASES_23])
def test_bad_input_gets_one_line_exit_2_and_leaves_nothing(env, tmp_path, case, argv, message, monkeypatch):
    import re

    monkeypatch.chdir(Path(__file__).parents[1])
    fill = {k: str(v) for k, v in env.items()}
    args = ["" if a == "''" else a.format(**fill, new=str(tmp_path / "new")) for a in argv.split()]
    before = _tree(env["root"], tmp_path)
    res = CliRunner().invoke(cli, args, catch_exceptions=False)
    out = res.output.strip()
    assert res.exit_code == 2, f"{case}: exit {res.exit_code}: {out[-500:]}"
    errors = [ln for ln in out.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in out, f"{case}: {out[-500:]}"
    assert re.search(message, errors[0].removeprefix("Error: ")), f"{case}: {errors[0]}"
    assert _tree(env["root"], tmp_path) == before, f"{case}: files were written or changed"


# --- Issue 23: cases that must succeed, or take more than one command; named test_c<class>_ like CASES_23's tags ---

def _tiny_gan(data: Path, out: Path, **kw):
    from augment.spec import DataSpec
    from gen.options import GanOptions

    base = dict(data=DataSpec(str(data)), out=str(out), size=32, steps=2, batch=4, nz=16, ngf=8, ndf=8,
                snapshot_every=2, log_every=1, min_class_images=4, judge_steps=0, progress=False)
    return GanOptions(**{**base, **kw})


@pytest.mark.parametrize("n_train, batch, extra", [(9, 8, {}), (33, 32, {}), (17, 8, {"balanced_sampler": True}),
                                                   (17, 8, {"mixup": 0.2}), (8, 8, {}), (10, 8, {})],
                         ids=["9-at-8", "33-at-32", "17-at-8-balanced-sampler", "17-at-8-mixup", "8-at-8", "10-at-8"])
def test_c1_train_never_hands_batch_norm_a_batch_of_one(tmp_path, n_train, batch, extra):
    """At 16 px test_resnet's last feature maps are 1x1: a last batch of one image crashed batch norm."""
    from clf.train import train

    write_images(tmp_path / "train", {"blue": n_train - n_train // 2, "red": n_train // 2}, size=16)
    write_images(tmp_path / "val", {"blue": 2, "red": 2}, seed=1, size=16)
    run = train(tiny_options(tmp_path / "train", tmp_path / "runs", epochs=1, size=16, batch_size=batch,
                             val_data=str(tmp_path / "val"), **extra))
    assert (run / "metrics.json").exists()


def test_c1_drop_last_rule_per_process():
    from clf.data import train_drop_last
    from common.errors import UserError

    assert train_drop_last(33, 32) and train_drop_last(9, 8) and not train_drop_last(32, 32)
    assert not train_drop_last(34, 32) and not train_drop_last(8, 8)
    assert train_drop_last(17, 8, drop_last=True) and not train_drop_last(8, 8, drop_last=True)
    assert train_drop_last(65, 32, replicas=2) and not train_drop_last(67, 32, replicas=2)  # 33, 34 per process
    with pytest.raises(UserError, match="training split holds 1 image"):
        train_drop_last(1, 8)


def test_c1_the_filter_classifier_trains_on_a_batch_plus_one(tmp_path):
    """The ablation's filter classifier is the grid's TrainOptions on the real training split: 9 images at batch 8."""
    from clf.train import train
    from experiments.config import from_dict
    from experiments.filtering import filter_classifier

    write_images(tmp_path / "train", {"blue": 5, "red": 4}, size=16)
    write_images(tmp_path / "val", {"blue": 2, "red": 2}, seed=1, size=16)
    cfg = from_dict({"name": "f", "data": {"train": str(tmp_path / "train"), "test": str(tmp_path / "val")},
                     "gan": {"synth": str(tmp_path / "unused")}, "grid": {"ratios": [0, 1], "filter": [0.5]},
                     "classifier": {"model": "test_resnet", "epochs": 1, "size": 16,
                                    "options": {"batch_size": 8, "workers": 0, "warmup_epochs": 0, "progress": False}}})
    prepared = {"train": str(tmp_path / "train"), "test": str(tmp_path / "val"), "val_data": str(tmp_path / "val")}
    run = filter_classifier(cfg, tmp_path / "abl", prepared, lambda job, marker, say: str(train(job.options)))
    assert (Path(run) / "metrics.json").exists()


@pytest.mark.parametrize("per_class", [1, 16, 33], ids=["2-images", "32-images", "66-images"])
def test_c1_the_judge_trains_on_any_split(per_class):
    """The judge draws fixed-size batches (min(64, n) ≥ 2 images) with replacement: never a batch of one."""
    import torch

    from gen.judge import train_judge

    images = torch.randint(0, 255, (2 * per_class, 3, 32, 32), dtype=torch.uint8)
    targets = torch.arange(2).repeat_interleave(per_class)
    net, info = train_judge(images, targets, 2, steps=3)
    assert info["steps"] == 3 and info["n_train"] >= 2


def test_c1_train_gan_trains_on_a_batch_plus_one(tmp_path):
    """train-gan draws every batch at --batch from a seeded sampler: 33 images at batch 32 are no special case."""
    from gen.train import train_gan

    write_images(tmp_path / "data", {"blue": 17, "red": 16}, size=16)
    run = train_gan(_tiny_gan(tmp_path / "data", tmp_path / "gans", batch=32, judge_steps=3))
    assert (run / "last.pt").exists() and (run / "judge.pt").exists()


def test_c1_a_run_that_crashes_before_its_first_checkpoint_leaves_no_folder(tmp_path, monkeypatch):
    from clf.module import ClassifierModule
    from clf.train import train
    from gen.gan import GanPair
    from gen.train import train_gan

    def boom(*a, **k):
        raise RuntimeError("a bug in the first step")

    write_images(tmp_path / "data", {"blue": 6, "red": 6}, size=16)
    monkeypatch.setattr(ClassifierModule, "training_step", boom)
    monkeypatch.setattr(GanPair, "train_step", boom)
    with pytest.raises(RuntimeError):
        train(tiny_options(tmp_path / "data", tmp_path / "runs", epochs=1, size=16))
    with pytest.raises(RuntimeError):
        train_gan(_tiny_gan(tmp_path / "data", tmp_path / "gans"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_c2_a_latin1_or_cp1251_csv_reads_with_encoding_and_a_bom_is_no_column(env, tmp_path):
    import json

    for name, enc, label in (("csv_latin1", "latin-1", "café"), ("csv_cp1251", "cp1251", "Живопись")):
        res = CliRunner().invoke(cli, ["data", "inspect", "--data", str(env[name]), "--encoding", enc,
                                       "--out", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
        assert label in json.loads((tmp_path / name / "summary.json").read_text(encoding="utf-8"))["counts_per_class"]
    bom = env["root"] / "bom.csv"  # a spreadsheet's "CSV UTF-8" begins with a byte-order mark
    bom.write_bytes("\ufeffpath,label\ndata/blue/blue000.png,blue\ndata/red/red000.png,red\n".encode("utf-8"))
    res = CliRunner().invoke(cli, ["data", "inspect", "--data", str(bom), "--out", str(tmp_path / "bom")])
    assert res.exit_code == 0, res.output


def test_c4_the_grader_api_refuses_one_class(tmp_path):
    from clf.grader import train_classifier
    from common.errors import UserError

    write_images(tmp_path, {"blue": 3}, size=16)
    with pytest.raises(UserError, match="train_gt: one class"):
        train_classifier({f"blue/blue00{i}.png": 0 for i in range(3)}, str(tmp_path))


def test_c6_resume_compares_paths_resolved(tmp_path, monkeypatch):
    """A run started with a relative --data resumes with the same folder given absolute (and the reverse)."""
    import torch

    from clf.train import train
    from gen.train import train_gan

    write_images(tmp_path / "data", {"blue": 6, "red": 6}, size=16)
    monkeypatch.chdir(tmp_path)
    run = train(tiny_options(Path("data"), tmp_path / "runs", epochs=1, size=16))
    assert train(tiny_options(tmp_path / "data", "runs", epochs=1, size=16, resume=str(run))) == run
    gan = train_gan(_tiny_gan(tmp_path / "data", tmp_path / "gans"))
    train_gan(_tiny_gan(Path("./data/"), tmp_path / "gans", steps=4, resume=str(gan)))
    assert torch.load(gan / "last.pt", map_location="cpu", weights_only=True)["step"] == 4


def _ablation_cfg(env, path: Path, train: Path) -> Path:
    cfg = yaml.safe_load(env["abl_ok"].read_text())
    cfg["name"], cfg["data"]["train"] = "fix_me", str(train)
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_c7_a_refused_ablation_leaves_nothing_and_never_blocks_the_corrected_one(env, tmp_path):
    from experiments.ablate import AblateOptions, run_ablation

    out = tmp_path / "out"
    bad = _ablation_cfg(env, tmp_path / "bad.yaml", env["root"] / "nope")
    res = CliRunner().invoke(cli, ["ablate", "--config", str(bad), "--out", str(out)])
    assert res.exit_code == 2 and "nope not found" in res.output and not out.exists()
    # A folder holding only the config.json of an attempt refused by an older version does not block either.
    stale = out / "ablate-fix_me"
    stale.mkdir(parents=True)
    (stale / "config.json").write_text('{"command": "ablate", "options": {}, "ablation": {"ratios": ["0", "9"]}}')
    good = _ablation_cfg(env, tmp_path / "good.yaml", env["data"])
    folder = run_ablation(AblateOptions(config=str(good), out=str(out), prepare_only=True), echo=lambda s: None)
    assert (folder / "prepared.json").exists()
    assert not list(folder.glob(".*.lock")), "the prepare lock stays behind"


def test_c7_synth_leaves_no_lock_file_beside_its_out(env, tmp_path):
    res = CliRunner().invoke(cli, ["synth", "--gan", str(env["gan"]), "--all", "--n", "2",
                                   "--out", str(tmp_path / "s")])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


def test_c7_a_killed_inspect_leaves_no_temp_image_in_out(env, tmp_path):
    """SIGTERM while a figure is half-written (its temp file exists): the command exits, the temp file goes."""
    import subprocess
    import sys

    stop_mid_write = (
        "import os, signal, sys\n"
        "from matplotlib.figure import Figure\n"
        "savefig = Figure.savefig\n"
        "def killed_after_writing(self, *a, **k):\n"
        "    savefig(self, *a, **k)\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "Figure.savefig = killed_after_writing\n"
        "import cli\n"
        "cli.main(sys.argv[1:])\n")
    out = tmp_path / "eda"
    res = subprocess.run([sys.executable, "-c", stop_mid_write, "data", "inspect", "--data", str(env["data"]),
                          "--out", str(out)], cwd=Path(__file__).parents[1], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 128 + 15, res.stderr[-800:]
    assert list(out.iterdir()) == [], [p.name for p in out.iterdir()]
    # SIGKILL skips every cleanup: the next inspect into the same folder removes what it left.
    (out / ".samples.png.k1ll3d00.tmp.png").write_bytes(b"half a png")
    res = CliRunner().invoke(cli, ["data", "inspect", "--data", str(env["data"]), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["class_balance.png", "samples.png", "sizes.png", "summary.json"]


def test_c3_every_numeric_option_of_the_options_commands_has_a_range():
    """A new numeric option without a range would slip past check_ranges: each click number is in its command's
    ranges dict (train's --epochs keeps its own check, which knows about --stage)."""
    import click

    from clf.options import PREDICT_RANGES, TRAIN_RANGES
    from gen.metrics.command import FID_RANGES
    from gen.options import GAN_RANGES, SYNTH_RANGES

    ranges = {"train": {*TRAIN_RANGES, "epochs"}, "train-gan": set(GAN_RANGES), "synth": set(SYNTH_RANGES),
              "fid": set(FID_RANGES), "predict": set(PREDICT_RANGES), "submit": set(PREDICT_RANGES)}
    for name, known in ranges.items():
        numbers = {p.name for p in cli.commands[name].params
                   if isinstance(p.type, (click.types.IntParamType, click.types.FloatParamType))}
        assert numbers <= known, f"{name}: no range for {sorted(numbers - known)}"
