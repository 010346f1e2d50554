"""The presets' descriptions have one source, gemgraph.config.PRESET_DESCRIPTIONS: the help of
``gemgraph search`` / ``gemgraph config`` and ``gemgraph config list`` print it (the README's
table is compared with it in tests/test_readme.py)."""
from __future__ import annotations

import json

import pytest

from gemgraph.app.cli import main
from gemgraph.config import PRESET_DESCRIPTIONS, PRESETS


def _squash(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("command", ["search", "config"])
def test_the_help_lists_every_preset_with_its_description(command, capsys):
    assert main([command, "--help"]) == 0
    out = _squash(capsys.readouterr().out)
    for name, d in PRESET_DESCRIPTIONS.items():
        assert _squash(f"{name} {d.what}; where: {d.where}") in out, (name, out)


def test_config_list_prints_the_descriptions(capsys):
    assert main(["config", "list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("presets") and len([ln for ln in out.splitlines() if ln.startswith("  ") and
                                              not ln.startswith("   ")]) == len(PRESETS)
    assert main(["config", "list", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert list(got) == list(PRESETS)
    assert got["quick"] == {"what": PRESET_DESCRIPTIONS["quick"].what, "where": PRESET_DESCRIPTIONS["quick"].where}


def test_config_list_refuses_what_it_would_ignore(capsys):
    assert main(["config", "list", "--preset", "quick"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gemgraph config: error: --preset: 'config list' lists every preset") and \
        len(err.strip().splitlines()) == 1, err


def test_the_descriptions_state_the_presets_own_numbers():
    for name in ("quick", "default", "paper"):
        cfg = PRESETS[name].to_dict()
        what = PRESET_DESCRIPTIONS[name].what
        assert what.startswith(f"{cfg['iterations']} candidates") or f": {cfg['iterations']} candidates" in what
        assert f"{cfg['trainer']['epochs']} epochs" in what
    for name in ("quick", "default"):
        assert f"width {PRESETS[name].to_dict()['trainer']['width']}" in PRESET_DESCRIPTIONS[name].what
        assert f"bootstrap of {PRESETS[name].to_dict()['bootstrap']['num_samples']:,}" in \
            PRESET_DESCRIPTIONS[name].what
    for name in ("imagenet-a", "imagenet-b"):
        lo, hi = PRESETS[name].to_dict()["macs"]
        assert f"({lo / 1e6:.0f}M-{hi / 1e6:.0f}M MACs)" in PRESET_DESCRIPTIONS[name].what
    assert PRESETS["quick-regime"].to_dict()["objective"] == "regime" and \
        "regime objective" in PRESET_DESCRIPTIONS["quick-regime"].what
