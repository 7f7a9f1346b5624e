# Sourced by the Fashion-MNIST benchmarks: one epoch of fmnist-small at the seed's recipe (batch 256, Adam 1e-3,
# weight decay 1e-3) on the CPU, 20480 training images (--limit-train keeps the first 22756, of which 10% are held
# out). kiln_images_per_second BINARY OUT_DIR THREADS prints the epoch's training rate and leaves the log in OUT_DIR.
kiln_images_per_second() {
  local kiln=$1 out=$2 threads=$3
  rm -rf "$out"
  KILN_NUM_THREADS=$threads "$kiln" train --model fmnist-small --epochs 1 --batch-size 256 --lr 1e-3 \
    --weight-decay 1e-3 --limit-train 22756 --val-fraction 0.1 --device cpu --out "$out" >"$out.log"
  python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["images_per_second"])' "$out/log.jsonl"
}
