"""bench/gpu_check.sh --smoke: the prepared GPU check runs every section on the CPU and writes a sane summary."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "gpu_check.sh"


def test_smoke_run_writes_every_section(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SYNTHMIX_CACHE": str(tmp_path / "cache")}
    r = subprocess.run(["bash", str(SCRIPT), "--smoke", str(tmp_path / "out")], env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    s = json.loads((tmp_path / "out" / "gpu_check.json").read_text())
    assert s["smoke"] and s["complete"] and s["env"]["torch"]
    sec = s["sections"]
    assert set(sec) == {"gan", "host", "fid", "train", "cells", "pace"}
    assert not any("error" in v for v in sec.values())
    assert sec["gan"]["steps"] > 1 and sec["gan"]["steps_per_s"] > 0 and sec["gan"]["images_per_s"] > 0
    assert sec["host"]["host_share"] == 1.0  # on the CPU every step is host time
    assert sec["fid"]["n_fake"] == 40 and sec["fid"]["fid"] > 0 and "kid" in sec["fid"]
    assert sec["train"]["images_per_s"] > 0
    assert [row["cells"] for row in sec["cells"]["rows"]] == [1, 2]
    assert all(row["images_per_s"] > 0 for row in sec["cells"]["rows"])
    assert sec["cells"]["best_cells"] in (1, 2)
    assert [(r["size"], r["width"]) for r in sec["pace"]["rows"]] == [(32, 8)] and sec["pace"]["rows"][0]["steps_per_s"] > 0
