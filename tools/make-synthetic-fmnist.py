#!/usr/bin/env python3
"""Writes a small Fashion-MNIST-shaped data set for smoke runs where the real one is absent (the GPU check's machine).

    python3 tools/make-synthetic-fmnist.py DIR [--train N] [--test N] [--seed S]

DIR gets {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz in the IDX format kiln's reader takes: 28x28 gray images
of 10 classes, class c a bright horizontal band at rows 2c+2 .. 2c+4 with a random horizontal extent, over noise. A
small net learns it within one epoch, so a run that does not is broken.
"""
import argparse
import gzip
import os
import random
import struct

SIDE = 28
CLASSES = 10
# Random bytes mapped onto the noise (0..69) and band (180..255) levels.
NOISE = bytes(b * 70 // 256 for b in range(256))
BAND = bytes(180 + b * 76 // 256 for b in range(256))


def image(label: int, rng: random.Random) -> bytes:
    pixels = bytearray(rng.randbytes(SIDE * SIDE).translate(NOISE))
    first, last = rng.randrange(1, 9), rng.randrange(19, 27)
    for row in range(2 * label + 2, 2 * label + 5):
        pixels[row * SIDE + first:row * SIDE + last + 1] = rng.randbytes(last + 1 - first).translate(BAND)
    return bytes(pixels)


def write_split(folder: str, prefix: str, count: int, rng: random.Random) -> None:
    labels = [i % CLASSES for i in range(count)]
    rng.shuffle(labels)
    images = b"".join(image(label, rng) for label in labels)
    # Written whole, then renamed: a half-written file is never taken for a data set.
    for name, header, body in ((f"{prefix}-images-idx3-ubyte.gz", struct.pack(">IIII", 2051, count, SIDE, SIDE),
                                images),
                               (f"{prefix}-labels-idx1-ubyte.gz", struct.pack(">II", 2049, count), bytes(labels))):
        path = os.path.join(folder, name)
        with gzip.open(path + ".tmp", "wb", compresslevel=1) as out:
            out.write(header + body)
        os.replace(path + ".tmp", path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--train", type=int, default=6000, help="training images (default 6000)")
    parser.add_argument("--test", type=int, default=1000, help="test images (default 1000)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.train < CLASSES or args.test < CLASSES:
        parser.error(f"--train and --test need at least {CLASSES} images")
    os.makedirs(args.folder, exist_ok=True)
    rng = random.Random(args.seed)
    write_split(args.folder, "train", args.train, rng)
    write_split(args.folder, "t10k", args.test, rng)


if __name__ == "__main__":
    main()
