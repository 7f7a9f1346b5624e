#!/usr/bin/env bash
# CPU training throughput of fmnist-small at batch 256 (the seed's recipe), kiln against PyTorch in one run with the
# same thread count, in alternating rounds (ROUNDS, default 2; the best of each kept): prints a table and writes JSON
# (default bench/results/fmnist-throughput.json).
#   bash bench/fmnist_throughput.sh [KILN_BINARY] [OUT_JSON]
# Needs Debian's python3-torch for the peer (bench/peers/fmnist_small_torch.py); CI does not run this.
set -euo pipefail
cd "$(dirname "$0")/.."
kiln=${1:-build/release/tools/kiln}
out_json=${2:-bench/results/fmnist-throughput.json}
threads=${KILN_NUM_THREADS:-$(nproc)}
images=20480
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT

# Alternating rounds, each framework's best kept: a burst of load on this shared machine then hurts both alike.
rounds=${ROUNDS:-2}
kiln_rate=0 torch_rate=0 torch_line=
for round in $(seq "$rounds"); do
  # --limit-train keeps the first N images, of which --val-fraction is held out: 22756 * 0.9 = 20480 trained.
  rm -rf "$run/kiln"
  KILN_NUM_THREADS=$threads "$kiln" train --model fmnist-small --epochs 1 --batch-size 256 --lr 1e-3 \
    --weight-decay 1e-3 --limit-train 22756 --val-fraction 0.1 --device cpu --out "$run/kiln" >"$run/kiln.log"
  rate=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["images_per_second"])' \
    "$run/kiln/log.jsonl")
  kiln_rate=$(python3 -c "print(max($kiln_rate, $rate))")
  line=$(/usr/bin/python3 bench/peers/fmnist_small_torch.py --images "$images" --threads "$threads")
  rate=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["images_per_second"])' "$line")
  if python3 -c "import sys; sys.exit(0 if $rate > $torch_rate else 1)"; then torch_rate=$rate torch_line=$line; fi
  echo "round $round: kiln $(printf %.0f "$kiln_rate"), pytorch $(printf %.0f "$torch_rate") images/s (best so far)"
done

python3 - "$kiln_rate" "$torch_rate" "$threads" "$out_json" "$torch_line" "$rounds" <<'PY'
import json, sys, datetime, platform
kiln, torch, threads, path, peer = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
print(f"{'fmnist-small, batch 256, CPU':32} {'images/s':>10}")
print(f"{'kiln':32} {kiln:10.0f}")
print(f"{json.loads(peer)['framework']:32} {torch:10.0f}")
print(f"{'ratio kiln / pytorch':32} {kiln / torch:10.2f}")
json.dump({"date": datetime.date.today().isoformat(), "machine": platform.processor() or platform.machine(),
           "threads": threads, "rounds": int(sys.argv[6]), "kiln_images_per_second": kiln,
           "pytorch_images_per_second": torch,
           "ratio": kiln / torch, "pytorch": json.loads(peer)}, open(path, "w"), indent=2)
PY
