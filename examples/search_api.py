"""The NASGEM search from Python: Algorithm 1 on the CIFAR-10 proxy set, then bootstrap.

    GEMGRAPH_DATA=../shared/data python examples/search_api.py --out runs/api

Small settings so that it runs on a laptop CPU in minutes; see gemgraph.config.PRESETS for the
paper's. ``--resolution 16`` trains on images pooled to 16x16, which the package embeds, so it
runs without a data root; the other options shrink it further (the CI smoke test uses them).
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
ap.add_argument("--n-train", type=int, default=5000, help="encoder training graphs")
ap.add_argument("--time-limit", type=float, default=30, help="encoder training budget, seconds")
ap.add_argument("--train-images", type=int, default=500, help="proxy training images per candidate")
ap.add_argument("--eval-images", type=int, default=None, help="proxy evaluation images (default: all 1,000)")
ap.add_argument("--resolution", type=int, default=None,
                help="proxy image side (default 32; 16: the embedded subset, no data root needed)")
ap.add_argument("--num-samples", type=int, default=5000, help="bootstrap pool")
args = ap.parse_args()
Path(args.out).mkdir(parents=True, exist_ok=True)

space = SearchSpace(num_nodes=20, max_concat=6)
encoder = train_encoder(encoders.create("mlp", num_nodes=20), space, WLKernel(3), n_train=args.n_train,
                        time_limit=args.time_limit, seed=0).encoder
trainer = ProxyTrainer(epochs=1, width=8, max_train_images=args.train_images, batch_size=64, lr=0.05, seed=0,
                       max_eval_images=args.eval_images, resolution=args.resolution)
store = RunStore(Path(args.out) / "run.sqlite", create=True, config={"example": "search_api", "nodes": 20})

search = NASGEM(space, encoder, EfficiencyPredictor(seed=0), trainer, store, num_samples=args.num_samples, top_k=3)
result = search.run(args.iterations)           # resumable: run again to continue after a kill
for c in store.candidates():
    print(c["iteration"], c["status"], c["accuracy"], c["macs"], c["score"])
print("picked:", result.best, "predicted", result.top[0]["predicted"])
