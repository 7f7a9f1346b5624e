#!/usr/bin/env bash
# Issue 14's comparison: kiln's narrow FCN-8s against its PyTorch peer (bench/peers/fcn_scenes_torch.py) on the same
# generated scenes (kiln make-scenes: training seed 1, validation seed 2), same recipe and threads, in alternating
# rounds (kiln, then PyTorch). Prints a table and writes JSON with both sides' runs, the images/s ratio (kiln over
# PyTorch, best round of each) and the mean IoU difference (kiln minus PyTorch, means over rounds).
#   bash bench/fcn_scenes_compare.sh [KILN_BINARY] [--rounds N] [--channels C] [--classifier-width W] [--dropout X]
#                                    [--epochs E] [--batch B] [--lr LR] [--count N] [--val-count N] [--size S]
#                                    [--out JSON]
# Threads: KILN_NUM_THREADS, else nproc. Needs Debian's python3-torch (/usr/bin/python3); CI does not run this.
set -euo pipefail
cd "$(dirname "$0")/.."
kiln=build/release/tools/kiln
if [[ $# -gt 0 && $1 != --* ]]; then kiln=$1; shift; fi
rounds=1 channels=8 classifier_width=128 dropout=0 epochs=10 batch=8 lr=1e-3 count=200 val_count=50 size=48
out_json=bench/results/$(date +%F)-cpu-fcn-scenes.json
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) rounds=$2 ;;
    --channels) channels=$2 ;;
    --classifier-width) classifier_width=$2 ;;
    --dropout) dropout=$2 ;;
    --epochs) epochs=$2 ;;
    --batch) batch=$2 ;;
    --lr) lr=$2 ;;
    --count) count=$2 ;;
    --val-count) val_count=$2 ;;
    --size) size=$2 ;;
    --out) out_json=$2 ;;
    *) echo "fcn_scenes_compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
threads=${KILN_NUM_THREADS:-$(nproc)}
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT
train=$run/scenes-train val=$run/scenes-val
"$kiln" make-scenes --out "$train" --count "$count" --size "$size" --seed 1 >/dev/null
"$kiln" make-scenes --out "$val" --count "$val_count" --size "$size" --seed 2 >/dev/null

# Trains into OUT_DIR with the peer's recipe (Adam; weight decay 0, as kiln's default is 1e-3; per-pixel
# cross-entropy ignoring 255; ImageNet normalisation; no augmentation) and prints one JSON line: the training images/s
# over all epochs (from log.jsonl's per-epoch rates) and the validation scores of `kiln eval --json` on the model
# after the last epoch, as the peer scores its own. One decoder thread, so that kiln uses the peer's threads.
kiln_train() {
  local out=$1
  rm -rf "$out"
  "$kiln" train --model fcn8s --channels "$channels" --classifier-width "$classifier_width" --dropout "$dropout" \
    --image-size "$size" --classes 11 --data "$train" --val-data "$val" --epochs "$epochs" --batch-size "$batch" \
    --lr "$lr" --weight-decay 0 --out "$out" --threads "$threads" --reader-threads 1 >"$out.log"
  "$kiln" eval --checkpoint "$out/last.safetensors" --data "$val" --json --no-report >"$out.eval.json"
  python3 - "$out/log.jsonl" "$out.eval.json" <<'PY'
import json, sys
epochs = [json.loads(line) for line in open(sys.argv[1])]
scores = json.load(open(sys.argv[2]))
print(json.dumps({"images_per_second": len(epochs) / sum(1 / e["images_per_second"] for e in epochs),
                  "mean_iou": scores["mean_iou"], "pixel_accuracy": scores["pixel_accuracy"],
                  "final_train_loss": epochs[-1]["train_loss"]}))
PY
}

# PyTorch runs on the OpenBLAS kernels kiln chose (bench/fmnist_throughput.sh says why), when kiln's log names them.
torch_train() {
  env ${blas:+OPENBLAS_CORETYPE=$blas} /usr/bin/python3 bench/peers/fcn_scenes_torch.py --data "$train" --val "$val" \
    --channels "$channels" --classifier-width "$classifier_width" --dropout "$dropout" --epochs "$epochs" \
    --batch "$batch" --lr "$lr" --threads "$threads"
}

kiln_runs=() torch_runs=() blas=
for round in $(seq "$rounds"); do
  kiln_runs+=("$(kiln_train "$run/kiln")")
  blas=$(sed -n 's/^CPU: .*OpenBLAS \(.*\) kernels$/\1/p' "$run/kiln.log")
  torch_runs+=("$(torch_train)")
  echo "round $round: kiln ${kiln_runs[-1]}"
  echo "round $round: pytorch ${torch_runs[-1]}"
done

python3 - "$out_json" "$threads" "$blas" "$kiln" "$channels" "$epochs" "$batch" "$lr" "$count" "$val_count" "$size" \
  "$classifier_width" "$dropout" "$(printf '%s\n' "${kiln_runs[@]}")" "$(printf '%s\n' "${torch_runs[@]}")" <<'PY'
import datetime, json, subprocess, sys
path, threads, blas, kiln_binary, channels, epochs, batch, lr, count, val_count, size, width, dropout = sys.argv[1:14]
kiln = [json.loads(line) for line in sys.argv[14].splitlines()]
torch = [json.loads(line) for line in sys.argv[15].splitlines()]
cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
best = lambda runs: max(r["images_per_second"] for r in runs)
mean = lambda runs, key: sum(r[key] for r in runs) / len(runs)
ratio, difference = best(kiln) / best(torch), mean(kiln, "mean_iou") - mean(torch, "mean_iou")
print(f"{'fcn8s x' + channels + ', ' + str(epochs) + ' epochs, batch ' + batch + ', ' + threads + ' threads':40}"
      f" {'best images/s':>14} {'mean IoU':>9}")
for name, runs in (("kiln", kiln), (f"pytorch {torch[0]['torch']}", torch)):
    print(f"{name:40} {best(runs):14.2f} {mean(runs, 'mean_iou'):9.4f}")
print(f"kiln / pytorch images/s: {ratio:.3f}; mean IoU kiln - pytorch: {difference:+.4f}; "
      f"all-background mean IoU: {torch[0]['background_baseline_mean_iou']:.4f}")
version = subprocess.run([kiln_binary, "--version"], capture_output=True, text=True).stdout.strip()
json.dump({"date": datetime.date.today().isoformat(), "cpu": cpu, "threads": int(threads),
           "openblas_kernels": blas, "kiln_version": version,
           "recipe": {"model": "fcn8s", "channels": int(channels), "classifier_width": int(width),
                      "dropout": float(dropout), "classes": 11, "epochs": int(epochs),
                      "batch": int(batch), "lr": float(lr), "optimizer": "adam", "weight_decay": 0},
           "scenes": {"train": int(count), "val": int(val_count), "size": int(size), "train_seed": 1, "val_seed": 2},
           "kiln": kiln, "pytorch": torch, "images_per_second_ratio": ratio, "mean_iou_difference": difference},
          open(path, "w"), indent=2)
PY
