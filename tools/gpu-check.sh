#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU and no network:
#   bash tools/gpu-check.sh OUTDIR
# Builds kiln for the local GPU, runs every test (the `gpu`-labelled parity tests of the native kernels and of the
# cuDNN/cuBLAS paths included), compute-sanitizer memcheck and racecheck on both parity binaries, the kernel
# benchmarks (kernels.json, kernels.log) and short GPU training runs (native kernels, then the libraries) when
# Fashion-MNIST is present; writes logs and summary.json into OUTDIR. cuDNN may live only in a Python wheel:
# CUDNN_ROOT=<dir> overrides the search.
set -uo pipefail
out=${1:?usage: bash tools/gpu-check.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/.."
export PATH=/usr/local/cuda/bin:$PATH
log() { echo "[gpu-check] $*" | tee -a "$out/gpu-check.log"; }

nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv,noheader >"$out/gpu.txt" 2>&1
log "GPU: $(head -1 "$out/gpu.txt")"
arch=$(head -1 "$out/gpu.txt" | awk -F', ' '{gsub(/\./, "", $2); print $2}')
[[ $arch =~ ^[0-9]+$ ]] || { log "cannot read the GPU's compute capability"; exit 1; }

if [[ -z ${CUDNN_ROOT:-} && ! -e /usr/local/cuda/include/cudnn.h ]]; then
  CUDNN_ROOT=$(python3 -c 'import nvidia.cudnn, os; print(os.path.dirname(nvidia.cudnn.__file__))' 2>/dev/null || true)
fi
library_path=""
if [[ -n ${CUDNN_ROOT:-} ]]; then
  log "cuDNN from $CUDNN_ROOT"
  # A wheel ships libcudnn.so.9 without the unversioned name the linker looks for.
  [[ -e $CUDNN_ROOT/lib/libcudnn.so || ! -e $CUDNN_ROOT/lib/libcudnn.so.9 ]] || ln -sf libcudnn.so.9 "$CUDNN_ROOT/lib/libcudnn.so"
  library_path=$CUDNN_ROOT/lib
fi
export LD_LIBRARY_PATH=${library_path}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

build=build/gpu
status=0
log "configure and build for sm_$arch"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKILN_CUDA=ON -DKILN_WERROR=ON \
  -DCMAKE_CUDA_ARCHITECTURES="$arch" ${CUDNN_ROOT:+-DCUDNN_ROOT="$CUDNN_ROOT"} >"$out/configure.log" 2>&1 &&
  cmake --build "$build" -j "$(nproc)" >"$out/build.log" 2>&1 || { log "build failed (see build.log)"; exit 1; }

log "tests"
(cd "$build" && ctest -j 4 --output-on-failure --output-junit "$out/ctest.xml") >"$out/ctest.log" 2>&1 || status=1
tail -3 "$out/ctest.log" | tee -a "$out/gpu-check.log"
gpu_tests=$(cd "$build" && ctest -L gpu -N | awk '/Total Tests/ {print $3}')
gpu_skipped=$(grep -c "Not Run\|Skipped" "$out/ctest.log" || true)
log "gpu-labelled tests: $gpu_tests, skipped: $gpu_skipped"

for tests in kiln_cuda_tests kiln_library_tests; do
  for tool in memcheck racecheck; do
    log "compute-sanitizer $tool on $tests"
    compute-sanitizer --tool "$tool" --error-exitcode 3 "$build/tests/cuda/$tests" >"$out/$tests-$tool.log" 2>&1 ||
      { status=1; log "$tool found problems (see $tests-$tool.log)"; }
    tail -2 "$out/$tests-$tool.log" | tee -a "$out/gpu-check.log"
  done
done

log "kernel benchmarks (CPU, native kernels, cuDNN/cuBLAS)"
"$build/bench/kiln_bench_kernels" --json "$out/kernels.json" >"$out/kernels.log" 2>&1 ||
  { status=1; log "kernel benchmarks failed (see kernels.log)"; }
head -2 "$out/kernels.log" | tee -a "$out/gpu-check.log"  # the GPU line and the CPU roofline

if [[ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz || -n ${KILN_FMNIST:-} ]]; then
  for run in native libraries; do
    log "short GPU training run ($run)"
    flags=()
    [[ $run == libraries ]] && flags=(--conv cudnn --bn cudnn --gemm cublas)
    "$build/tools/kiln" train --model fmnist-bn --device cuda --epochs 1 --out "$out/train-$run" "${flags[@]}" \
      ${KILN_FMNIST:+--data "$KILN_FMNIST"} >"$out/train-$run.log" 2>&1 || status=1
    tail -3 "$out/train-$run.log" | tee -a "$out/gpu-check.log"
  done
fi

python3 - "$out" "$status" <<'PY'
import json, sys, re, os, datetime
out, status = sys.argv[1], int(sys.argv[2])
ctest = open(os.path.join(out, "ctest.log")).read()
m = re.search(r"(\d+)% tests passed, (\d+) tests failed out of (\d+)", ctest)
summary = {"date": datetime.date.today().isoformat(), "gpu": open(os.path.join(out, "gpu.txt")).readline().strip(),
           "tests_total": int(m.group(3)) if m else None, "tests_failed": int(m.group(2)) if m else None,
           "status": "pass" if status == 0 else "fail"}
json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=2)
print(json.dumps(summary))
PY
exit $status
