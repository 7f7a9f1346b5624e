#!/usr/bin/env python3
"""Writes the torchvision VGG cases that tests/models/torchvision_golden_test.cpp compares kiln against.

Run once with Debian's python3-torch and python3-torchvision (/usr/bin/python3):
    /usr/bin/python3 tests/golden/make_torchvision_golden.py
For vgg11 and vgg11_bn it builds torchvision's VGG class with torchvision's make_layers, narrowed so that the
committed files stay small: stage widths 8, 16, 32, 64, 64 (torchvision's cfg "A" divided by 8) and hidden
classifier layers of 16 instead of 4096, 10 classes. The classifier is rebuilt with the same modules at the same
indices (classifier.0/3/6), so tensor names are torchvision's. Random weights (and, with batch norm, random running
statistics) are set from a fixed seed; the model runs in eval mode on two 64x64 images preprocessed as torchvision
does (pixels in [0, 1], then ImageNet mean/std).

Each case writes two safetensors files in tests/golden/data/:
  torchvision_<name>.safetensors     the state dict exactly as model.state_dict() names it (num_batches_tracked
                                     included, as I64), i.e. what a user converts from a .pth file;
  torchvision_<name>_io.safetensors  `input` [2, 3, 64, 64] and torchvision's `output` [2, 10]; the kiln options in
                                     the metadata.
"""
import json
import os

import torch
from torch import nn
from torchvision.models.vgg import VGG, cfgs, make_layers

from safetensors_io import write_safetensors

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
WIDTH_DIVISOR, HIDDEN, CLASSES, IMAGE = 8, 16, 10, 64
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def narrow_vgg11(batch_norm):
    cfg = [v if v == "M" else v // WIDTH_DIVISOR for v in cfgs["A"]]
    model = VGG(make_layers(cfg, batch_norm=batch_norm), num_classes=CLASSES, init_weights=False)
    last = cfg[-2] * 7 * 7
    model.classifier = nn.Sequential(nn.Linear(last, HIDDEN), nn.ReLU(True), nn.Dropout(0.5),
                                     nn.Linear(HIDDEN, HIDDEN), nn.ReLU(True), nn.Dropout(0.5),
                                     nn.Linear(HIDDEN, CLASSES))
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                fan_in = module.weight[0].numel()
                module.weight.normal_(0, (2.0 / fan_in) ** 0.5)
                module.bias.uniform_(-0.1, 0.1)
            elif isinstance(module, nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
                module.running_mean.uniform_(-0.3, 0.3)
                module.running_var.uniform_(0.5, 2.0)
                module.num_batches_tracked.fill_(100)
    return model.eval()


def case(name, batch_norm):
    model = narrow_vgg11(batch_norm)
    pixels = torch.rand(2, 3, IMAGE, IMAGE)
    images = (pixels - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        output = model(images)
    write_safetensors(os.path.join(OUT, f"torchvision_{name}.safetensors"), model.state_dict())
    options = {"depth": "11", "batch_norm": "true" if batch_norm else "false", "channels": str(64 // WIDTH_DIVISOR),
               "classifier_width": str(HIDDEN), "classes": str(CLASSES), "image_size": str(IMAGE),
               "layout": "torchvision"}
    write_safetensors(os.path.join(OUT, f"torchvision_{name}_io.safetensors"), {"input": images, "output": output}, options)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(20261126)
    case("vgg11", batch_norm=False)
    case("vgg11_bn", batch_norm=True)
    print("wrote the torchvision VGG cases to", OUT)
