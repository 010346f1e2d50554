import numpy as np
import pytest
import torch

from gemgraph.predictor import EfficiencyPredictor


def data(n=300, d=6, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, d))
    y = np.sin(Z[:, 0]) + 0.5 * Z[:, 1] ** 2 - Z[:, 2] + 0.05 * rng.normal(size=n)
    return Z, 10 + 3 * y  # not standardised: the predictor must standardise


def test_fits_nonlinear_function():
    Z, y = data()
    p = EfficiencyPredictor(seed=0).fit(Z[:250], y[:250])
    assert p.score(Z[250:], y[250:]) > 0.8
    assert p.predict(Z).shape == (300,)
    assert p.n_features_in_ == 6 and len(p.y_) == 250
    assert "fitted on 250" in repr(p)


def test_deterministic_and_seed_dependent():
    Z, y = data()
    a = EfficiencyPredictor(seed=3).fit(Z, y).predict(Z)
    b = EfficiencyPredictor(seed=3).fit(Z, y).predict(Z)
    c = EfficiencyPredictor(seed=4).fit(Z, y).predict(Z)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_update_refits_on_enlarged_set():
    Z, y = data()
    p = EfficiencyPredictor(seed=0).fit(Z[:100], y[:100])
    p.update(Z[100:200], y[100:200])
    assert len(p.y_) == 200
    q = EfficiencyPredictor(seed=0).fit(Z[:200], y[:200])
    np.testing.assert_array_equal(p.predict(Z), q.predict(Z))
    fresh = EfficiencyPredictor(seed=0).update(Z[:50], y[:50])
    assert len(fresh.y_) == 50


def test_ensemble_std_and_torch_input():
    Z, y = data()
    p = EfficiencyPredictor(n_members=4, seed=0).fit(Z[:200], y[:200])
    mu, sd = p.predict(torch.tensor(Z), return_std=True)
    assert mu.shape == sd.shape == (300,) and (sd > 0).all()
    single = EfficiencyPredictor(n_members=1, seed=0).fit(Z[:200], y[:200])
    assert (single.predict(Z, return_std=True)[1] == 0).all()


def test_tiny_and_constant_targets():
    p = EfficiencyPredictor(max_epochs=20).fit(np.eye(3), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(p.predict(np.eye(3)), 1.0, atol=1e-5)


def test_state_dict_round_trip():
    Z, y = data()
    p = EfficiencyPredictor(n_members=2, seed=1).fit(Z, y)
    st = p.state_dict()
    import io

    buf = io.BytesIO()
    torch.save(st, buf)
    buf.seek(0)
    q = EfficiencyPredictor.from_state_dict(torch.load(buf, weights_only=True))
    np.testing.assert_allclose(q.predict(Z), p.predict(Z), rtol=1e-6)


def test_bad_input():
    Z, y = data(20)
    p = EfficiencyPredictor()
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="fit"):
        p.predict(Z)
    with pytest.raises(ValueError, match="NaN"):
        p.fit(Z, np.r_[y[:-1], np.nan])
    bad = Z.copy()
    bad[3, 2] = np.inf
    with pytest.raises(ValueError, match="row 3"):
        p.fit(bad, y)
    with pytest.raises(ValueError, match="expected 20 targets"):
        p.fit(Z, y[:5])
    with pytest.raises(ValueError, match="2-D"):
        p.fit(Z[0], y)
    with pytest.raises(ValueError, match="at least 2"):
        p.fit(Z[:1], y[:1])
    with pytest.raises(ValueError, match="hidden"):
        EfficiencyPredictor(hidden=0).fit(Z, y)
    p.fit(Z, y)
    with pytest.raises(ValueError, match="features"):
        p.predict(Z[:, :3])
    with pytest.raises(ValueError, match="features"):
        p.update(Z[:, :3], y)


def test_scikit_learn_protocol():
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_score

    p = EfficiencyPredictor(hidden=32, max_epochs=200, seed=3)
    assert p.get_params()["hidden"] == 32 and clone(p).get_params() == p.get_params()
    Z, y = data(n=200)
    scores = cross_val_score(p, Z, y, cv=3)  # clone + fit + score (R^2) per fold
    assert scores.shape == (3,) and np.all(scores > 0.5)
    assert not hasattr(p, "y_")  # cross-validation fitted clones, not p


def test_unfitted_estimators_raise_sklearns_not_fitted_error():
    """Fittedness is scikit-learn's check_is_fitted everywhere, with a message saying what to call."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    from gemgraph import Cell, SearchSpace, WLKernel
    from gemgraph.bootstrap import bootstrap_optimize
    from gemgraph.encoders import create
    from gemgraph.predictor import EfficiencyPredictor
    from gemgraph.utils import is_fitted

    p = EfficiencyPredictor(max_epochs=5, n_members=2)
    assert not is_fitted(p) and "fitted on" not in repr(p)
    with pytest.raises(NotFittedError, match=r"EfficiencyPredictor: not fitted yet; call fit\(Z, y\) before predict"):
        p.predict(np.zeros((2, 3)))
    with pytest.raises(NotFittedError, match="nothing to save"):
        p.state_dict()
    with pytest.raises(NotFittedError, match="predictor: expected a fitted EfficiencyPredictor"):
        bootstrap_optimize(p, create("mlp", num_nodes=6, dim=4), SearchSpace(6), num_samples=10)
    with pytest.raises(NotFittedError, match=r"WLKernel: not fitted yet; call fit\(X\)"):
        WLKernel().transform([Cell([[0, 1], [0, 0]])])
    p.fit(np.random.default_rng(0).normal(size=(6, 3)), np.arange(6.0))
    check_is_fitted(p)
    assert is_fitted(p) and "fitted on 6" in repr(p)
