"""Typed run configs (gemgraph.config): presets equal to the dict configs they replace, unknown
keys and bad values refused with the valid ones listed, config files and --set with their
precedence, stored configs of older runs, and the CLI end of it (no training: the search is
stopped before it trains, or faked)."""
from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from pathlib import Path

import pytest

from gemgraph.cli import main
from gemgraph.config import (
    LEGACY_DEFAULTS, PRESETS, EncoderConfig, RunConfig, SpaceConfig, TrainerConfig, _flatten, build_config,
    load_config_file, parse_set, resolve_config,
)
from gemgraph.runs import make_predictor, make_space, make_trainer, sampler_args, store_path
from gemgraph.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
#: run configs as the dict-based code (commit 06ebe62, and two older versions) built and stored them
FIXTURE = json.loads((ROOT / "tests" / "data" / "configs_v0.json").read_text())
#: the keys the typed config declares that some presets' dicts lacked, with what the dict-based code
#: did without them (None: the key was read as None; objective: it always scored by efficiency)
NEW_KEYS = {"trainer.num_threads": None, "trainer.resolution": None, "trainer.max_eval_images": None,
            "objective": "efficiency"}
#: presets added after the dict-based code
NEW_PRESETS = {"quick-regime"}


def _objects(cfg: dict) -> dict:
    """What a config makes: the space, trainer, predictor and sampler settings, comparable."""
    space = make_space(cfg)
    trainer = make_trainer(cfg, device="cpu")
    keep = ("epochs", "batch_size", "lr", "weight_decay", "width", "cells_per_stage", "max_train_images",
            "max_eval_images", "split", "seed", "lam", "num_threads", "resolution")
    return {"space": (space.num_nodes, space.ops, space.max_concat, space.edge_prob, space.macs, space.min_ops,
                      space.cost.config if space.constrained else None),
            "trainer": {k: getattr(trainer, k) for k in keep}, "predictor": repr(make_predictor(cfg)),
            "sampler": sampler_args(cfg)}


# ---------------------------------------------------------------------- presets = today's dicts
@pytest.mark.parametrize("preset", sorted(FIXTURE["presets"]))
def test_presets_equal_the_dict_presets_they_replace(preset):
    old, new = _flatten(FIXTURE["presets"][preset]), _flatten(build_config(preset))
    for key, value in old.items():  # same value and the same JSON (int stays int, list stays list)
        assert json.dumps(new[key]) == json.dumps(value), key
    extra = set(new) - set(old)
    assert extra <= set(NEW_KEYS) and all(new[k] == NEW_KEYS[k] for k in extra), extra
    assert _objects(build_config(preset)) == _objects(FIXTURE["presets"][preset])  # the same run


def test_presets_are_frozen_instances():
    assert set(PRESETS) == set(FIXTURE["presets"]) | NEW_PRESETS
    # quick-regime: the quick preset on the regime objective, nothing else changed
    qr, qk = _flatten(build_config("quick-regime")), _flatten(build_config("quick"))
    assert {k for k in qk if qk[k] != qr[k]} == {"preset", "objective"} and qr["objective"] == "regime"
    assert all(isinstance(c, RunConfig) and c.preset == name for name, c in PRESETS.items())
    assert PRESETS["default"] == RunConfig()
    q = PRESETS["quick"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.iterations = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.trainer.epochs = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        PRESETS["mine"] = q  # type: ignore[index]
    with pytest.raises(TypeError):
        q.space.macs_network["width"] = 8  # type: ignore[index]
    assert hash(q) == hash(copy.deepcopy(q)) and pickle.loads(pickle.dumps(q)) == q
    assert dataclasses.asdict(q)["trainer"]["resolution"] == 16
    # build_config hands out copies: changing one changes neither the preset nor the next one
    d = build_config("quick")
    d["trainer"]["epochs"] = 99
    d["macs_network"]["width"] = 1
    assert build_config("quick")["trainer"]["epochs"] == 2 and build_config("quick")["macs_network"]["width"] == 16


@pytest.mark.parametrize("preset", sorted(FIXTURE["presets"]))
def test_round_trip(preset):
    cfg = PRESETS[preset].with_overrides({"nodes": 12, "trainer.max_train_images": 640, "macs": [0, None]})
    d = cfg.to_dict()
    assert RunConfig.from_dict(d) == cfg and RunConfig.from_stored(d) == cfg
    assert RunConfig.from_dict(json.loads(json.dumps(d))) == cfg
    assert json.loads(json.dumps(d)) == d  # plain JSON: lists, not tuples
    assert set(_flatten(d)) == set(RunConfig.all_keys())  # every key, resolved


# ---------------------------------------------------------------------- unknown keys, bad values
@pytest.mark.parametrize("make,needles", [
    (lambda: build_config("quick", **{"trainer.epoch": 3}), ["trainer.epoch: unknown config key", "'epochs'", "lr"]),
    (lambda: build_config("quick", epoch=3), ["epoch: unknown config key", "iterations", "trainer"]),
    (lambda: build_config("quick", **{"trainr.epochs": 3}), ["trainr.epochs: unknown config section", "trainer"]),
    (lambda: build_config("quick", **{"space.node": 3}), ["node: unknown config key", "nodes"]),
    (lambda: RunConfig.from_dict({"trainer": {"epoch": 3}}), ["trainer.epoch: unknown config key", "epochs"]),
    (lambda: RunConfig.from_dict({"encoder": {"dims": 3}}), ["encoder.dims", "dim"]),
    (lambda: TrainerConfig.from_dict({"threads": 1}), ["trainer.threads", "num_threads"]),
    (lambda: build_config("nope"), ["preset: expected one of", "quick"]),
])
def test_unknown_keys_are_refused_with_the_valid_ones(make, needles):
    with pytest.raises(ValueError) as info:
        make()
    for n in needles:
        assert n in str(info.value), str(info.value)


@pytest.mark.parametrize("overrides,message", [
    ({"trainer.epochs": "abc"}, "trainer.epochs: expected an int, got 'abc'"),
    ({"trainer.epochs": 2.5}, "trainer.epochs: expected an int, got 2.5"),
    ({"nodes": True}, "nodes: expected an int, got True"),
    ({"trainer.lr": "fast"}, "trainer.lr: expected a number, got 'fast'"),
    ({"encoder.use_ops": "yes"}, "encoder.use_ops: expected true or false, got 'yes'"),
    ({"trainer.split": "train"}, "trainer.split: expected one of ['val', 'test'], got 'train'"),
    ({"ops": ["conv1x1", 3]}, "ops: expected a list of strings, got ['conv1x1', 3]"),
    ({"edge_prob": [0.1]}, "edge_prob: expected a list [a number, a number], got [0.1]"),
    ({"macs": [5e6, 1e6]}, "macs: empty window"),
    ({"encoder.labels": "colour"}, "encoder.labels: expected 'degree', 'op'"),
    ({"encoder.time_limit": float("nan")}, "encoder.time_limit: expected a number or None, got nan"),
    ({"macs_network": 3}, "macs_network: expected a table (dict) with string keys or None, got 3"),
    ({"trainer": 3}, "trainer: expected a table of trainer settings, got 3"),
])
def test_bad_values_are_refused_naming_the_key(overrides, message):
    with pytest.raises(ValueError) as info:
        build_config("quick", **overrides)
    assert message in str(info.value), str(info.value)


def test_values_are_coerced_to_the_field_type():
    cfg = PRESETS["quick"].with_overrides({"nodes": 6.0, "trainer.lr": 1, "trainer.num_threads": "none",
                                           "macs": [0, None], "ops": ["conv1x1"], "encoder.labels": "degree"})
    assert type(cfg.space.nodes) is int and cfg.space.nodes == 6
    assert type(cfg.trainer.lr) is float and cfg.trainer.num_threads is None
    assert cfg.space.macs == (0.0, None) and cfg.space.ops == ("conv1x1",) and cfg.encoder.labels == "degree"
    assert SpaceConfig(nodes=7).nodes == 7 and EncoderConfig(labels=["degree", "op"]).labels == ("degree", "op")
    with pytest.raises(ValueError, match="nodes: expected an int"):
        SpaceConfig(nodes="7")
    # build_config keeps today's meaning of None (keep the preset's value); with_overrides sets None
    assert build_config("quick", macs=None)["macs"] == [25e6, 100e6]
    assert PRESETS["quick"].with_overrides({"macs": None}).space.macs is None


# ---------------------------------------------------------------------- files, --set, precedence
def test_config_files_json_and_toml(tmp_path):
    j = tmp_path / "c.json"
    j.write_text(json.dumps({"preset": "quick", "nodes": 9, "trainer": {"epochs": 3}, "sampler": {"name": "ucb"}}))
    t = tmp_path / "c.toml"
    t.write_text('preset = "quick"\n[space]\nnodes = 9\n[trainer]\nepochs = 3\n[sampler]\nname = "ucb"\n')
    a, b = resolve_config(file=j), resolve_config(file=t)
    assert a == b and a.preset == "quick" and a.space.nodes == 9 and a.trainer.epochs == 3 and a.sampler.name == "ucb"
    assert a.trainer.width == PRESETS["quick"].trainer.width  # keys left out keep the preset's value
    # a full config as `gemgraph config show --json` writes it reads back the same
    full = tmp_path / "full.json"
    full.write_text(json.dumps(a.to_dict()))
    assert resolve_config(file=full) == a
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"trainer": {"epoch": 3}}))
    with pytest.raises(ValueError, match=r"--config '.*bad.json': trainer.epoch: unknown config key"):
        resolve_config(file=bad)
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="is not valid JSON"):
        load_config_file(bad)
    (tmp_path / "bad.toml").write_text("[trainer\n")
    with pytest.raises(ValueError, match="is not valid TOML"):
        load_config_file(tmp_path / "bad.toml")
    (tmp_path / "c.yaml").write_text("a: 1")
    with pytest.raises(ValueError, match="expected a .json or .toml"):
        load_config_file(tmp_path / "c.yaml")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="expected a table of settings"):
        load_config_file(tmp_path / "list.json")
    with pytest.raises(FileNotFoundError, match="--config: no such config file"):
        load_config_file(tmp_path / "missing.toml")


def test_parse_set():
    assert parse_set(["trainer.epochs=3", "macs=[0,null]", "encoder.labels=degree", "trainer.lr=1e-2",
                      "sampler.name=\"ucb\"", "trainer.epochs=4"]) == {
        "trainer.epochs": 4, "macs": [0, None], "encoder.labels": "degree", "trainer.lr": 0.01, "sampler.name": "ucb"}
    for bad in ("trainer.epochs", "=3"):
        with pytest.raises(ValueError, match="--set: expected SECTION.KEY=VALUE"):
            parse_set([bad])
    with pytest.raises(ValueError, match=r"^--set: trainer.epochs: expected an int, got 'abc'$"):
        resolve_config("quick", sets=["trainer.epochs=abc"])
    with pytest.raises(ValueError, match=r"^--set: trainer.epoch: unknown config key"):
        resolve_config("quick", sets=["trainer.epoch=3"])


def test_precedence_preset_file_set_flags(tmp_path):
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"preset": "paper", "nodes": 9, "seed": 5, "trainer": {"epochs": 3, "width": 4}}))
    cfg = resolve_config(None, file=f, sets=["trainer.epochs=4", "nodes=10"],
                         overrides={"nodes": 12, "trainer.width": None})
    assert cfg.preset == "paper" and cfg.iterations == 200  # the file's preset is the base
    assert cfg.seed == 5 and cfg.trainer.width == 4  # file over preset (a None flag is not given)
    assert cfg.trainer.epochs == 4  # --set over file
    assert cfg.space.nodes == 12  # flags over --set
    assert resolve_config("quick", file=f).preset == "quick"  # --preset over the file's preset
    assert resolve_config(None, file=f, sets=["preset=default"]).iterations == 50  # --set preset over the file's
    assert resolve_config().to_dict() == build_config("default")


# ---------------------------------------------------------------------- stored configs of older runs
@pytest.mark.parametrize("name", sorted(FIXTURE["stored"]))
def test_stored_configs_of_older_runs_load_as_they_were_made(name):
    raw = FIXTURE["stored"][name]
    cfg = RunConfig.from_stored(raw)
    flat, old = _flatten(cfg.to_dict()), _flatten(raw)
    assert all(flat[k] == v for k, v in old.items())
    assert all(flat[k] == LEGACY_DEFAULTS[k] for k in set(flat) - set(old))
    # the resolved config makes exactly what the stored dict made (runs resume as they were)
    assert _objects(cfg.to_dict()) == _objects(raw)
    if name == "quick-8c81bb6":  # the oldest: no window, degree labels, random sampler, no thread setting
        assert cfg.space.macs is None and cfg.encoder.labels == "degree" and cfg.sampler.name == "random"
        assert cfg.trainer.num_threads is None and cfg.predictor.n_members == 1


def test_stored_configs_that_cannot_be_read_say_why():
    raw = copy.deepcopy(FIXTURE["stored"]["quick-small"])
    raw["trainer"]["warmup"] = 2  # a key from another version
    with pytest.raises(ValueError, match=r"config: .*\['trainer.warmup'\].*another gemgraph version"):
        RunConfig.from_stored(raw)
    with pytest.raises(ValueError, match="not a gemgraph search run's config"):
        RunConfig.from_stored({"fixture": "schema 1", "seed": 0})  # tests/data/run_schema1.sqlite's config
    raw = copy.deepcopy(FIXTURE["stored"]["quick-small"])
    raw["nodes"] = "six"
    with pytest.raises(ValueError, match="config: the run's stored config has a bad value: nodes: expected an int"):
        RunConfig.from_stored(raw)


# ---------------------------------------------------------------------- the CLI
def _fake_env(monkeypatch, seen: list):
    """gemgraph search without data or training: the search body records the config it got."""
    from . import _search_helpers

    monkeypatch.setattr("gemgraph.runs.load_data", lambda cfg, root=None, **kw: _search_helpers.tiny_data())
    monkeypatch.setattr("gemgraph.app.cli.search._search",
                        lambda args, run_dir, cfg, store, data, it: seen.append((cfg, it)) or {})


TINY = ["--nodes", "6", "--macs", "0:", "--min-ops", "1", "--quiet", "--device", "cpu"]


def test_search_config_file_and_set_reach_the_stored_config(tmp_path, monkeypatch):
    seen: list = []
    _fake_env(monkeypatch, seen)
    f = tmp_path / "c.toml"
    f.write_text('iterations = 3\nnodes = 7\n[trainer]\nepochs = 3\nlr = 0.05\n[bootstrap]\nnum_samples = 300\n')
    run = tmp_path / "run"
    assert main(["search", "--preset", "quick", "--config", str(f), "--set", "trainer.epochs=1",
                 "--set", "encoder.n_train=300", "--out", str(run), *TINY]) == 0
    (typed, iterations), = seen
    assert isinstance(typed, RunConfig)  # the search body gets the typed config
    cfg = typed.to_dict()
    assert iterations == 3 and cfg["nodes"] == 6  # the file's nodes, overridden by --nodes
    assert cfg["trainer"]["epochs"] == 1 and cfg["trainer"]["lr"] == 0.05  # --set over the file
    assert cfg["encoder"]["n_train"] == 300 and cfg["bootstrap"]["num_samples"] == 300
    with RunStore(store_path(run), readonly=True) as st:
        stored = st.config
    assert stored == cfg and set(_flatten(stored)) == set(RunConfig.all_keys())  # the full resolved config
    # resuming: --config / --set that would change the run are refused, equal ones pass
    assert main(["search", "--resume", str(run), "--set", "trainer.epochs=9", "--quiet"]) == 2
    assert main(["search", "--resume", str(run), "--config", str(f), "--quiet"]) == 2
    assert len(seen) == 1
    assert main(["search", "--resume", str(run), "--set", "trainer.epochs=1", "--set", "trainer.lr=0.05",
                 "--quiet"]) == 0
    assert len(seen) == 2


def test_search_bad_config_input_is_one_line_before_any_work(tmp_path, monkeypatch, capsys):
    seen: list = []
    _fake_env(monkeypatch, seen)
    run = tmp_path / "run"
    for argv, needle in ((["--set", "trainer.epochs=abc"], "--set: trainer.epochs: expected an int, got 'abc'"),
                         (["--set", "trainer.epoch=3"], "did you mean 'epochs'"),
                         (["--set", "epochs"], "--set: expected SECTION.KEY=VALUE"),
                         (["--config", str(tmp_path / "none.json")], "--config: no such config file")):
        assert main(["search", "--preset", "quick", "--out", str(run), *TINY, *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert not seen and not run.exists()
    # and on resume
    run.mkdir()
    with RunStore(store_path(run), create=True, config=build_config("quick", nodes=6)):
        pass
    assert main(["search", "--resume", str(run), "--set", "trainer.epoch=3", "--quiet"]) == 2
    assert "--set: trainer.epoch: unknown config key" in capsys.readouterr().err


def test_runs_stored_by_older_code_resume_and_reopen(tmp_path, monkeypatch, capsys):
    seen: list = []
    _fake_env(monkeypatch, seen)
    # a store written by today's dict code (fixture): the same flags again open it as the same run
    raw = FIXTURE["stored"]["quick-small"]
    run = tmp_path / "run"
    run.mkdir()
    with RunStore(store_path(run), create=True, config=raw):
        pass
    flags = ["--preset", "quick", "--nodes", "6", "--iterations", "4", "--macs", "0:", "--min-ops", "1",
             "--set", "encoder.n_train=300", "--set", "encoder.max_epochs=1", "--set", "encoder.dim=8",
             "--num-samples", "200", "--train-images", "640"]
    assert main(["search", *flags, "--out", str(run), "--quiet", "--device", "cpu"]) == 0, capsys.readouterr().err
    assert seen[-1][0] == RunConfig.from_stored(raw)  # the typed config the search body reads
    # a store written before regimes, ops-aware embedding and samplers: it resumes with its old meaning
    old = tmp_path / "old"
    old.mkdir()
    with RunStore(store_path(old), create=True, config=FIXTURE["stored"]["quick-8c81bb6"]):
        pass
    assert main(["search", "--resume", str(old), "--sampler", "random", "--quiet", "--device", "cpu"]) == 0
    cfg = seen[-1][0].to_dict()
    assert cfg["macs"] is None and cfg["encoder"]["labels"] == "degree" and cfg["encoder"]["use_ops"] is False
    assert cfg["sampler"]["name"] == "random" and cfg["trainer"]["num_threads"] is None
    # gemgraph config show --run prints it resolved; a stored config of another version is one line
    assert main(["config", "show", "--run", str(old), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == cfg
    odd = tmp_path / "odd"
    odd.mkdir()
    with RunStore(store_path(odd), create=True, config={**raw, "warmup": 3}):
        pass
    assert main(["search", "--resume", str(odd), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "['warmup']" in err and "another gemgraph version" in err and len(err.strip().splitlines()) == 1


def test_config_show(tmp_path, capsys):
    assert main(["config", "show", "--preset", "quick", "--set", "trainer.epochs=3"]) == 0
    out = capsys.readouterr().out
    assert 'preset = "quick"' in out and "trainer.epochs = 3" in out and "trainer.resolution = 16" in out
    assert main(["config", "show", "--preset", "paper", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == build_config("paper")
    f = tmp_path / "c.json"
    f.write_text(json.dumps(shown))
    assert main(["config", "show", "--config", str(f), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == shown
    assert main(["config", "show", "--set", "trainer.epochs=abc"]) == 2
    assert "trainer.epochs: expected an int, got 'abc'" in capsys.readouterr().err
    assert main(["config", "show", "--run", str(tmp_path / "none")]) == 2
    assert "--run: no run store" in capsys.readouterr().err
