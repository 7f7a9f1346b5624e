#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU and no network (docs/cuda.md, "Checking on a GPU"):
#   bash tools/gpu-check.sh OUTDIR
#   bash tools/gpu-check.sh --fetch-deps [DIR]   # on a Debian 12 machine with network: the build's packages as .debs
# Builds kiln for the local GPU, then, within a time budget, runs the gpu-labelled tests, a short training run on the
# GPU with the native kernels and one with cuDNN/cuBLAS, the kernel benchmarks, compute-sanitizer memcheck and
# racecheck on the two parity binaries, and the remaining tests. OUTDIR gets summary.json (every stage's result and
# time, the test counts, the training runs, kernels.json folded in), the same as <date>-<gpu>.json for
# bench/results/, gpu-check.log, and logs.tar.gz (every log). Exit status: 0 all passed, 1 something failed, 2 no
# GPU or no toolchain, 3 nothing failed but stages were skipped or timed out.
# Environment:
#   KILN_GPU_CHECK_BUDGET=S    seconds for the whole check (540); stages that cannot fit are skipped and recorded
#   KILN_GPU_CHECK_REHEARSE=1  no GPU needed: runs the script's logic with the GPU parts skipped (docs/cuda.md)
#   KILN_GPU_CHECK_BUILD=DIR   build folder (build/gpu), reused when it is configured already
#   KILN_GPU_CHECK_SKIP=a,b    stages to skip: gpu-tests, train, bench, sanitizers, other-tests
#   KILN_GPU_CHECK_DEPS=DIR    .debs from --fetch-deps, unpacked when the build's headers are missing
#                              (default build/gpu-check-deps)
#   KILN_GPU_CHECK_COMMIT=SHA  the commit checked, where the tree has no .git
#   CUDNN_ROOT, CUBLAS_ROOT    folders with include/ and lib/ (else /usr/local/cuda, else the nvidia Python wheels)
#   KILN_FMNIST=DIR            train on this Fashion-MNIST folder (else a synthetic one made on the spot)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

deb_packages=(libopenblas-dev libopenblas-pthread-dev libopenblas0-pthread libopenblas0 libgfortran5 libstb-dev
  libstb0 catch2 nlohmann-json3-dev zlib1g-dev zlib1g)
if [[ ${1:-} == --fetch-deps ]]; then
  folder=${2:-build/gpu-check-deps}
  mkdir -p "$folder" && cd "$folder" && apt-get download "${deb_packages[@]}" || exit 1
  echo "kiln gpu-check: $(find . -name "*.deb" | wc -l) packages in $folder ($(du -sh . | cut -f1)); carry that folder"
  exit 0
fi

out=${1:?usage: bash tools/gpu-check.sh OUTDIR   (or --fetch-deps [DIR])}
mkdir -p "$out" && out=$(cd "$out" && pwd) || exit 2
budget=${KILN_GPU_CHECK_BUDGET:-540}
rehearse=${KILN_GPU_CHECK_REHEARSE:-0}
build=${KILN_GPU_CHECK_BUILD:-build/gpu}
skip_list=",${KILN_GPU_CHECK_SKIP:-},"
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-gpu-check.XXXXXX")
logs=$work/logs
mkdir -p "$logs"
rm -f "$out/summary.json" "$out/gpu-check.log" "$out/logs.tar.gz"
status=0
: >"$work/stages.tsv"

log() { echo "[gpu-check $((SECONDS))s] $*" | tee -a "$out/gpu-check.log"; }
left() { echo $((budget - SECONDS)); }
# record NAME STATUS SECONDS NOTE: one line of the stage table (status pass, fail, timeout or skipped).
record() {
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$work/stages.tsv"
  log "stage $1: $2${4:+ ($4)} in ${3}s"
  [[ $2 == fail ]] && status=1
  return 0
}
skipped() { [[ $skip_list == *",$1,"* ]]; }
# Each stage runs as a job in its own process group (job control), so that its time limit stops all it started.
set -m
# limited LIMIT LOG COMMAND...: COMMAND (a program or a function of this script) with its output in LOG; its exit
# status, or 124 when it was stopped at LIMIT seconds.
limited() {
  local limit=$1 logfile=$2
  shift 2
  rm -f "$work/timed-out"
  "$@" </dev/null >"$logfile" 2>&1 &
  local job=$!
  (sleep "$limit" && touch "$work/timed-out" && kill -TERM -- -"$job" && sleep 10 && kill -KILL -- -"$job") \
    >/dev/null 2>&1 &
  local watchdog=$!
  wait "$job" 2>/dev/null
  local rc=$?
  kill -- -"$watchdog" 2>/dev/null
  wait "$watchdog" 2>/dev/null
  [[ -e $work/timed-out ]] && rc=124
  return $rc
}
# stage NAME NEEDS LIMIT LOG COMMAND...: runs COMMAND (output to LOG) for at most LIMIT seconds, less if the budget
# has less; skipped, and recorded so, when fewer than NEEDS seconds of the budget are left.
stage() {
  local name=$1 needs=$2 limit=$3 logfile=$4
  shift 4
  local remaining
  remaining=$(left)
  if ((remaining < needs)); then
    record "$name" skipped 0 "${remaining}s of the budget left, needs ${needs}s"
    return 1
  fi
  ((limit > remaining)) && limit=$remaining
  local begin=$SECONDS
  limited "$limit" "$logs/$logfile" "$@"
  local rc=$?
  if ((rc == 0)); then
    record "$name" pass $((SECONDS - begin)) ""
  elif ((rc == 124)); then
    record "$name" timeout $((SECONDS - begin)) "stopped at its ${limit}s limit; $logfile"
  elif ((rc == 77)); then
    record "$name" skipped $((SECONDS - begin)) "cannot run on this machine; $logfile"
  else
    record "$name" fail $((SECONDS - begin)) "exit $rc; $logfile"
  fi
  return $rc
}

# Writes summary.json and <date>-<gpu>.json, packs the logs, and exits with the overall status.
finish() {
  tar -czf "$out/logs.tar.gz" -C "$work" logs 2>/dev/null
  python3 - "$work" "$out" "$status" "$rehearse" "$budget" "$SECONDS" "$commit" <<'PY'
import datetime, json, os, re, sys
work, out, status, rehearse, budget, elapsed, commit = sys.argv[1:8]
logs = os.path.join(work, "logs")
def read(name):
    path = os.path.join(logs, name)
    return open(path, errors="replace").read() if os.path.exists(path) else None
stages = []
for line in open(os.path.join(work, "stages.tsv")):
    name, result, seconds, note = line.rstrip("\n").split("\t")
    stages.append({"stage": name, "status": result, "seconds": int(seconds), "note": note})
tests = {}
for name in ("gpu-tests", "other-tests"):
    text = read(name + ".log")
    found = re.search(r"(\d+)% tests passed, (\d+) tests failed out of (\d+)", text or "")
    if found:
        tests[name] = {"total": int(found.group(3)), "failed": int(found.group(2)),
                       "skipped": len(re.findall(r"\(Skipped\)", text))}
kernels = None
if read("kernels.json"):
    try:
        kernels = json.loads(read("kernels.json"))
    except ValueError:
        kernels = "unreadable: see kernels.log"
training = {}
for run in ("native", "libraries"):
    text = read(f"train-{run}.jsonl")
    if text and text.strip():
        training[run] = json.loads(text.strip().splitlines()[-1])
if len(training) == 2:  # the same data and seed: how far apart the native kernels and the libraries ended
    training["libraries_minus_native"] = {key: training["libraries"][key] - training["native"][key]
                                          for key in ("train_loss", "val_loss", "val_accuracy")}
gpu = (read("gpu.txt") or "none").strip().splitlines()[0]
overall = {"0": "pass", "1": "fail", "2": "not-run", "3": "incomplete"}[status]
if rehearse == "1":
    overall = "rehearsal-" + overall
summary = {"date": datetime.date.today().isoformat(), "gpu": gpu, "commit": commit, "status": overall,
           "budget_seconds": int(budget), "elapsed_seconds": int(elapsed), "stages": stages, "tests": tests,
           "training": training, "kernels": kernels}
# The results file for bench/results/ only where something ran.
slug = re.sub(r"[^a-z0-9]+", "-", gpu.split(",")[0].lower()).strip("-") or "unknown"
names = ["summary.json"] + ([f"{summary['date']}-{slug}.json"] if status != "2" else [])
for name in names:
    with open(os.path.join(out, name + ".tmp"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    os.replace(os.path.join(out, name + ".tmp"), os.path.join(out, name))
print(f"[gpu-check] {overall}: " + ", ".join(os.path.join(out, name) for name in names + ["logs.tar.gz"]))
PY
  rm -rf "$work"
  exit "$status"
}

commit=${KILN_GPU_CHECK_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
log "kiln $commit; budget ${budget}s$([[ $rehearse == 1 ]] && echo '; rehearsal: GPU parts skipped')"

# --- The GPU: with none, say so and stop at once (a rehearsal goes on without one).
if [[ $rehearse == 1 ]]; then
  echo "rehearsal, no GPU" >"$logs/gpu.txt"
  record gpu skipped 0 "rehearsal"
else
  if ! command -v nvidia-smi >/dev/null; then
    reason="nvidia-smi not found (no NVIDIA driver)"
  elif ! timeout 30 nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv,noheader \
    >"$logs/gpu.txt" 2>&1; then
    reason="nvidia-smi failed: $(head -1 "$logs/gpu.txt")"
  elif ! grep -q , "$logs/gpu.txt"; then
    reason="nvidia-smi lists no GPU"
  fi
  if [[ -n ${reason:-} ]]; then
    log "no usable NVIDIA GPU: $reason; nothing checked"
    echo "none: $reason" >"$logs/gpu.txt"
    record gpu fail 0 "$reason"
    status=2
    finish
  fi
  record gpu pass 0 "$(head -1 "$logs/gpu.txt")"
fi
arch=$(head -1 "$logs/gpu.txt" | awk -F', ' '{gsub(/\./, "", $2); print $2}')
[[ $arch =~ ^[0-9]+$ ]] || arch=90  # a rehearsal builds for sm_90

# --- The toolchain: nvcc, cuDNN and cuBLAS from the toolkit, a hint, or the nvidia Python wheels.
wheel_roots=$(python3 -c 'import nvidia; print("\n".join(nvidia.__path__))' 2>/dev/null || true)
# in_wheels FILE: the folder above the first wheel folder holding FILE (its include/ or lib/), if any.
in_wheels() {
  local root hit
  for root in $wheel_roots; do
    hit=$(find "$root" -name "$1" \( -type f -o -type l \) -print -quit 2>/dev/null)
    [[ -n $hit ]] && { dirname "$(dirname "$hit")"; return 0; }
  done
  return 1
}
nvcc=$(command -v nvcc || true)
[[ -z $nvcc && -x /usr/local/cuda/bin/nvcc ]] && nvcc=/usr/local/cuda/bin/nvcc
if [[ -z $nvcc ]] && wheel=$(in_wheels nvcc); then nvcc=$wheel/bin/nvcc; fi
if [[ -z $nvcc || ! -x $nvcc ]]; then
  log "no nvcc (not on PATH, in /usr/local/cuda/bin or in a Python wheel): cannot build"
  record toolchain fail 0 "no nvcc"
  status=2
  finish
fi
toolkit=$(dirname "$(dirname "$nvcc")")
export PATH=$toolkit/bin:$PATH
cmake_flags=(-DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CUDA_ARCHITECTURES="$arch")
library_path=()
if [[ -z ${CUDNN_ROOT:-} && ! -e $toolkit/include/cudnn.h ]]; then CUDNN_ROOT=$(in_wheels cudnn.h || true); fi
if [[ -n ${CUDNN_ROOT:-} ]]; then
  # Named directly: CMake's search would take an unversioned libcudnn.so elsewhere before this folder's .so.9.
  cudnn=$(find "$CUDNN_ROOT/lib" -name 'libcudnn.so*' -print -quit 2>/dev/null)
  if [[ -z $cudnn || ! -e $CUDNN_ROOT/include/cudnn.h ]]; then
    log "no libcudnn or cudnn.h in $CUDNN_ROOT"
    record toolchain fail 0 "cuDNN not found"
    status=2
    finish
  fi
  cmake_flags+=(-DCUDNN_INCLUDE_DIR="$CUDNN_ROOT/include" -DCUDNN_LIBRARY="$cudnn")
  library_path+=("$CUDNN_ROOT/lib")
fi
cublas_in_toolkit=$(find "$toolkit"/lib* "$toolkit"/targets/*/lib -maxdepth 1 -name 'libcublas.so*' -print -quit \
  2>/dev/null)
if [[ -z ${CUBLAS_ROOT:-} && -z $cublas_in_toolkit ]]; then CUBLAS_ROOT=$(in_wheels cublas_v2.h || true); fi
if [[ -n ${CUBLAS_ROOT:-} ]]; then
  cublas=$(find "$CUBLAS_ROOT/lib" -name 'libcublas.so*' -print -quit 2>/dev/null)
  cublaslt=$(find "$CUBLAS_ROOT/lib" -name 'libcublasLt.so*' -print -quit 2>/dev/null)
  if [[ -z $cublas || -z $cublaslt ]]; then
    log "no libcublas/libcublasLt in $CUBLAS_ROOT/lib"
    record toolchain fail 0 "cuBLAS not found"
    status=2
    finish
  fi
  # Headers and libraries outside the toolkit: CMake's CUDA::cublas target takes the libraries given here.
  cmake_flags+=(-DCUDA_cublas_LIBRARY="$cublas" -DCUDA_cublasLt_LIBRARY="$cublaslt"
    -DCMAKE_CUDA_FLAGS="-isystem $CUBLAS_ROOT/include")
  library_path+=("$CUBLAS_ROOT/lib")
fi

# --- The host packages the build needs (OpenBLAS, stb, Catch2, nlohmann-json, zlib): the system's, or .debs carried
# from --fetch-deps unpacked into a private prefix.
headers_missing=()
for header in cblas.h stb/stb_image.h catch2/catch.hpp nlohmann/json.hpp zlib.h; do
  echo "#include <$header>" | c++ -E -x c++ -I/usr/include/x86_64-linux-gnu/openblas-pthread - >/dev/null 2>&1 ||
    headers_missing+=("$header")
done
deps=${KILN_GPU_CHECK_DEPS:-build/gpu-check-deps}
if ((${#headers_missing[@]})) || [[ -n ${KILN_GPU_CHECK_DEPS:-} ]]; then
  if ! ls "$deps"/*.deb >/dev/null 2>&1; then
    log "the build needs ${headers_missing[*]}, not installed here and no .debs in $deps" \
      "(bash tools/gpu-check.sh --fetch-deps on a machine with network, then carry $deps)"
    record toolchain fail 0 "missing ${headers_missing[*]}"
    status=2
    finish
  fi
  prefix=$build/deps  # beside the build that refers to it, so that a later run can reuse the build
  mkdir -p "$prefix"
  for deb in "$deps"/*.deb; do
    dpkg-deb -x "$deb" "$prefix" || { record toolchain fail 0 "cannot unpack $deb"; status=2; finish; }
  done
  multiarch=$prefix/usr/lib/x86_64-linux-gnu
  # Debian's libz.so points at /lib outside the prefix, and its OpenBLAS symlinks are made by update-alternatives:
  # both are named directly. The system's zlib serves at run time; OpenBLAS's gfortran too where there is one.
  cmake_flags+=(-DCMAKE_PREFIX_PATH="$prefix/usr" -DCMAKE_CXX_FLAGS="-isystem $prefix/usr/include"
    -DOPENBLAS_INCLUDE_DIR="$prefix/usr/include/x86_64-linux-gnu/openblas-pthread"
    -DOPENBLAS_LIBRARY="$multiarch/openblas-pthread/libopenblas.so.0"
    -DZLIB_INCLUDE_DIR="$prefix/usr/include" -DZLIB_LIBRARY="$prefix/lib/x86_64-linux-gnu/libz.so.1")
  library_path+=("$multiarch/openblas-pthread")
  ldconfig -p 2>/dev/null | grep -q 'libgfortran.so.5 ' || library_path+=("$multiarch")
  log "using the packages in $deps${headers_missing[*]:+ (missing here: ${headers_missing[*]})}"
fi
joined=$(IFS=:; echo "${library_path[*]}")
export LD_LIBRARY_PATH=${joined}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
nvcc_version=$("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')
record toolchain pass 0 "nvcc $nvcc_version; cuDNN ${CUDNN_ROOT:-in the toolkit}; cuBLAS ${CUBLAS_ROOT:-in the toolkit}"

# --- Build everything (ctest reports a test binary that was not built as a failed test). Warnings are not errors
# here: CI holds them with its compiler, and another compiler's new warning must not cost the GPU run.
configure_and_build() {
  if [[ ! -e $build/CMakeCache.txt ]]; then
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKILN_CUDA=ON -DKILN_WERROR=OFF "${cmake_flags[@]}" ||
      return 1
  fi
  # shellcheck disable=SC2086  # KILN_GPU_CHECK_TARGETS is a list
  cmake --build "$build" -j "$(nproc)" ${KILN_GPU_CHECK_TARGETS:+--target $KILN_GPU_CHECK_TARGETS}
}
if ! stage build 60 420 build.log configure_and_build; then
  log "no build (see build.log in logs.tar.gz): nothing else can run"
  tail -5 "$logs/build.log" 2>/dev/null | tee -a "$out/gpu-check.log"
  ((status == 0)) && status=1
  finish
fi
warnings=$(grep -c "warning:" "$logs/build.log")
((warnings == 0)) || log "the build gave $warnings warnings (build.log)"
[[ -n ${KILN_GPU_CHECK_TARGETS:-} ]] && { log "built only $KILN_GPU_CHECK_TARGETS: stopping there"; finish; }

# --- The gpu-labelled tests: native parity, the cuDNN/cuBLAS paths, out of memory, the optimiser's launches.
ctest_in_build() { (cd "$build" && ctest --output-on-failure --timeout 120 "$@"); }
if skipped gpu-tests; then
  record gpu-tests skipped 0 "asked"
else
  stage gpu-tests 30 180 gpu-tests.log ctest_in_build -j 4 -L gpu --output-junit "$logs/gpu-tests.xml"
  gpu_skipped=$(grep -c "(Skipped)" "$logs/gpu-tests.log" 2>/dev/null)
  if [[ $rehearse != 1 ]] && ((gpu_skipped > 0)); then
    record gpu-tests-ran fail 0 "$gpu_skipped gpu tests reported skipped on a GPU machine"
  fi
  tail -3 "$logs/gpu-tests.log" 2>/dev/null | tee -a "$out/gpu-check.log"
fi

# --- Short training runs: the native kernels, then cuDNN and cuBLAS, on the same data and seed.
train_run() {
  local run=$1 device=cuda
  shift
  [[ $rehearse == 1 ]] && device=cpu
  "$build/tools/kiln" train --model fmnist-bn --data "$data" --device "$device" --epochs 1 --batch-size 128 \
    --seed 1 --out "$work/train-$run" "$@" || return 1
  cp "$work/train-$run/log.jsonl" "$logs/train-$run.jsonl"
  # A run that does not learn the synthetic classes in one epoch is broken (it reaches about 99%).
  [[ -n ${KILN_FMNIST:-} ]] || python3 - "$work/train-$run/log.jsonl" <<'PY'
import json, sys
last = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
print("validation accuracy", last["val_accuracy"])
sys.exit(0 if last["val_accuracy"] > 0.8 else 1)
PY
}
if skipped train; then
  record train skipped 0 "asked"
else
  data=${KILN_FMNIST:-$work/synthetic-fmnist}
  [[ -n ${KILN_FMNIST:-} ]] || python3 tools/make-synthetic-fmnist.py "$data" --train 6000 --test 1000
  stage train-native 20 90 train-native.log train_run native
  if [[ $rehearse == 1 ]]; then
    record train-libraries skipped 0 "rehearsal: no cuDNN/cuBLAS without a GPU"
  else
    stage train-libraries 20 90 train-libraries.log train_run libraries --conv cudnn --bn cudnn --gemm cublas
  fi
fi

# --- Kernel benchmarks (CPU, native kernels, cuDNN/cuBLAS); --quick in a rehearsal.
if skipped bench; then
  record bench skipped 0 "asked"
else
  quick=()
  # shellcheck disable=SC2054  # a comma list is one argument
  [[ $rehearse == 1 ]] && quick=(--quick --ops linear,relu)
  if ! stage bench 60 200 kernels.log "$build/bench/kiln_bench_kernels" "${quick[@]}" --json "$logs/kernels.json" &&
    [[ $rehearse != 1 ]]; then
    # Short figures rather than none.
    stage bench-quick 30 60 kernels-quick.log "$build/bench/kiln_bench_kernels" --quick --json "$logs/kernels.json"
  fi
fi

# --- compute-sanitizer on the parity binaries, each under its own limit.
sanitizer=$(command -v compute-sanitizer || echo "$toolkit/bin/compute-sanitizer")
sanitize() {
  "$sanitizer" --tool "$1" --error-exitcode 3 "$2" 2>&1 | tee "$work/sanitizer.out"
  local rc=${PIPESTATUS[0]}
  # Some virtual machines (gVisor) give compute-sanitizer no access to the device: no finding about kiln.
  ((rc != 0)) && grep -q "Device not supported" "$work/sanitizer.out" && return 77
  return "$rc"
}
for tool in memcheck racecheck; do
  for binary in kiln_cuda_tests kiln_library_tests; do
    name=$tool-$binary
    if skipped sanitizers; then
      record "$name" skipped 0 "asked"
    elif [[ $rehearse == 1 ]]; then
      record "$name" skipped 0 "rehearsal: needs a GPU"
    elif [[ ! -x $sanitizer ]]; then
      record "$name" skipped 0 "no compute-sanitizer"
    else
      stage "$name" 45 120 "$name.log" sanitize "$tool" "$build/tests/cuda/$binary"
    fi
  done
done

# --- The rest of the tests (the CPU ones; CI runs them on every submission too).
if skipped other-tests; then
  record other-tests skipped 0 "asked"
else
  stage other-tests 60 240 other-tests.log ctest_in_build -j "$(nproc)" -LE gpu --output-junit "$logs/other-tests.xml"
  tail -3 "$logs/other-tests.log" 2>/dev/null | tee -a "$out/gpu-check.log"
fi

# A skipped or timed-out stage leaves the check incomplete, not failed.
if ((status == 0)) && cut -f2 "$work/stages.tsv" | grep -qx 'skipped\|timeout'; then
  [[ $rehearse == 1 ]] || status=3
fi
finish
