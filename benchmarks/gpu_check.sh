#!/usr/bin/env bash
# The paper preset end to end on a CUDA machine, within 8 minutes, and what it projects.
#
#   bash benchmarks/gpu_check.sh            # needs gemgraph installed (pip install -e .) and a CUDA device
#
# Runs `gemgraph search --preset paper` (the paper's settings: 10-epoch proxy trainings at 32x32,
# CifarNet-16, degree-label embedding, no MAC window) with ITER candidates (default 12; the paper's
# 200 do not fit 8 minutes) on the GPU, the encoder's training capped at ENC_LIMIT seconds, while
# nvidia-smi samples the GPU's utilisation every 0.5 s. Then prints: GPU-seconds per candidate
# (mean, min, max of the stored train_seconds), the mean utilisation while the candidates trained,
# and the projected GPU-days of the full paper setting: encoder (as capped) + 200 candidates x the
# mean per candidate + the bootstrap, against the paper's 0.4.
# Everything goes to OUT (default a new temp folder): search.json, report.json, util.csv, gpu_check.txt.
# Data: GEMGRAPH_DATA (default ../shared/data beside the checkout) must hold cifar10-proxy/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=${OUT:-$(mktemp -d)}
ITER=${ITER:-12}
ENC_LIMIT=${ENC_LIMIT:-90}
export GEMGRAPH_DATA=${GEMGRAPH_DATA:-$(cd .. && pwd)/shared/data}
mkdir -p "$OUT"
if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 3)"; then
    echo "gpu_check: no CUDA device visible to torch; nothing measured" >&2
    exit 3
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader,nounits -lms 500 \
    > "$OUT/util.csv" &
SMI=$!
trap 'kill $SMI 2>/dev/null || true' EXIT
T0=$(date +%s.%N)
timeout 450 "$PY" -m gemgraph search --preset paper --iterations "$ITER" --device cuda --executor local \
    --set encoder.time_limit="$ENC_LIMIT" --out "$OUT/run" --quiet --json > "$OUT/search.json"
T1=$(date +%s.%N)
kill $SMI 2>/dev/null || true
"$PY" -m gemgraph report "$OUT/run" --json --cv-folds 0 > "$OUT/report.json"
"$PY" - "$OUT" "$T0" "$T1" <<'PYEOF' | tee "$OUT/gpu_check.txt"
import json, sys
from datetime import datetime
out, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
rep = json.load(open(f"{out}/report.json"))
cands = [c for c in rep["candidates"] if c.get("train_seconds") is not None]
secs = [c["train_seconds"] for c in cands]
meta = rep["meta"]
enc = float(meta.get("encoder_seconds") or 0.0)
search = float(meta.get("search_seconds") or (t1 - t0))
util = []
for line in open(f"{out}/util.csv"):
    parts = [p.strip() for p in line.split(",")]
    try:
        util.append((datetime.strptime(parts[0], "%Y/%m/%d %H:%M:%S.%f").timestamp(), float(parts[1])))
    except (ValueError, IndexError):
        continue
# utilisation while candidates trained: the samples after the encoder finished
start = util[0][0] + enc if util else 0.0
busy = [u for t, u in util if t >= start] or [u for _, u in util]
mean = sum(secs) / len(secs)
boot = max(0.0, search - enc - sum(secs))
days = (enc + 200 * mean + boot) / 86400
print(f"wall {t1 - t0:.0f} s for {len(secs)} candidates (paper preset, {rep['config']['trainer']['epochs']} epochs)")
print(f"GPU-seconds per candidate: mean {mean:.1f}, min {min(secs):.1f}, max {max(secs):.1f}")
print(f"GPU utilisation while candidates trained: mean {sum(busy) / max(1, len(busy)):.0f}% "
      f"({len(busy)} samples at 0.5 s)")
print(f"encoder {enc:.0f} s (its schedule capped at the ENC_LIMIT), bootstrap and the rest {boot:.0f} s")
print(f"projected full paper setting (200 candidates): {days:.3f} GPU-days (paper: 0.4)")
PYEOF
