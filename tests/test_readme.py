"""Every Python snippet of the README runs (the quick tour must not rot)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_readme_has_snippets():
    assert len(SNIPPETS) >= 3


@pytest.mark.parametrize("i", range(len(SNIPPETS)))
def test_readme_snippet_runs(i, one_thread, capsys):
    exec(compile(SNIPPETS[i], f"README.md snippet {i}", "exec"), {"__name__": "__readme__"})
    assert capsys.readouterr().out.strip()  # each snippet prints what it shows


def _readme_preset_rows() -> dict[str, tuple[str, str]]:
    """The README's preset table: name -> (what it runs, where), inline-code backticks dropped."""
    section = README.read_text().split("## Presets", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip().replace("`", "") for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 3:
            rows[cells[0]] = (cells[1], cells[2])
    return rows


def test_the_readme_preset_table_matches_the_preset_descriptions():
    from gemgraph.config import PRESET_DESCRIPTIONS, PRESETS

    assert list(PRESET_DESCRIPTIONS) == list(PRESETS)  # one description per preset, same order
    assert _readme_preset_rows() == {name: tuple(d) for name, d in PRESET_DESCRIPTIONS.items()}
