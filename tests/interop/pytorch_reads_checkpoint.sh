#!/usr/bin/env bash
# Trains fmnist-small and fmnist-bn briefly with kiln, then checks that PyTorch reads each checkpoint (by the
# safetensors spec alone) and gets kiln's test accuracy and loss. Exit 77 (skipped) without PyTorch or the dataset.
# usage: pytorch_reads_checkpoint.sh KILN_BINARY SOURCE_DIR
set -euo pipefail
kiln=$1 source_dir=$2 data=/usr/share/datasets/fashion-mnist
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then echo "skipped: Debian python3-torch is not installed"; exit 77; fi
if [[ ! -d $data ]]; then echo "skipped: $data (Debian dataset-fashion-mnist) is missing"; exit 77; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for model in fmnist-small fmnist-bn; do
  "$kiln" train --model "$model" --epochs 2 --limit-train 2048 --batch-size 128 --device cpu --out "$work/$model" \
    > "$work/$model.train.log"
  "$kiln" eval --checkpoint "$work/$model/best.safetensors" --device cpu --json --no-report > "$work/$model.json"
  /usr/bin/python3 "$source_dir/tests/interop/read_checkpoint_in_pytorch.py" "$work/$model/best.safetensors" "$data" \
    "$work/$model.json"
done
