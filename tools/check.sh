#!/usr/bin/env bash
# The test command: installs what is missing, then builds and runs every test twice:
#  - ci: release, warnings are errors, the .cu sources compiled by nvcc for sm_80/sm_90 when the toolkit is present
#    (the `gpu`-labelled parity tests report "skipped" without a GPU);
#  - asan: ASan + UBSan, with the CUDA kernels built over the SIMT emulator so that every parity test runs on the CPU.
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
emulated=$(cd build/asan && ctest -L emulated -N | awk '/Total Tests/ {print $3}')
echo "=== kiln check: $emulated CPU-vs-CUDA parity tests ran on the SIMT emulator (under ASan + UBSan) ==="
echo "=== kiln check: all presets passed ==="
