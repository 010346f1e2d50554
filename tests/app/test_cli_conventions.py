"""CLI conventions (issue 13 item 4): help text on every option, examples epilogs, choices from
the registries, -v / -q / --log-level before or after the subcommand, RUN/log.txt for the
commands that write a run (no handler outlives a ``main()`` call), ``--json`` that is the only
thing on stdout.

Nothing here needs the real data: runs are the tiny one of ``test_cli_errors`` or a 2-candidate
quick search on the embedded 16x16 subset with a tiny untrained encoder.
"""
from __future__ import annotations

import argparse
import json
import logging
import re

import pytest

from gemgraph import encoders
from gemgraph.app.cli import build_parser, main
from gemgraph.samplers import available as samplers
from gemgraph.store import RunLock

from .test_cli_errors import _made_run, _one_line_error, run  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("one_thread")

#: a log line as the CLI formats it: time, level, logger name, message
LINE = re.compile(r"^\d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR) (gemgraph|nasbench)[\w.]*: ")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    acts = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(acts) == 1
    return dict(acts[0].choices)


def _handlers() -> dict[str, tuple]:
    return {name: (tuple(logging.getLogger(name).handlers), logging.getLogger(name).level)
            for name in ("", "gemgraph", "nasbench", "gemgraph.app.cli")}


# ---------------------------------------------------------------------- the parser
def test_every_option_has_help_and_every_subcommand_an_examples_epilog():
    parser = build_parser()
    subs = _subparsers(parser)
    assert set(subs) == {"embed", "search", "report", "bootstrap", "train", "export", "plot", "ablation", "benchmark",
                         "config", "validate"}
    missing = []
    for name, p in [("gemgraph", parser), *subs.items()]:
        for a in p._actions:
            if isinstance(a, argparse._HelpAction):
                continue
            if not a.help or a.help is argparse.SUPPRESS:
                missing.append(f"{name} {'/'.join(a.option_strings) or a.dest}")
        if p is not parser:
            assert p.epilog and p.epilog.startswith("examples:\n  gemgraph " + name), name
            p.format_help()  # formatting must not fail (a bad %-spec raises)
    assert not missing, f"options without help text: {missing}"
    top = parser.format_help()
    for code in ("0 ", "1 ", "2 ", "130 "):
        assert f"\n  {code}" in top, code  # the exit-status table


def test_defaults_are_shown_and_choices_come_from_the_registries():
    subs = _subparsers(build_parser())
    embed = subs["embed"].format_help()
    assert "(default: 160000)" in embed and "(default: auto)" in embed and "(default: None)" not in embed
    for name in ("embed", "ablation"):
        enc = next(a for a in subs[name]._actions if a.dest == "encoder")
        assert list(enc.choices) == encoders.available()
    sampler = next(a for a in subs["search"]._actions if a.dest == "sampler")
    assert list(sampler.choices) == samplers()
    from gemgraph.config import PRESETS

    for name in ("search", "config"):
        preset = next(a for a in subs[name]._actions if a.dest == "preset")
        assert list(preset.choices) == list(PRESETS)
    for name, p in subs.items():
        for a in p._actions:
            if a.dest == "device":
                assert a.default == "auto" and "cuda:N" in a.help, name


@pytest.mark.parametrize("device,ok", [("auto", True), ("cpu", True), ("cuda", True), ("cuda:1", True),
                                       ("gpu", False), ("cuda:x", False), ("", False)])
def test_device_forms_are_validated_by_the_parser(device, ok, capsys):
    parser = build_parser()
    if ok:
        assert parser.parse_args(["embed", "--device", device]).device == device
    else:
        with pytest.raises(SystemExit) as e:
            parser.parse_args(["embed", "--device", device])
        assert e.value.code == 2
        assert "--device: expected auto, cpu, cuda or cuda:N" in capsys.readouterr().err


def test_logging_flags_before_and_after_the_subcommand():
    parser = build_parser()
    a = parser.parse_args(["-v", "report", "R", "-v"])
    assert a.verbose_top == 1 and a.verbose == 1
    a = parser.parse_args(["-q", "report", "R"])
    assert a.quiet_top and not a.quiet
    a = parser.parse_args(["report", "R", "--log-level", "DEBUG"])
    assert a.log_level == "DEBUG" and a.log_level_top is None
    with pytest.raises(SystemExit):
        parser.parse_args(["--log-level", "LOUD", "report", "R"])


# ---------------------------------------------------------------------- logging on stderr
def _log_lines(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if LINE.match(ln)]


@pytest.mark.parametrize("flags,where,shown", [
    ([], "before", False), (["-v"], "before", True), (["-v"], "after", True), (["--verbose"], "after", True),
    (["--log-level", "INFO"], "after", True), (["-v", "--log-level", "WARNING"], "after", False),
    (["-v", "-q"], "before", True),  # -q -v: no bars, INFO lines
])
def test_verbosity_shows_info_lines_with_time_and_logger_name(run, capsys, flags, where, shown):  # noqa: F811
    cmd = ["bootstrap", str(run), "--num-samples", "60", "--quiet"]
    argv = flags + cmd if where == "before" else cmd + flags
    before = _handlers()
    assert main(argv) == 0
    assert _handlers() == before  # nothing left behind
    err = capsys.readouterr().err
    lines = [ln for ln in _log_lines(err) if " INFO gemgraph.app.cli: bootstrap over 60 cells" in ln]
    assert bool(lines) == shown, err


def test_quiet_logs_errors_only_and_keeps_the_one_line_error(run, capsys):  # noqa: F811
    # an encoder.pt that cannot be loaded in a run without a recorded identity: a WARNING, then retrained
    import sqlite3

    from gemgraph.app.runs import store_path

    con = sqlite3.connect(store_path(run))
    con.execute("DELETE FROM meta WHERE key = 'encoder'")
    con.commit()
    con.close()
    (run / "encoder.pt").write_bytes(b"not a torch file")
    argv = ["bootstrap", str(run), "--num-samples", "60"]
    import shutil

    backup = run.parent / "backup"
    shutil.copytree(run, backup)
    assert main(["-q"] + argv) == 0
    assert _log_lines(capsys.readouterr().err) == []
    shutil.rmtree(run)
    shutil.copytree(backup, run)
    assert main(argv + ["--quiet", "--log-level", "WARNING"]) == 0
    warn = [ln for ln in _log_lines(capsys.readouterr().err) if " WARNING gemgraph.rundir: " in ln]
    assert warn and "cannot be loaded" in warn[0]
    # the edge's one-line error is printed whatever the level
    for flags in ([], ["-q"], ["-vv"]):
        assert main(flags + ["report", str(run), "--top", "-1"]) == 2
        _one_line_error(capsys, "--top: expected an int >= 0, got -1")


# ---------------------------------------------------------------------- RUN/log.txt
def test_bootstrap_appends_to_the_run_log_and_records_an_error(run, capsys):  # noqa: F811
    before = _handlers()
    assert main(["bootstrap", str(run), "--num-samples", "60", "--quiet"]) == 0
    assert main(["bootstrap", str(run), "--num-samples", "70", "--quiet", "--seed", "2"]) == 0
    with RunLock(run):  # in use: the one-line error on stderr, and the reason in the log
        assert main(["bootstrap", str(run), "--num-samples", "80"]) == 2
        _one_line_error(capsys, "is in use by")
    assert _handlers() == before
    text = (run / "log.txt").read_text()
    cmds = [ln for ln in text.splitlines() if "INFO gemgraph.app.cli: gemgraph bootstrap" in ln]
    assert len(cmds) == 3 and "--num-samples 70" in cmds[1]
    assert "bootstrap over 60 cells" in text and "bootstrap over 70 cells (seed 2" in text
    last = text.strip().splitlines()[-1]
    assert " ERROR gemgraph.app.cli: stopped: " in last and "is in use by" in last
    assert all(re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (INFO|WARNING|ERROR|DEBUG) ", ln)
               for ln in text.splitlines())
    # report reads the run without writing it (or its log)
    assert main(["report", str(run)]) == 0
    assert (run / "log.txt").read_text() == text


def test_debug_level_reaches_the_run_log(run, capsys):  # noqa: F811
    assert main(["--log-level", "ERROR", "bootstrap", str(run), "--num-samples", "60", "--quiet"]) == 0
    assert "bootstrap over 60 cells" in (run / "log.txt").read_text()  # INFO in the file whatever stderr shows
    assert _log_lines(capsys.readouterr().err) == []


def _tiny_search_env(monkeypatch):
    """The quick preset on the embedded 16x16 subset, a tiny untrained encoder instead of training one."""
    monkeypatch.delenv("GEMGRAPH_DATA", raising=False)
    monkeypatch.setattr("gemgraph.app.runs.prepare_encoder",
                        lambda *a, **k: encoders.create("mlp", num_nodes=6, dim=8, hidden=(16,)))


SEARCH = ["search", "--preset", "quick", "--nodes", "6", "--iterations", "2", "--num-samples", "60", "--width", "4",
          "--epochs", "1", "--train-images", "64", "--verify-top", "0", "--macs", "0:", "--min-ops", "1", "--quiet",
          "--device", "cpu"]


def test_search_json_and_run_log_new_and_resumed(tmp_path, monkeypatch, capsys):
    _tiny_search_env(monkeypatch)
    out = tmp_path / "run"
    before = _handlers()
    assert main(SEARCH + ["--out", str(out), "--json"]) == 0
    cap = capsys.readouterr()
    summary = json.loads(cap.out)  # stdout is the JSON document and nothing else
    assert summary["iterations_done"] == 2 and summary["n_failed"] == 0 and summary["resumed_from"] == 0
    assert summary["pick"]["num_evaluated"] == 60 and summary["pick"]["top"][0]["cell"]["n"] == 6
    assert len(summary["best"]) == 2 and summary["run"] == str(out)
    assert main(["search", "--resume", str(out), "--iterations", "3", "--quiet", "--device", "cpu", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["iterations_done"] == 3 and again["resumed_from"] == 2
    assert _handlers() == before
    text = (out / "log.txt").read_text()
    cmds = [ln for ln in text.splitlines() if "INFO gemgraph.app.cli: gemgraph search" in ln]
    assert len(cmds) == 2 and "--resume" in cmds[1]
    assert "2 already done, resuming" in text and "evaluated 3 candidates (0 failed)" in text


def test_plot_and_bootstrap_json(run, tmp_path, capsys):  # noqa: F811
    assert main(["plot", "surface", str(run), "--num-samples", "200", "--out", str(tmp_path / "s.png"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["path"] == str(tmp_path / "s.png") and info["num_samples"] == 200 and 0 < info["evr_embedding"] <= 1
    assert (tmp_path / "s.png").stat().st_size > 1000
    assert main(["bootstrap", str(run), "--num-samples", "60", "--top-k", "2", "--json"]) == 0
    cap = capsys.readouterr()
    rep = json.loads(cap.out)
    assert rep["num_evaluated"] == 60 and len(rep["top"]) == 2 and rep["previous_verified"] == 0.3876
    assert "ranking 60 sampled cells" in cap.err  # progress stays on stderr


@pytest.mark.parametrize("level,shown", [(logging.WARNING, False), (logging.INFO, True)])
def test_nasbench_info_lines_reach_stderr_with_verbose(tmp_path, level, shown):
    import io

    from gemgraph.app.cli import _Logging
    from nasbench import NASBench101

    from ..nasbench._fixtures import build

    fx = build(tmp_path / "f.tfrecord")
    stream = io.StringIO()
    before = _handlers()
    with _Logging(level, stream):
        NASBench101(fx.path, cache=False)
    assert _handlers() == before
    lines = [ln for ln in stream.getvalue().splitlines() if LINE.match(ln) and " INFO nasbench.bench: parsed " in ln]
    assert bool(lines) == shown, stream.getvalue()


def test_usage_errors_return_2_and_help_returns_0(capsys):
    assert main(["embed", "--encoder", "nope"]) == 2
    assert "argument --encoder: invalid choice: 'nope'" in capsys.readouterr().err
    assert main(["search", "--device", "gpu"]) == 2
    assert main([]) == 2
    capsys.readouterr()
    assert main(["--help"]) == 0 and "exit status:" in capsys.readouterr().out
    assert main(["report", "-h"]) == 0 and "examples:" in capsys.readouterr().out


def test_the_top_level_help_names_every_subcommand(capsys):
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert main(["--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"COMMAND {', '.join(sub.choices)} (gemgraph COMMAND -h for its options)" in out
    assert "config" in sub.choices
