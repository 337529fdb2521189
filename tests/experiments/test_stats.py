"""The ablation statistics against numbers worked out by hand (3 seeds, t quantile with 2 degrees of freedom)."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from experiments.stats import holm, mean_ci, paired_differences, summarize, verdict, wilcoxon_pvalue

# Student t, 97.5% quantile, 2 degrees of freedom, by hand: with 2 df the cdf is F(t) = 1/2 + t / (2 sqrt(2 + t^2)),
# so F(t) = 0.975  <=>  t / sqrt(2 + t^2) = 0.95  <=>  t^2 = 0.95^2 * 2 / (1 - 0.95^2) = 1.805 / 0.0975
# => t = 4.3026527... (the textbook table value 4.303).
T975_DF2 = math.sqrt(1.805 / 0.0975)


def p_two_sided_df2(t: float) -> float:
    """Two-sided p of a t statistic with 2 df, from the closed-form cdf: 1 - |t| / sqrt(2 + t^2)."""
    return 1 - abs(t) / math.sqrt(2 + t * t)


def test_t_quantile_used_is_the_textbook_one():
    assert 0.5 + T975_DF2 / (2 * math.sqrt(2 + T975_DF2 ** 2)) == pytest.approx(0.975, abs=1e-12)


def test_mean_ci_three_seeds_by_hand():
    # mean 0.82; deviations -0.02, 0, 0.02 -> s^2 = (4e-4 + 0 + 4e-4) / 2 = 4e-4, s = 0.02; sem = 0.02/sqrt(3)
    r = mean_ci([0.80, 0.82, 0.84])
    half = T975_DF2 * 0.02 / math.sqrt(3)  # = 0.0496827...
    assert r["n"] == 3
    assert r["mean"] == pytest.approx(0.82)
    assert r["std"] == pytest.approx(0.02)
    assert r["ci_lo"] == pytest.approx(0.82 - half) and r["ci_lo"] == pytest.approx(0.770317, abs=1e-6)
    assert r["ci_hi"] == pytest.approx(0.82 + half) and r["ci_hi"] == pytest.approx(0.869683, abs=1e-6)


def test_mean_ci_one_value_has_no_interval_and_nans_are_dropped():
    r = mean_ci([0.5, float("nan")])
    assert r["n"] == 1 and r["mean"] == 0.5 and math.isnan(r["ci_lo"]) and math.isnan(r["ci_hi"])


def _grid() -> pd.DataFrame:
    """Two presets x ratios {0, 1, balance} x seeds 0-2, rows shuffled so pairing must go by seed, not order."""
    rows = []
    # preset "basic": baseline .70 .72 .71 ; ratio 1: .74 .73 .75 -> d = .04 .01 .04
    for s, (b, t) in enumerate([(0.70, 0.74), (0.72, 0.73), (0.71, 0.75)]):
        rows += [dict(aug="basic", ratio="0", seed=s, test_acc=b), dict(aug="basic", ratio="1", seed=s, test_acc=t)]
    # preset "heavy": baseline .60 .62 .61 ; balance: .64 .67 .67 -> d = .04 .05 .06
    for s, (b, t) in enumerate([(0.60, 0.64), (0.62, 0.67), (0.61, 0.67)]):
        rows += [dict(aug="heavy", ratio="0", seed=s, test_acc=b),
                 dict(aug="heavy", ratio="balance", seed=s, test_acc=t)]
    return pd.DataFrame(rows).sample(frac=1.0, random_state=3).reset_index(drop=True)


def test_paired_differences_by_hand():
    p = paired_differences(_grid(), "test_acc", setting=["aug"]).set_index(["aug", "ratio"])
    assert len(p) == 2

    # basic, ratio 1: d = .04 .01 .04; mean .03; deviations .01 -.02 .01 -> s^2 = 6e-4/2 = 3e-4;
    # sem = sqrt(3e-4/3) = 0.01; t = .03/.01 = 3; half = 4.3027 * .01
    r = p.loc[("basic", "1")]
    assert r["n_pairs"] == 3
    assert r["mean_diff"] == pytest.approx(0.03)
    assert r["std_diff"] == pytest.approx(math.sqrt(3e-4))
    assert r["ci_lo"] == pytest.approx(0.03 - T975_DF2 * 0.01)   # -0.0130265: CI includes 0
    assert r["ci_hi"] == pytest.approx(0.03 + T975_DF2 * 0.01)   # 0.0730265
    assert r["p_value"] == pytest.approx(p_two_sided_df2(3.0))   # 1 - 3/sqrt(11) = 0.0954655
    assert r["p_value"] == pytest.approx(0.0954655, abs=1e-6)

    # heavy, balance: d = .04 .05 .06; mean .05, s = .01, sem = .01/sqrt(3); t = 5*sqrt(3) = 8.660254
    r = p.loc[("heavy", "balance")]
    sem = 0.01 / math.sqrt(3)
    assert r["mean_diff"] == pytest.approx(0.05)
    assert r["ci_lo"] == pytest.approx(0.05 - T975_DF2 * sem)    # 0.0251582 > 0
    assert r["ci_hi"] == pytest.approx(0.05 + T975_DF2 * sem)
    assert r["p_value"] == pytest.approx(p_two_sided_df2(5 * math.sqrt(3)))  # 0.0130718
    # Wilcoxon, 3 positive differences: exact two-sided p = 2 * P(W+ = 6) = 2 * 1/2^3 = 0.25
    assert r["p_wilcoxon"] == pytest.approx(0.25)


def test_pairs_are_matched_on_seed_and_setting_only_where_both_finished():
    df = _grid()
    df = df[~((df.aug == "basic") & (df.ratio == "0") & (df.seed == 1))]  # a failed baseline cell
    r = paired_differences(df, "test_acc", setting=["aug"]).set_index(["aug", "ratio"]).loc[("basic", "1")]
    # remaining pairs: seeds 0 and 2 -> d = .04 .04
    assert r["n_pairs"] == 2 and r["mean_diff"] == pytest.approx(0.04)


def test_summarize_means_and_intervals_per_setting():
    s = summarize(_grid(), by=["aug", "ratio"], metrics=["test_acc"]).set_index(["aug", "ratio"])
    r = s.loc[("basic", "0")]  # .70 .72 .71: mean .71, s = .01
    assert r["n"] == 3 and r["mean"] == pytest.approx(0.71)
    assert r["ci_hi"] - r["mean"] == pytest.approx(T975_DF2 * 0.01 / math.sqrt(3))


def test_holm_by_hand():
    # sorted .01 .03 .04 -> 3*.01=.03, 2*.03=.06, max(.06, 1*.04)=.06
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    out = holm([float("nan"), 0.2])
    assert math.isnan(out[0]) and out[1] == pytest.approx(0.2)


def test_wilcoxon_undefined_when_all_differences_zero():
    assert math.isnan(wilcoxon_pvalue([0.0, 0.0, 0.0]))


def test_verdict_rule():
    p = paired_differences(_grid(), "test_acc", setting=["aug"])
    v = verdict(p, "test_acc", setting=["aug"])
    assert v["verdict"] == "helped" and "ratio=balance" in v["line"] and "aug=heavy" in v["line"]

    only_basic = p[p.aug == "basic"]  # CI [-0.013, 0.073] includes 0
    assert verdict(only_basic, "test_acc", ["aug"])["verdict"] == "no measurable difference"

    hurt = p.assign(mean_diff=-p.mean_diff, ci_lo=-p.ci_hi, ci_hi=-p.ci_lo)
    # the best is basic/1 at -0.03 with CI [-0.073, 0.013] -> includes 0; flip basic too to get "hurt"
    assert verdict(hurt, "test_acc", ["aug"])["verdict"] == "no measurable difference"
    assert "significantly worse at ratio=balance" in verdict(hurt, "test_acc", ["aug"])["line"]
    all_hurt = hurt.assign(ci_hi=-0.001)
    assert verdict(all_hurt, "test_acc", ["aug"])["verdict"] == "hurt"

    assert verdict(p.iloc[0:0], "test_acc", ["aug"])["verdict"] == "not measured"


def test_verdict_counts_the_generator_seed_as_part_of_the_treatment():
    import pandas as pd

    # ratio 1 helps with generator seed 0 (CI above 0) but not with seed 1 (CI spans 0): as one treatment it is
    # only as strong as its weakest generator; ratio 2 helps a little with both.
    p = pd.DataFrame([
        {"aug": "basic", "ratio": "1/g0", "n_pairs": 3,
         "mean_diff": 0.08, "ci_lo": 0.05, "ci_hi": 0.11, "p_value": .01},
        {"aug": "basic", "ratio": "1/g1", "n_pairs": 3,
         "mean_diff": 0.01, "ci_lo": -0.04, "ci_hi": 0.06, "p_value": .5},
        {"aug": "basic", "ratio": "2/g0", "n_pairs": 3,
         "mean_diff": 0.03, "ci_lo": 0.01, "ci_hi": 0.05, "p_value": .03},
        {"aug": "basic", "ratio": "2/g1", "n_pairs": 3,
         "mean_diff": 0.02, "ci_lo": 0.005, "ci_hi": 0.035, "p_value": .04}])
    per_row = verdict(p, "test_acc", ["aug"])
    assert per_row["verdict"] == "helped" and "ratio=1/g0" in per_row["line"]  # each row its own treatment
    v = verdict(p, "test_acc", ["aug"], treatment=p["ratio"].str.split("/").str[0])
    assert v["verdict"] == "helped" and "ratio=2," in v["line"] and "g0 +0.0300" in v["line"]
    assert v["best"]["ratio"] == "2/g1"  # the weakest seed's row is the treatment's evidence
    only_1 = p[p.ratio.str.startswith("1")]
    v1 = verdict(only_1, "test_acc", ["aug"], treatment=only_1["ratio"].str.split("/").str[0])
    assert v1["verdict"] == "no measurable difference" and "g1 +0.0100 [-0.0400, +0.0600]" in v1["line"]


def test_verdict_with_generator_seeds_is_conservative_both_ways():
    import pandas as pd

    def rows(*specs):
        return pd.DataFrame([{"aug": "basic", "ratio": r, "n_pairs": n, "mean_diff": m, "ci_lo": lo, "ci_hi": hi,
                              "p_value": 0.05} for r, n, m, lo, hi in specs])

    def judge(p, generators=2):
        return verdict(p, "test_acc", ["aug"], treatment=p["ratio"].str.split("/").str[0], generators=generators)

    nan = float("nan")
    # one generator seed with a single pair (no CI) is the weakest evidence, not ignored
    assert judge(rows(("1/g0", 3, 0.05, 0.03, 0.07), ("1/g1", 1, -0.2, nan, nan)))["verdict"] != "helped"
    # a generator seed with no finished pair at all: not helped on one generator's word
    assert judge(rows(("1/g0", 3, 0.05, 0.03, 0.07)))["verdict"] == "no measurable difference"
    assert judge(rows(("1/g0", 3, 0.05, 0.03, 0.07)), generators=1)["verdict"] == "helped"
    # hurt only when every generator seed's CI is below 0
    assert judge(rows(("1/g0", 3, -0.03, -0.05, -0.01), ("1/g1", 3, 0.03, 0.01, 0.05)))["verdict"] == \
        "no measurable difference"
    assert judge(rows(("1/g0", 3, -0.03, -0.05, -0.01), ("1/g1", 3, -0.02, -0.04, -0.01)))["verdict"] == "hurt"
    # NaN CIs among other rows do not break the rule without generator seeds either: the largest mean is the best
    # setting, and one without a CI cannot be called helped
    plain = rows(("1", 3, 0.05, 0.03, 0.07), ("2", 1, 0.09, nan, nan))
    v = verdict(plain, "test_acc", ["aug"])
    assert v["verdict"] == "no measurable difference" and "ratio=2," in v["line"]
    assert verdict(plain.iloc[:1], "test_acc", ["aug"])["verdict"] == "helped"
