"""The old import paths of the application layer keep working (issue 14 item 1)."""
import subprocess
import sys
from pathlib import Path


def test_old_paths_are_the_app_modules():
    import gemgraph.app.cli
    import gemgraph.app.runs
    import gemgraph.cli
    import gemgraph.runs
    from gemgraph.cli import build_parser, main
    from gemgraph.runs import PRESETS, build_config, dumps, make_space, prepare_encoder, report, store_path  # noqa: F401

    assert gemgraph.runs is gemgraph.app.runs and gemgraph.cli is gemgraph.app.cli
    assert main is gemgraph.app.cli.main and build_parser is gemgraph.app.cli.build_parser
    assert build_config("quick", nodes=6)["nodes"] == 6


def test_old_paths_reach_the_subcommand_modules(monkeypatch):
    """``gemgraph.cli.search`` is ``gemgraph.app.cli.search`` (not a second copy), so a patch
    through either path reaches the code that runs."""
    import gemgraph.app.cli.search
    import gemgraph.cli.search
    from gemgraph.app import cli

    assert gemgraph.cli.search is gemgraph.app.cli.search is cli.search
    assert gemgraph.cli._common is cli._common and gemgraph.cli.config is cli.config
    seen: list = []
    monkeypatch.setattr("gemgraph.cli.config._cmd_config", lambda args: seen.append(args.action) or 0)
    assert cli.main(["config", "show"]) == 0 and seen == ["show"]  # the parser registers the patched handler


def test_console_entry_points():
    root = Path(__file__).resolve().parents[2]
    text = (root / "pyproject.toml").read_text()
    assert 'gemgraph = "gemgraph.app.cli:main"' in text
    for cmd in (["-m", "gemgraph", "--version"],
                ["-c", "import sys; from gemgraph.cli import main; sys.exit(main(['--version']))"]):
        r = subprocess.run([sys.executable, *cmd], capture_output=True, text=True, cwd=root, timeout=120)
        assert r.returncode == 0 and r.stdout.startswith("gemgraph "), r.stderr[-2000:]
