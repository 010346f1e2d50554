"""gemgraph.builders: a RunConfig -> the search and its parts, read from typed attributes."""
import json
import subprocess
import sys

import pytest

from gemgraph import encoders
from gemgraph.builders import (
    as_run_config,
    make_encoder,
    make_kernel,
    make_predictor,
    make_search,
    make_space,
    make_trainer,
    sampler_args,
)
from gemgraph.config import PRESETS, RunConfig
from gemgraph.errors import InputError
from gemgraph.memstore import MemoryStore

from ._search_helpers import tiny_data


def _cfg(**over):
    base = {"nodes": 6, "max_concat": 2, "macs": None, "min_ops": None, "iterations": 3, "seed": 5,
            "bootstrap.num_samples": 200, "bootstrap.top_k": 2, "bootstrap.verify_top": 1,
            "sampler.name": "acquisition", "sampler.batch_size": 1, "sampler.n_init": 2,
            "encoder.dim": 8, "encoder.n_train": 40, "encoder.max_epochs": 1, "predictor.hidden": 8,
            "predictor.n_members": 2, "trainer.epochs": 1, "trainer.width": 4, "trainer.batch_size": 16}
    base.update(over)
    return PRESETS["quick"].with_overrides(base)


def test_parts_follow_the_typed_config():
    cfg = _cfg()
    space = make_space(cfg)
    assert space.num_nodes == 6 and not space.constrained
    assert make_space(PRESETS["quick"]).constrained and not make_space(PRESETS["quick"], regime=False).constrained
    k = make_kernel(cfg)
    assert k.n_iter == cfg.encoder.wl_iter and k.node_labels == tuple(cfg.encoder.labels)
    enc = make_encoder(cfg)
    assert enc.num_nodes == 6 and enc.dim == 8
    p = make_predictor(cfg)
    assert (p.hidden, p.n_members, p.seed) == (8, 2, 5)
    assert sampler_args(cfg) == ("acquisition", {"batch_size": 1, "n_init": 2, "kappa": 1.0})
    t = make_trainer(cfg, device="cpu")
    assert (t.epochs, t.width, t.batch_size, t.seed) == (1, 4, 16, 5)


def test_the_dict_form_builds_the_same_parts():
    cfg = _cfg()
    d = json.loads(json.dumps(cfg.to_dict()))  # as a run store keeps it
    assert as_run_config(d) == cfg
    assert make_space(d).num_nodes == make_space(cfg).num_nodes
    assert sampler_args(d) == sampler_args(cfg)
    assert repr(make_predictor(d)) == repr(make_predictor(cfg))


def test_bad_configs_are_input_errors():
    with pytest.raises(InputError, match="cfg: expected a RunConfig"):
        make_space(42)
    with pytest.raises(InputError, match="lacks"):
        make_space({"nodes": 6})  # not a whole run config
    with pytest.raises(InputError, match="encoder.name: expected one of"):
        make_encoder(RunConfig().with_overrides({"encoder.name": "nope"}))
    with pytest.raises(InputError, match="trainer: expected 'proxy'"):
        make_search(_cfg(), MemoryStore(), encoder=encoders.create("raw", num_nodes=6), trainer="gpu")


def test_make_search_runs_a_config_from_python():
    cfg = _cfg()
    train, ev = tiny_data()
    from gemgraph.evaluate import ProxyTrainer

    def search():
        trainer = ProxyTrainer(epochs=1, batch_size=16, width=4, train_data=train, eval_data=ev, device="cpu",
                               seed=cfg.seed, num_threads=1)
        s = make_search(cfg, MemoryStore(), trainer=trainer, device="cpu")  # the encoder trained from the config
        assert (s.num_samples, s.top_k, s.verify_top, s.seed) == (200, 2, 1, 5)
        assert "acquisition" in repr(s.sampler).lower() or "mean" in repr(s.sampler).lower()
        return s.run(cfg.iterations)

    a, b = search(), search()
    assert a.iterations_done == 3 and a.best == b.best  # same config and seed, same pick


def test_builders_do_not_need_the_command_line():
    code = ("import sys, gemgraph.builders, gemgraph.rundir\n"
            "print(sorted(m for m in sys.modules if m.startswith('gemgraph.app') or m == 'argparse'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    assert "gemgraph.app" not in out.stdout, out.stdout
