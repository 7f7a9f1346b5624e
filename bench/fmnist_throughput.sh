#!/usr/bin/env bash
# CPU training throughput of fmnist-small at batch 256 (the seed's recipe), kiln against PyTorch in one run with the
# same thread count, in alternating rounds (ROUNDS, default 2; the best of each kept): prints a table and writes JSON
# ("ratio" is against PyTorch on the same OpenBLAS kernels as kiln)
# (default bench/results/fmnist-throughput.json).
#   bash bench/fmnist_throughput.sh [KILN_BINARY] [OUT_JSON]
# Needs Debian's python3-torch for the peer (bench/peers/fmnist_small_torch.py); CI does not run this.
set -euo pipefail
cd "$(dirname "$0")/.."
kiln=${1:-build/release/tools/kiln}
out_json=${2:-bench/results/fmnist-throughput.json}
threads=${KILN_NUM_THREADS:-$(nproc)}
images=20480  # as bench/fmnist_run.sh trains
source bench/fmnist_run.sh
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT

# Alternating rounds, each configuration's best kept: a burst of load on this shared machine then hurts all alike.
# PyTorch runs twice a round: as installed, and with the OpenBLAS kernels kiln chose (Debian's OpenBLAS 0.3.21
# mistakes newer x86 CPUs for a Prescott and runs SSE3 kernels unless OPENBLAS_CORETYPE says otherwise; kiln corrects
# that for itself, kernels/gemm.cpp). The second is the like-for-like ratio.
rounds=${ROUNDS:-2}
kiln_rate=0 installed_rate=0 same_rate=0 installed_line= same_line= blas=
# Runs the peer with the given environment assignments (if any) and prints its JSON line.
run_torch() { env "$@" /usr/bin/python3 bench/peers/fmnist_small_torch.py --images "$images" --threads "$threads"; }
rate_of() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])["images_per_second"])' "$1"; }
better() { python3 -c "import sys; sys.exit(0 if $1 > $2 else 1)"; }
for round in $(seq "$rounds"); do
  rate=$(kiln_images_per_second "$kiln" "$run/kiln" "$threads")
  kiln_rate=$(python3 -c "print(max($kiln_rate, $rate))")
  blas=$(sed -n 's/^CPU: .*OpenBLAS \(.*\) kernels$/\1/p' "$run/kiln.log")
  # As installed means the caller's environment untouched: an empty OPENBLAS_CORETYPE is not "unset" to OpenBLAS
  # 0.3.21, which then picks Cooperlake kernels.
  line=$(run_torch) rate=$(rate_of "$line")
  if better "$rate" "$installed_rate"; then installed_rate=$rate installed_line=$line; fi
  line=$(run_torch OPENBLAS_CORETYPE="$blas") rate=$(rate_of "$line")
  if better "$rate" "$same_rate"; then same_rate=$rate same_line=$line; fi
  printf 'round %s: kiln %.0f, pytorch as installed %.0f, pytorch on %s kernels %.0f images/s (best so far)\n' \
    "$round" "$kiln_rate" "$installed_rate" "$blas" "$same_rate"
done

python3 - "$out_json" "$threads" "$rounds" "$blas" "$kiln_rate" "$installed_line" "$same_line" <<'PY'
import json, sys, datetime, platform
path, threads, rounds, blas = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
kiln, installed, same = float(sys.argv[5]), json.loads(sys.argv[6]), json.loads(sys.argv[7])
rows = [("kiln", kiln), (f"{installed['framework']}, as installed", installed["images_per_second"]),
        (f"{same['framework']}, OpenBLAS {blas} kernels", same["images_per_second"])]
print(f"{'fmnist-small, batch 256, CPU, ' + str(threads) + ' threads':48} {'images/s':>10} {'kiln / it':>10}")
for name, rate in rows:
    print(f"{name:48} {rate:10.0f} {kiln / rate:10.2f}")
json.dump({"date": datetime.date.today().isoformat(), "machine": platform.processor() or platform.machine(),
           "threads": threads, "rounds": rounds, "kiln_openblas_kernels": blas, "kiln_images_per_second": kiln,
           "pytorch_images_per_second": same["images_per_second"], "ratio": kiln / same["images_per_second"],
           "pytorch": same, "pytorch_as_installed": installed,
           "ratio_to_pytorch_as_installed": kiln / installed["images_per_second"]}, open(path, "w"), indent=2)
PY
