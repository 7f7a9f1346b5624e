#!/usr/bin/python3
"""Reads a kiln Fashion-MNIST checkpoint in PyTorch and checks that it predicts what kiln predicts.

usage: read_checkpoint_in_pytorch.py CHECKPOINT FMNIST_FOLDER KILN_EVAL_JSON

The file is parsed by the safetensors specification alone (tests/golden/safetensors_io.py: 8-byte little-endian
header length, JSON header, raw little-endian data), so any conforming reader, the `safetensors` package included,
can load it. The weights go into a PyTorch module with kiln's tensor names via load_state_dict(strict=True); the
test-set accuracy and loss must equal those kiln eval printed (KILN_EVAL_JSON, from `kiln eval --json`).
Exit code 77 (skipped) where PyTorch is not installed.
"""
import gzip
import json
import os
import struct
import sys

try:
    import torch
    from torch import nn
except ImportError:
    print("skipped: PyTorch (Debian python3-torch) is not installed")
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
from safetensors_io import read_safetensors  # noqa: E402  (after the PyTorch check)


def fmnist_small():
    """kiln's fmnist-small with its module names (models/fmnist.cpp)."""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 32, 3), nn.Conv2d(32, 32, 3)
            self.fc1, self.fc2 = nn.Linear(288, 120), nn.Linear(120, 10)

        def forward(self, x):
            x = torch.max_pool2d(torch.relu(self.conv1(x)), 2, 2)
            x = torch.max_pool2d(torch.relu(self.conv2(x)), 3, 3)
            return self.fc2(torch.relu(self.fc1(x.flatten(1))))
    return Net()


def fmnist_bn():
    """kiln's fmnist-bn with its module names: Sequential children are numbered as in PyTorch."""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            layers = []
            for i, (a, b) in enumerate([(1, 16), (16, 16), (16, 32), (32, 32)]):
                layers += [nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU()]
                if i % 2 == 1:
                    layers.append(nn.MaxPool2d(2))
            self.features = nn.Sequential(*layers)
            self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.BatchNorm1d(128), nn.ReLU(),
                                            nn.Dropout(0.3), nn.Linear(128, 10))

        def forward(self, x):
            return self.classifier(self.features(x))
    return Net()


def read_idx(path):
    with gzip.open(path, "rb") as file:
        data = file.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).reshape(count, 1, rows, cols)
    return torch.frombuffer(bytearray(data[8:]), dtype=torch.uint8).long()


def main():
    checkpoint, folder, kiln_json = sys.argv[1:4]
    tensors, metadata = read_safetensors(checkpoint)
    builders = {"fmnist-small": fmnist_small, "fmnist-bn": fmnist_bn}
    model = builders[metadata["model"]]()
    # kiln keeps no num_batches_tracked; PyTorch's BN needs one in a strict load.
    state = dict(tensors)
    for name in model.state_dict():
        if name.endswith("num_batches_tracked"):
            state[name] = torch.tensor(0)
    model.load_state_dict(state, strict=True)
    model.eval()

    mean = torch.tensor(json.loads(metadata["input_mean"])).view(1, -1, 1, 1)
    std = torch.tensor(json.loads(metadata["input_std"])).view(1, -1, 1, 1)
    images = (read_idx(f"{folder}/t10k-images-idx3-ubyte.gz").float() / 255 - mean) / std
    labels = read_idx(f"{folder}/t10k-labels-idx1-ubyte.gz")
    with torch.no_grad():
        logits = model(images)
    accuracy = (logits.argmax(1) == labels).float().mean().item()
    loss = nn.functional.cross_entropy(logits, labels).item()

    with open(kiln_json) as file:
        kiln = json.load(file)
    print(f"{metadata['model']} epoch {metadata['epoch']}: {len(tensors)} tensors read; "
          f"PyTorch accuracy {accuracy:.4f} loss {loss:.4f}, kiln accuracy {kiln['accuracy']:.4f} "
          f"loss {kiln['loss']:.4f}")
    # float32 sums in another order may flip an image whose top two logits tie to the last bit.
    if abs(accuracy - kiln["accuracy"]) > 2e-4 or abs(loss - kiln["loss"]) > 1e-4 * max(1.0, kiln["loss"]):
        print("FAILED: PyTorch and kiln disagree on the checkpoint")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
