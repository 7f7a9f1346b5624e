#!/usr/bin/env python3
"""PyTorch peer of kiln's fmnist-small training, for throughput ratios (not used by CI).

Trains the seed's net (conv 1->32 3x3, relu, maxpool 2, conv 32->32 3x3, relu, maxpool 3, fc 288->120, relu,
fc 120->10) with the seed's recipe (Adam lr 1e-3, weight decay 1e-3, batch 256) on the Debian Fashion-MNIST files and
prints one JSON line with the training images/s. Uses Debian's python3-torch: /usr/bin/python3.
"""
import argparse
import gzip
import json
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load(folder, limit):
    with gzip.open(f"{folder}/train-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)[:limit]
    with gzip.open(f"{folder}/train-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)[:limit]
    x = torch.from_numpy(images.astype(np.float32) / 255.0)
    return (x - x.mean()) / x.std(), torch.from_numpy(labels.astype(np.int64))


class FmnistSmall(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 32, 3), nn.Conv2d(32, 32, 3)
        self.fc1, self.fc2 = nn.Linear(288, 120), nn.Linear(120, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2, 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 3)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--images", type=int, default=20480)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x, y = load(args.data, args.images)
    model = FmnistSmall()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-3)
    permutation = torch.randperm(len(x))
    start = time.perf_counter()
    for begin in range(0, len(x), args.batch_size):
        batch = permutation[begin:begin + args.batch_size]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x[batch]), y[batch])
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - start
    print(json.dumps({"framework": "pytorch " + torch.__version__, "images": len(x), "threads": args.threads,
                      "seconds": seconds, "images_per_second": len(x) / seconds, "final_loss": loss.item()}))


if __name__ == "__main__":
    main()
