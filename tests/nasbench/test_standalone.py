"""nasbench stands alone: it imports nothing from gemgraph (the conversions live in gemgraph.nasbench_bridge)."""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "nasbench"

# Run in a fresh interpreter where ``import gemgraph`` fails: every nasbench module imports,
# then the sample-file flow (bundled table, best, spec, query, official API, tfrecord
# round trip through the test fixture writer) runs.
_SCRIPT = r"""
import importlib, importlib.abc, pkgutil, sys, tempfile
from pathlib import Path

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "gemgraph" or name.startswith("gemgraph."):
            raise ImportError(f"gemgraph is blocked in this test: {name}")
        return None

sys.meta_path.insert(0, Block())
try:
    import gemgraph  # noqa: F401
except ImportError:
    pass
else:
    raise SystemExit("the blocker did not block gemgraph")

import nasbench
names = sorted(m.name for m in pkgutil.walk_packages(nasbench.__path__, "nasbench."))
for name in names:
    importlib.import_module(name)

from nasbench import NASBench101, api
nb = NASBench101.sample_dataset()
h, acc = nb.best("validation_accuracy", epochs=108)
spec = nb.spec(h)
assert nb.query(spec, epochs=108)["validation_accuracy"] == acc
assert spec.module_hash == h
official = api.NASBench.sample_dataset()
assert official.is_valid(api.ModelSpec(spec.original_matrix.tolist(), list(spec.original_ops)))

sys.path.insert(0, sys.argv[1])
from tests.nasbench._fixtures import build
with tempfile.TemporaryDirectory() as d:
    fx = build(Path(d) / "f.tfrecord")
    small = NASBench101(fx.path, cache=False)
    assert len(small) == 3 and small.best("validation_accuracy", epochs=108)[1] > 0
leaked = sorted(m for m in sys.modules if m == "gemgraph" or m.startswith("gemgraph."))
assert not leaked, leaked
print("OK", len(names), "modules")
"""


def test_nasbench_imports_and_runs_without_gemgraph():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-c", _SCRIPT, str(ROOT)], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.startswith("OK")


def test_no_nasbench_source_mentions_a_gemgraph_import():
    pattern = re.compile(r"^\s*(import\s+gemgraph|from\s+gemgraph)\b", re.M)
    files = sorted(PKG.rglob("*.py"))
    assert len(files) > 10
    offenders = [str(p.relative_to(ROOT)) for p in files if pattern.search(p.read_text())]
    assert not offenders, f"nasbench must not import gemgraph: {offenders}"
