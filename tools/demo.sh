#!/usr/bin/env bash
# The README's first command: installs what is missing, builds the kiln program (release preset), trains fmnist-small
# on Fashion-MNIST for two epochs on the best device, then evaluates the best checkpoint on the test split and writes
# the HTML report (curves, per-class F1, confusion heat map, misclassified images) into the run folder.
# A few minutes on a 2-core CPU, most of it the build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake --preset release -G Ninja >/dev/null
# Only the program: the tests are tools/check.sh's business and would triple the build time.
cmake --build --preset release --target kiln_cli
kiln=build/release/tools/kiln
run=runs/demo
rm -rf "$run"  # a fresh run each time (kiln train refuses to overwrite one)
"$kiln" train --model fmnist-small --epochs 2 --out "$run" --device auto
"$kiln" eval --checkpoint "$run/best.safetensors" | tee "$run/eval.txt"
accuracy=$(awk '/^accuracy/ {print $2; exit}' "$run/eval.txt")
echo
echo "kiln demo: test accuracy $accuracy; report: $run/report.html (open it in a browser), table: $run/eval.txt"
