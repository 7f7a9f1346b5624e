#!/usr/bin/env bash
# CPU training throughput of fmnist-small (bench/fmnist_run.sh) with two kiln builds in one run, in alternating rounds
# (ROUNDS, default 3; the best of each kept), so that a change can show it costs nothing: prints a table and writes
# JSON ("ratio" is the new build's rate over the baseline's).
#   bash bench/fmnist_compare_builds.sh BASELINE_KILN NEW_KILN [OUT_JSON]
# Run it with the machine otherwise idle. CI does not run this.
set -euo pipefail
cd "$(dirname "$0")/.."
baseline=$1 candidate=$2
out_json=${3:-bench/results/fmnist-compare-builds.json}
threads=${KILN_NUM_THREADS:-$(nproc)}
rounds=${ROUNDS:-3}
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT
source bench/fmnist_run.sh

baseline_rate=0 candidate_rate=0 baseline_rates=() candidate_rates=()
for round in $(seq "$rounds"); do
  rate=$(kiln_images_per_second "$baseline" "$run/baseline" "$threads")
  baseline_rates+=("$rate") baseline_rate=$(python3 -c "print(max($baseline_rate, $rate))")
  rate=$(kiln_images_per_second "$candidate" "$run/candidate" "$threads")
  candidate_rates+=("$rate") candidate_rate=$(python3 -c "print(max($candidate_rate, $rate))")
  printf 'round %s: baseline %.0f, new %.0f images/s\n' "$round" "${baseline_rates[-1]}" "${candidate_rates[-1]}"
done
blas=$(sed -n 's/^CPU: .*OpenBLAS \(.*\) kernels$/\1/p' "$run/candidate.log")

python3 - "$out_json" "$threads" "$blas" "$baseline" "$candidate" "${baseline_rates[*]}" "${candidate_rates[*]}" <<'PY'
import json, sys, datetime, platform, subprocess
path, threads, blas, baseline, candidate = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
old = [float(r) for r in sys.argv[6].split()]
new = [float(r) for r in sys.argv[7].split()]
version = lambda binary: subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
print(f"{'fmnist-small, batch 256, CPU, ' + str(threads) + ' threads':44} {'best images/s':>14} {'rounds':>24}")
for name, rates in (("baseline " + baseline, old), ("new " + candidate, new)):
    print(f"{name[:44]:44} {max(rates):14.0f} {' '.join(f'{r:.0f}' for r in rates):>24}")
print(f"new / baseline: {max(new) / max(old):.3f}")
json.dump({"date": datetime.date.today().isoformat(), "machine": platform.processor() or platform.machine(),
           "threads": threads, "openblas_kernels": blas, "baseline": {"binary": baseline, "version": version(baseline),
           "images_per_second": old}, "new": {"binary": candidate, "version": version(candidate),
           "images_per_second": new}, "ratio": max(new) / max(old)}, open(path, "w"), indent=2)
PY
