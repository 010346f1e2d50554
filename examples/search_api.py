"""The NASGEM search from Python: Algorithm 1 on the CIFAR-10 proxy set, then bootstrap.

    GEMGRAPH_DATA=../shared/data python examples/search_api.py --out runs/api

Small settings so that it runs on a laptop CPU in minutes; see gemgraph.runs.PRESETS for the
paper's.
"""
import argparse
from pathlib import Path

from gemgraph import SearchSpace, WLKernel, encoders
from gemgraph.embedding import train_encoder
from gemgraph.evaluate import ProxyTrainer
from gemgraph.predictor import EfficiencyPredictor
from gemgraph.search import NASGEM
from gemgraph.store import RunStore

ap = argparse.ArgumentParser()
ap.add_argument("--out", default="runs/api")
ap.add_argument("--iterations", type=int, default=6)
args = ap.parse_args()
Path(args.out).mkdir(parents=True, exist_ok=True)

space = SearchSpace(num_nodes=20, max_concat=6)
encoder = train_encoder(encoders.create("mlp", num_nodes=20), space, WLKernel(3), n_train=5000,
                        time_limit=30, seed=0).encoder
trainer = ProxyTrainer(epochs=1, width=8, max_train_images=500, batch_size=64, lr=0.05, seed=0)
store = RunStore(Path(args.out) / "run.sqlite", create=True, config={"example": "search_api", "nodes": 20})

search = NASGEM(space, encoder, EfficiencyPredictor(seed=0), trainer, store, num_samples=5000, top_k=3)
result = search.run(args.iterations)           # resumable: run again to continue after a kill
for c in store.candidates():
    print(c["iteration"], c["status"], c["accuracy"], c["macs"], c["score"])
print("picked:", result.best, "predicted", result.top[0]["predicted"])
