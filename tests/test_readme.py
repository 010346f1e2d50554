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
