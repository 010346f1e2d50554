"""`import gemgraph` stays light: the core types only, the heavy parts loaded when first used."""
import json
import subprocess
import sys

_PROBE = """
import json, sys
import gemgraph
loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('gemgraph', 'sklearn', 'scipy', 'torch_geometric',
                                                             'grakel', 'matplotlib', 'onnx', 'sqlite3'))
print(json.dumps(loaded))
"""


def _loaded(code: str = _PROBE) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_gemgraph_loads_only_the_core():
    loaded = _loaded()
    heavy = [m for m in loaded if m.split(".")[0] in ("sklearn", "scipy", "torch_geometric", "grakel", "matplotlib",
                                                      "onnx", "sqlite3")]
    assert heavy == [], heavy
    ours = {m for m in loaded if m.startswith("gemgraph")}
    for part in ("gemgraph.export", "gemgraph.nn", "gemgraph.store", "gemgraph.wl", "gemgraph.encoders",
                 "gemgraph.search", "gemgraph.config", "gemgraph.app"):
        assert part not in ours, (part, sorted(ours))


def test_lazy_names_resolve_and_are_listed():
    import gemgraph
    from gemgraph.export import load_gemnet, save_gemnet
    from gemgraph.wl import WLKernel

    assert gemgraph.WLKernel is WLKernel
    assert gemgraph.load_gemnet is load_gemnet and gemgraph.save_gemnet is save_gemnet
    assert {"WLKernel", "load_gemnet", "save_gemnet", "Cell", "InputError"} <= set(dir(gemgraph))
    for name in gemgraph.__all__:
        assert getattr(gemgraph, name) is not None
    try:
        gemgraph.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("an unknown attribute must raise AttributeError")


def test_from_gemgraph_import_lazy_name():
    loaded = _loaded("import json, sys\nfrom gemgraph import WLKernel, load_gemnet\n"
                     "print(json.dumps(sorted(m for m in sys.modules if m.startswith('gemgraph'))))")
    assert "gemgraph.wl" in loaded and "gemgraph.export" in loaded


def test_the_command_lines_parser_and_the_encoder_registry_do_not_load_pyg():
    """`gemgraph --help` (every command line builds the whole parser) and the encoder names: no
    PyG, which takes seconds to import; a GNN encoder loads it when it is built."""
    loaded = _loaded("import json, sys\nfrom gemgraph.app.cli import build_parser\nbuild_parser()\n"
                     "from gemgraph import encoders\nassert 'gin' in encoders.available()\n"
                     "print(json.dumps(sorted(sys.modules)))")
    assert not [m for m in loaded if m.startswith("torch_geometric")]
    loaded = _loaded("import json, sys\nfrom gemgraph import encoders\nencoders.create('gin', num_nodes=5, dim=4)\n"
                     "print(json.dumps(sorted(sys.modules)))")
    assert "torch_geometric.nn" in loaded
