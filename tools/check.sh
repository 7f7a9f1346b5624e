#!/usr/bin/env bash
# The test command: installs what is missing, then builds and runs every test twice: the release build (warnings are
# errors; the CUDA sources compiled by nvcc when the toolkit is present) and the ASan + UBSan build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
jobs=$(nproc)

run_preset() {
  local preset=$1
  echo "=== kiln check: preset '$preset' ==="
  cmake --preset "$preset" -G Ninja >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  ctest --preset "$preset" -j "$jobs"
}

run_preset ci
run_preset asan
echo "=== kiln check: all presets passed ==="
