"""Confidence intervals over seeds (gemgraph.stats)."""
import math

import numpy as np
import pytest
from scipy import stats as st

from gemgraph.stats import Interval, mean_ci, paired_diff_ci


def test_bootstrap_intervals_are_scipys_and_deterministic_per_seed():
    x = np.random.default_rng(0).normal(0.9, 0.02, 12)
    for method, name in (("bca", "BCa"), ("percentile", "percentile")):
        ci = mean_ci(x, method=method, seed=7, n_resamples=2000)
        ref = st.bootstrap((x,), np.mean, n_resamples=2000, method=name, rng=np.random.default_rng(7))
        assert (ci.low, ci.high) == (ref.confidence_interval.low, ref.confidence_interval.high)
        assert ci == mean_ci(list(x), method=method, seed=7, n_resamples=2000)  # same seed, same interval
        assert ci != mean_ci(x, method=method, seed=8, n_resamples=2000)
        assert ci.low < ci.estimate < ci.high and ci.estimate == pytest.approx(x.mean()) and ci.n == 12
    assert mean_ci(x, method="BCa", seed=7, n_resamples=2000).method == "bca"


def test_student_t_interval_is_the_textbook_one():
    x = np.array([0.91, 0.93, 0.92, 0.95, 0.90])
    ci = mean_ci(x, method="t", confidence=0.9)
    half = st.t.ppf(0.95, 4) * x.std(ddof=1) / math.sqrt(5)
    assert ci.low == pytest.approx(x.mean() - half) and ci.high == pytest.approx(x.mean() + half)
    assert ci.half_width == pytest.approx(half) and ci.contains(x.mean()) and not ci.contains(1.0)
    assert "90% CI" in repr(ci) and ci.to_dict()["method"] == "t"


def test_bca_follows_skew_where_percentile_and_t_do_not():
    x = np.random.default_rng(1).lognormal(0, 1, 30)
    bca, pct, t = (mean_ci(x, method=m, seed=0) for m in ("bca", "percentile", "t"))
    assert bca.high - bca.estimate > bca.estimate - bca.low  # right-skewed: longer upper arm
    assert (bca.low, bca.high) != (pct.low, pct.high)
    assert t.high - t.estimate == pytest.approx(t.estimate - t.low)


@pytest.mark.parametrize("method", ["bca", "percentile", "t"])
def test_coverage_on_normal_data(method):
    rng = np.random.default_rng(2)
    hits = sum(mean_ci(rng.normal(0.5, 1.0, 25), method=method, seed=k, n_resamples=999).contains(0.5)
               for k in range(200))
    assert 0.88 <= hits / 200 <= 0.99


def test_paired_difference_cancels_the_seed_effect():
    rng = np.random.default_rng(3)
    seed_effect = rng.normal(0, 0.05, 20)  # shared by both arms
    a = 0.90 + seed_effect + rng.normal(0.004, 0.002, 20)
    b = 0.90 + seed_effect
    ca, cb = mean_ci(a, seed=0), mean_ci(b, seed=0)
    assert ca.low < cb.high  # separately the intervals overlap ...
    d = paired_diff_ci(a, b, seed=0)
    assert d.low > 0 and d.estimate == pytest.approx((a - b).mean())  # ... paired, the gain is clear
    assert d == mean_ci(a - b, seed=0)
    same = paired_diff_ci(b, b)
    assert (same.low, same.estimate, same.high) == (0.0, 0.0, 0.0)


def test_degenerate_and_bad_inputs():
    assert mean_ci([0.5, 0.5, 0.5]) == Interval(0.5, 0.5, 0.5, 0.95, 3, "bca")
    with pytest.raises(ValueError, match="values: expected at least 2"):
        mean_ci([0.5])
    with pytest.raises(ValueError, match="values: expected finite"):
        mean_ci([0.5, float("nan"), 0.6])
    with pytest.raises(ValueError, match="values: expected a 1-D"):
        mean_ci([[0.5, 0.6]])
    with pytest.raises(ValueError, match="a, b: expected paired"):
        paired_diff_ci([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="method"):
        mean_ci([1, 2, 3], method="normal")
    with pytest.raises(ValueError, match="confidence"):
        mean_ci([1, 2, 3], confidence=95)
    with pytest.raises(ValueError, match="seed"):
        mean_ci([1, 2, 3], seed=-1)
    with pytest.raises(ValueError, match="n_resamples"):
        mean_ci([1, 2, 3], n_resamples=10)


def test_ci_bounds_for_tables():
    from gemgraph.stats import ci_bounds, mean_ci

    x = [0.1, 0.2, 0.4, 0.3]
    iv = mean_ci(x, seed=1)
    assert ci_bounds(x, seed=1) == (iv.low, iv.high)
    lo, hi = ci_bounds([0.5])
    assert lo != lo and hi != hi  # NaN for a single value



def test_ci_bounds_falls_back_to_percentile_where_bca_is_undefined(monkeypatch):
    import gemgraph.stats as st

    x = [0.1, 0.2, 0.4, 0.3, 0.9]
    real = st.mean_ci

    def bca_undefined(values, **kw):
        if kw.get("method") == "bca":
            raise ValueError("BCa interval undefined for these values")
        return real(values, **kw)

    monkeypatch.setattr(st, "mean_ci", bca_undefined)
    pc = real(x, method="percentile", seed=2)
    assert st.ci_bounds(x, seed=2) == (pc.low, pc.high)
    assert st.ci_bounds(x, seed=2) != (real(x, seed=2).low, real(x, seed=2).high)  # not the BCa interval

    def other_error(values, **kw):
        raise ValueError("n_resamples: expected an int >= 100")

    monkeypatch.setattr(st, "mean_ci", other_error)
    with pytest.raises(ValueError, match="n_resamples"):  # only "undefined" BCa falls back
        st.ci_bounds(x, seed=2)
