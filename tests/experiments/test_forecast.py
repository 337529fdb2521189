"""ablate says what the rest of its grid will take, learning each recipe's pace from its finished cells."""
import pytest

from experiments.forecast import GridForecast, recipe, work

COUNTS = {"a": 100, "b": 20}  # 120 reals


def cell(epochs=6, model="lite0", size=64, **kw):
    return {"epochs": epochs, "model": model, "size": size, "lite0_imagenet": True, "data": {"data": "/train"}, **kw}


def test_a_cells_work_is_its_epochs_times_its_images(tmp_path):
    assert work(cell(), COUNTS) == 6 * 120
    assert work(cell(ratio=1.0), COUNTS) == 6 * 240                  # one synthetic per real: twice the images
    assert work(cell(epochs=12), COUNTS) == 12 * 120                 # the equal-cost arm
    assert work(cell(balance=True), COUNTS) == 6 * 200               # b topped up to 100: 80 more
    subset = tmp_path / "headroom-f0.25-s0.csv"                      # a manifest: its own rows
    subset.write_text("path,label\n" + "".join(f"{i}.png,a\n" for i in range(30)))
    assert work(cell(data={"data": str(subset)}), COUNTS) == 6 * 30
    assert recipe(cell()) != recipe(cell(lite0_imagenet=False))
    assert recipe(cell(data={"data": str(subset)})) == recipe(cell())  # the same net: timed by the same cells


def test_the_rest_is_priced_per_recipe_and_shared_by_the_jobs_at_once():
    f = GridForecast({"r0": cell(), "r1": cell(ratio=1.0), "x2": cell(epochs=12), "scratch": cell(80, "airbench", 32,
                      lite0_imagenet=False)}, COUNTS, jobs=2)
    f.done("r0", 60.0)  # 10 s per epoch of the real set (120 images)
    # r1 and x2: 12 units each at 10 s: 240 s, two at a time: 2 min; the scratch recipe is not timed yet
    assert f.line() == "≈ 2 min 00 s left for 2 (2 at a time), 1 of recipes not timed yet"
    f.done("scratch", 800.0)
    f.done("r1", None)  # a failed cell teaches nothing about the pace
    assert f.line() == "≈ 1 min 00 s left for 1 (2 at a time)"  # the scratch recipe timed now: nothing untimed
    f.done("x2", 100.0)
    assert f.line() == ""
