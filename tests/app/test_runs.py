"""Run-directory helpers: the predictor's cross-validated rank check, the pick rows, the presets."""
import numpy as np
import pytest
from scipy import stats
from sklearn.base import clone
from sklearn.model_selection import KFold, cross_val_predict

from gemgraph.predictor import EfficiencyPredictor
from gemgraph.app.runs import build_config, pick_rows, predictor_cv, report
from gemgraph.store import RunStore

from .._search_helpers import tiny_search

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    store = RunStore(run / "run.sqlite", create=True, config={"seed": 0, "predictor": {"hidden": 16, "n_members": 1}})
    search = tiny_search(store, verify_top=2)
    search.run(7)
    search.encoder.save(run / "encoder.pt")
    store.close()
    return run


def test_predictor_cv_is_kfold_out_of_fold_spearman(run_dir):
    before = (run_dir / "run.sqlite").read_bytes()
    cv = predictor_cv(run_dir, folds=3, seed=1)
    assert (run_dir / "run.sqlite").read_bytes() == before  # nothing written
    with RunStore(run_dir / "run.sqlite", readonly=True) as st:
        rows = sorted((r for r in st.candidates(status="ok") if r["score"] is not None), key=lambda r: r["iteration"])
        template = EfficiencyPredictor.from_state_dict(st.latest_predictor()[1])
    from gemgraph import encoders

    Z = encoders.load(run_dir / "encoder.pt").embed([r["cell"] for r in rows]).numpy().astype(np.float64)
    y = np.array([r["score"] for r in rows])
    # by hand: the run's predictor class and settings (cloned, unfitted), shuffled 3-fold
    assert template.hidden == 16 and template.max_epochs == 50
    pred = cross_val_predict(clone(template), Z, y, cv=KFold(3, shuffle=True, random_state=1))
    assert cv["n"] == len(rows) == 7 and cv["folds"] == 3
    assert cv["measured"] == y.tolist() and np.allclose(cv["predicted"], pred)
    assert cv["spearman"] == pytest.approx(stats.spearmanr(y, pred).statistic)
    assert -1.0 <= cv["spearman"] <= 1.0
    # more folds than candidates: leave-one-out
    assert predictor_cv(run_dir, folds=50)["folds"] == 7
    with pytest.raises(ValueError, match="folds"):
        predictor_cv(run_dir, folds=1)


def test_report_carries_the_cv_and_the_verified_pick(run_dir):
    rep = report(run_dir, cv_folds=3)
    assert rep["predictor_cv"]["n"] == 7 and rep["predictor_cv"] == predictor_cv(run_dir, folds=3)
    assert report(run_dir, cv_folds=0)["predictor_cv"] is None
    rows = pick_rows(rep["pick"])
    assert [r["rank"] for r in rows] == [1, 2, 3]
    # verify_top 2: two rows verified; measured rows (verified, or evaluated in the search) rank
    # first and carry MACs; a predicted-only row has neither
    assert len([r for r in rows if r["verified"] is not None]) == 2
    for r in rows:
        assert (r["measured"] is not None) == (r["mmacs"] is not None) == (r["how"] != "predicted")
    measured = [r["measured"] is not None for r in rows]
    assert measured == sorted(measured, reverse=True)
    assert all(r["op_nodes"] >= 1 and r["edges"] >= 1 for r in rows)


def test_predictor_cv_needs_four_candidates_and_the_encoder(tmp_path):
    store = RunStore(tmp_path / "run.sqlite", create=True, config={"seed": 0})
    search = tiny_search(store)
    search.run(3)
    search.encoder.save(tmp_path / "encoder.pt")
    store.close()
    assert predictor_cv(tmp_path) is None


def test_quick_preset_proxy_settings():
    t = build_config("quick")["trainer"]
    assert (t["resolution"], t["epochs"], t["max_train_images"], t["batch_size"], t["lr"]) == (16, 2, None, 64, 0.1)
    assert build_config("quick")["bootstrap"]["verify_top"] == 2
