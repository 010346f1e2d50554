"""The CLI's edge tells bad input from bugs: an InputError (and an OS error about a path) is one
line on stderr with exit status 2; any other exception from inside (a plain ValueError, KeyError,
ImportError, ...) is a bug: its full traceback, a line saying it is a bug, exit status 1."""
from __future__ import annotations

import errno

import pytest

from gemgraph.app.cli import main
from gemgraph.errors import InputError, MissingDependencyError
from gemgraph.store import StoreError

EMBED = ["embed", "--nodes", "6", "--train-graphs", "64", "--epochs", "1", "--dim", "4", "--labels", "degree",
         "--quiet", "--device", "cpu"]


def _raiser(exc: BaseException):
    def planted(*args, **kwargs):
        raise exc
    return planted


def _bug_report(capsys, kind: str, message: str) -> str:
    err = capsys.readouterr().err
    assert "Traceback (most recent call last):" in err, err
    assert "in planted" in err, err  # the frame that raised, not only the edge
    assert f"{kind}: {message}" in err, err
    last = err.strip().splitlines()[-1]
    assert "this is a bug in gemgraph" in last and "report it" in last, err
    return err


@pytest.mark.parametrize("exc,kind", [(ValueError("internal: shapes (3,) and (4,) differ"), "ValueError"),
                                      (IndexError("internal: list index out of range"), "IndexError"),
                                      (ImportError("internal: cannot import name 'x'"), "ImportError"),
                                      (RuntimeError("internal: bad state"), "RuntimeError")])
def test_a_plain_exception_from_inside_config_is_a_bug(monkeypatch, capsys, exc, kind):
    monkeypatch.setattr("gemgraph.config.resolve_config", _raiser(exc))
    assert main(["config", "show", "--preset", "quick"]) == 1
    err = _bug_report(capsys, kind, str(exc))
    assert f"gemgraph config: internal error: {kind}: {exc}" in err


def test_a_key_error_from_inside_embed_is_a_bug(monkeypatch, capsys):
    monkeypatch.setattr("gemgraph.embedding.train_encoder", _raiser(KeyError("layers")))
    assert main(EMBED) == 1
    _bug_report(capsys, "KeyError", "'layers'")


def test_a_value_error_from_inside_a_run_command_is_a_bug(tmp_path, monkeypatch, capsys):
    (tmp_path / "run.sqlite").write_bytes(b"")  # report checks the store exists, then reads it
    monkeypatch.setattr("gemgraph.app.runs.report", _raiser(ValueError("internal: not a float")))
    assert main(["report", str(tmp_path)]) == 1
    _bug_report(capsys, "ValueError", "internal: not a float")


@pytest.mark.parametrize("exc", [InputError("trainer.lr: expected a float > 0, got -1"),
                                 MissingDependencyError("onnx: not installed (pip install 'gemgraph[export]')"),
                                 StoreError("run.sqlite: not a gemgraph run store"),
                                 FileNotFoundError(errno.ENOENT, "No such file or directory", "/no/such.toml"),
                                 PermissionError(errno.EACCES, "Permission denied", "/root/x.toml"),
                                 IsADirectoryError(errno.EISDIR, "Is a directory", "/tmp"),
                                 OSError(errno.ENAMETOOLONG, "File name too long", "x" * 300)])
def test_input_errors_are_one_line_and_exit_2(monkeypatch, capsys, exc):
    monkeypatch.setattr("gemgraph.config.resolve_config", _raiser(exc))
    assert main(["config", "show", "--preset", "quick"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("gemgraph config: error: ") and "bug" not in err, err


def test_an_input_error_from_inside_embed_is_one_line(monkeypatch, capsys):
    monkeypatch.setattr("gemgraph.embedding.train_encoder", _raiser(InputError("n_train: expected >= 2, got 1")))
    assert main(EMBED) == 2
    assert capsys.readouterr().err == "gemgraph embed: error: n_train: expected >= 2, got 1\n"


def test_usage_errors_are_exit_2_without_a_traceback(capsys):
    assert main(["embed", "--nodes", "six"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "invalid int value: 'six'" in err, err
