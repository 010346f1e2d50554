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


def test_console_entry_points():
    root = Path(__file__).resolve().parents[2]
    text = (root / "pyproject.toml").read_text()
    assert 'gemgraph = "gemgraph.app.cli:main"' in text
    for cmd in (["-m", "gemgraph", "--version"],
                ["-c", "import sys; from gemgraph.cli import main; sys.exit(main(['--version']))"]):
        r = subprocess.run([sys.executable, *cmd], capture_output=True, text=True, cwd=root, timeout=120)
        assert r.returncode == 0 and r.stdout.startswith("gemgraph "), r.stderr[-2000:]
