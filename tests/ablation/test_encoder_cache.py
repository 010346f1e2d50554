"""The NB101 encoder cache is keyed on the settings and on the code version (gemgraph's version,
the source of the training modules, torch, the device): a change to any makes a new entry."""
from __future__ import annotations

import ast
import importlib.util
import json
import sys

import pytest
import torch

import gemgraph
from gemgraph.ablation import encoder as abl_encoder
from gemgraph.ablation.encoder import TRAINING_MODULES, _cache_digest, encoder_code_version, train_nb101_encoder
from gemgraph.errors import InputError
from gemgraph.utils import _source_digest, source_digest

TINY = {"dim": 8, "hidden": (16,), "n_train": 200, "max_epochs": 1, "time_limit": None, "progress": False,
        "device": "cpu"}

#: Imports of the training modules that do not enter the trained encoder, and why.
NOT_TRAINING = {
    "gemgraph": "the package itself: its version is a key part of its own",
    "gemgraph.errors": "exception classes: messages, no numbers",
    "gemgraph.protocols": "nb101's NB101Pool.evaluate (a looked-up Result), not the encoder's training",
    "gemgraph.cost": "SearchSpace's MAC window; train_nb101_encoder passes NB101 cells, never a SearchSpace",
}


def _gemgraph_imports(name: str) -> set[str]:
    """The gemgraph modules ``name``'s source imports (at the top or inside functions)."""
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None
    tree = ast.parse(spec.loader.get_source(name))  # type: ignore[attr-defined]
    pkg = name if spec.submodule_search_locations else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = pkg.split(".")
                mod = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            cands = [mod] + [f"{mod}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            cands = [a.name for a in node.names]
        else:
            continue
        for c in cands:
            if c.split(".")[0] != "gemgraph":
                continue
            try:
                if importlib.util.find_spec(c) is not None:
                    out.add(c)
            except ModuleNotFoundError:  # ``from .mod import name``: a name, not a module
                pass
    return out


def test_training_modules_are_closed_under_their_imports():
    assert len(set(TRAINING_MODULES)) == len(TRAINING_MODULES)
    missing = {m: sorted(_gemgraph_imports(m) - set(TRAINING_MODULES) - set(NOT_TRAINING)) for m in TRAINING_MODULES}
    assert not {m: v for m, v in missing.items() if v}, "add them to TRAINING_MODULES (or to NOT_TRAINING, why)"
    for must in ("gemgraph.embedding", "gemgraph.wl", "gemgraph.encoders.mlp", "gemgraph.nb101"):
        assert must in TRAINING_MODULES


def test_code_version_and_digest():
    code = encoder_code_version("cpu")
    assert code["gemgraph"] == gemgraph.__version__ and code["torch"] == torch.__version__
    assert code["device"] == "cpu" and len(code["source"]) == 32
    assert code == encoder_code_version("cpu")  # stable within a process
    settings = {"a": 1}
    d = _cache_digest(settings, code)
    assert d == _cache_digest({"a": 1}, dict(code)) and len(d) == 16
    for key in code:
        assert _cache_digest(settings, {**code, key: code[key] + "x"}) != d, key
    assert _cache_digest({"a": 2}, code) != d


def test_source_digest_follows_the_source(tmp_path, monkeypatch):
    mod = tmp_path / "gg_digest_probe.py"
    mod.write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    first = source_digest(["gg_digest_probe"])
    assert source_digest(["gg_digest_probe"]) == first
    _source_digest.cache_clear()
    assert source_digest(["gg_digest_probe"]) == first  # the same text, the same digest
    mod.write_text("X = 2\n")
    _source_digest.cache_clear()
    assert source_digest(["gg_digest_probe"]) != first
    assert source_digest(["gg_digest_probe", "gemgraph.wl"]) != source_digest(["gemgraph.wl", "gg_digest_probe"])
    sys.modules.pop("gg_digest_probe", None)
    for bad in ([], "gemgraph.wl", ["gemgraph.no_such_module"], ["no_such_package.x"]):
        with pytest.raises(InputError, match="modules"):
            source_digest(bad)


def test_cache_is_reused_only_for_the_same_code(tmp_path, monkeypatch, one_thread):
    monkeypatch.setenv("GEMGRAPH_CACHE", str(tmp_path))
    enc, info = train_nb101_encoder("mlp", **TINY)
    assert not info["cached"] and info["code"] == encoder_code_version("cpu")
    folders = sorted(p.name for p in (tmp_path / "nb101-encoder").iterdir())
    assert len(folders) == 1
    stored = json.loads((tmp_path / "nb101-encoder" / folders[0] / "encoder.json").read_text())
    assert stored["code"] == info["code"] and stored["settings"] == info["settings"]

    again, info2 = train_nb101_encoder("mlp", **TINY)  # nothing changed: reused
    assert info2["cached"]
    assert sorted(p.name for p in (tmp_path / "nb101-encoder").iterdir()) == folders

    # the training code changes: a new entry, trained again; the old one stays for the old code
    monkeypatch.setattr(abl_encoder, "source_digest", lambda modules: "0" * 32)
    _, info3 = train_nb101_encoder("mlp", **TINY)
    assert not info3["cached"] and info3["code"]["source"] == "0" * 32
    now = sorted(p.name for p in (tmp_path / "nb101-encoder").iterdir())
    assert len(now) == 2 and set(folders) < set(now)
    assert train_nb101_encoder("mlp", **TINY)[1]["cached"]

    monkeypatch.setattr(gemgraph, "__version__", gemgraph.__version__ + ".post1")  # an upgrade
    assert not train_nb101_encoder("mlp", **TINY)[1]["cached"]
    assert len(list((tmp_path / "nb101-encoder").iterdir())) == 3


def test_explicit_cache_dir_is_retrained_for_other_code(tmp_path, monkeypatch, one_thread):
    out = tmp_path / "enc"
    assert not train_nb101_encoder("mlp", **TINY, cache_dir=out)[1]["cached"]
    assert train_nb101_encoder("mlp", **TINY, cache_dir=out)[1]["cached"]
    monkeypatch.setattr(abl_encoder, "source_digest", lambda modules: "f" * 32)
    _, info = train_nb101_encoder("mlp", **TINY, cache_dir=out)
    assert not info["cached"]
    assert json.loads((out / "encoder.json").read_text())["code"]["source"] == "f" * 32
