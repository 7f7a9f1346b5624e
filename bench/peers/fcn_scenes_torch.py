#!/usr/bin/env python3
"""PyTorch peer of kiln's FCN-8s training on generated scenes, for issue 14's comparison (not used by CI).

Builds the narrow FCN-8s of models/fcn.cpp (reference decoder) with kiln's initialisation, trains it on a folder
written by `kiln make-scenes` and scores it on another (pixel confusion matrix, per-class IoU, mean IoU as the FCN
reference: numpy.nanmean over classes with a non-zero union, pixel accuracy), then prints one JSON line with the
training images/s (all epochs; image decoding and validation are outside the timing). Every part of the recipe is a
flag. Its "parameters" is `kiln info --model fcn8s --classes N --channels C`'s (2,140,937 at 11 classes, C = 8).
Uses Debian's python3-torch: /usr/bin/python3.
"""
import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

IGNORE_LABEL = 255
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def load_scenes(root):
    """The folder's images [N, 3, H, W] (ImageNet-normalised) and masks [N, H, W] (int64), paired as kiln pairs them:
    images/<path>/<stem>.{jpg,jpeg,png,bmp} with masks/<path>/<stem>.png, in image path order."""
    root = Path(root)
    masks = {p.relative_to(root / "masks").with_suffix(""): p for p in (root / "masks").rglob("*.png")}
    images, labels = [], []
    for path in sorted(p for p in (root / "images").rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
        mask_path = masks.get(path.relative_to(root / "images").with_suffix(""))
        if mask_path is None:
            continue
        mask = Image.open(mask_path)
        if mask.mode not in ("L", "LA"):
            raise SystemExit(f"{mask_path}: mode {mask.mode}; this peer reads one-channel index masks only")
        images.append(np.asarray(Image.open(path).convert("RGB"), np.float32) / 255.0)
        labels.append(np.asarray(mask.getchannel(0), np.int64))
    if not images:
        raise SystemExit(f"{root}: no image has a mask")
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2)
    mean, std = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous(), torch.from_numpy(np.stack(labels))


def bilinear_kernel(size):
    """caffe's and FCN surgery's bilinear upsampling kernel, [size, size] (models/fcn.cpp's bilinear_kernel)."""
    factor = (size + 1) // 2
    centre = factor - 1 if size % 2 == 1 else factor - 0.5
    axis = 1 - torch.abs(torch.arange(size, dtype=torch.float64) - centre) / factor
    return (axis[:, None] * axis[None, :]).float()


def upscore(classes, kernel, stride):
    """Bias-free transposed convolution whose weight [in, out, k, k] holds the bilinear kernel on its diagonal."""
    layer = nn.ConvTranspose2d(classes, classes, kernel, stride, bias=False)
    with torch.no_grad():
        layer.weight.zero_()
        for c in range(classes):
            layer.weight[c, c] = bilinear_kernel(kernel)
    return layer


def conv(in_channels, out_channels, kernel, std=None, padding=0):
    """A convolution initialised as kiln's FCN: N(0, std), Kaiming normal fan_out (std None) or zero (std 0); bias 0."""
    layer = nn.Conv2d(in_channels, out_channels, kernel, padding=padding)
    with torch.no_grad():
        if std is None:
            std = math.sqrt(2.0 / (out_channels * kernel * kernel))
        if std > 0:
            layer.weight.normal_(0, std)
        else:
            layer.weight.zero_()
        layer.bias.zero_()
    return layer


class Fcn8s(nn.Module):
    """models/fcn.cpp's FCN-8s with the reference decoder: torchvision's VGG-16 features at widths 1, 2, 4, 8, 8 x
    channels (conv1_1 padded by 100, max pools 2/2 in ceil mode), fc6 7x7 and fc7 1x1 (ReLU, dropout), zero-initialised
    1x1 score layers on fc7, pool4 and pool3, bilinear bias-free upsampling 4x4/2, 4x4/2, 16x16/8, crops at 5, 9, 31."""

    def __init__(self, classes, channels, classifier_width, dropout, skip_scaling):
        super().__init__()
        layers, width_in = [], 3
        for stage, convs in enumerate((2, 2, 3, 3, 3)):
            width = channels * (1, 2, 4, 8, 8)[stage]
            for _ in range(convs):
                layers += [conv(width_in, width, 3, padding=100 if not layers else 1), nn.ReLU(inplace=True)]
                width_in = width
            layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
        self.features = nn.Sequential(*layers)
        self.pool3_end, self.pool4_end = 17, 24  # features[:17] ends with pool3, features[:24] with pool4
        fc = classifier_width or 4096 * channels // 64
        self.fc6, self.fc7 = conv(8 * channels, fc, 7, 0.01), conv(fc, fc, 1, 0.01)
        self.drop6, self.drop7 = nn.Dropout(dropout), nn.Dropout(dropout)
        self.score_fr = conv(fc, classes, 1, 0)
        self.upscore2 = upscore(classes, 4, 2)
        self.score_pool4 = conv(8 * channels, classes, 1, 0)
        self.upscore_pool4 = upscore(classes, 4, 2)
        self.score_pool3 = conv(4 * channels, classes, 1, 0)
        self.upscore8 = upscore(classes, 16, 8)
        self.pool4_factor, self.pool3_factor = (0.01, 0.0001) if skip_scaling else (1.0, 1.0)

    def forward(self, images):
        pool3 = self.features[:self.pool3_end](images)
        pool4 = self.features[self.pool3_end:self.pool4_end](pool3)
        x = self.features[self.pool4_end:](pool4)
        x = self.drop6(F.relu(self.fc6(x)))
        x = self.drop7(F.relu(self.fc7(x)))
        x = self.upscore2(self.score_fr(x))
        x = x + crop(self.score_pool4(pool4 * self.pool4_factor), 5, x)
        x = self.upscore_pool4(x)
        x = x + crop(self.score_pool3(pool3 * self.pool3_factor), 9, x)
        return crop(self.upscore8(x), 31, images)


def crop(x, offset, reference):
    """x's window at (offset, offset) of reference's height and width, which must lie inside x (as kiln's crop2d)."""
    if x.shape[2] < offset + reference.shape[2] or x.shape[3] < offset + reference.shape[3]:
        raise ValueError(f"crop at {offset} to {tuple(reference.shape[2:])} from a {tuple(x.shape[2:])} map")
    return x[:, :, offset:offset + reference.shape[2], offset:offset + reference.shape[3]]


def confusion_matrix(model, images, masks, classes, batch):
    confusion = torch.zeros(classes * classes, dtype=torch.int64)
    model.eval()
    with torch.no_grad():
        for begin in range(0, len(images), batch):
            predicted = model(images[begin:begin + batch]).argmax(1).flatten()
            truth = masks[begin:begin + batch].flatten()
            counted = truth != IGNORE_LABEL
            if (truth[counted] >= classes).any():
                raise SystemExit(f"a validation mask holds a label outside 0-{classes - 1} and {IGNORE_LABEL}")
            confusion += torch.bincount(truth[counted] * classes + predicted[counted], minlength=classes * classes)
    return confusion.view(classes, classes).double()


def scores(confusion):
    """Per-class IoU (None where the class is neither present nor predicted), their mean and pixel accuracy."""
    hits = confusion.diag()
    union = confusion.sum(0) + confusion.sum(1) - hits
    iou = [(h / u).item() if u > 0 else None for h, u in zip(hits, union)]
    defined = [v for v in iou if v is not None]
    return iou, sum(defined) / len(defined), (hits.sum() / confusion.sum()).item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="training scenes (kiln make-scenes --out)")
    parser.add_argument("--val", required=True, help="validation scenes (another seed)")
    parser.add_argument("--classes", type=int, default=11)
    parser.add_argument("--channels", type=int, default=64, help="first stage's width; stages use 1, 2, 4, 8, 8 x it")
    parser.add_argument("--classifier-width", type=int, default=0, help="fc6 and fc7; 0: 4096 x channels / 64")
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--skip-scaling", action="store_true", help="pool4 x 0.01 and pool3 x 0.0001 (kiln: off)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--beta1", type=float, default=0.9)
    parser.add_argument("--beta2", type=float, default=0.999)
    parser.add_argument("--eps", type=float, default=1e-8)
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0, help="initialisation, dropout and each epoch's shuffle")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    train_x, train_y = load_scenes(args.data)
    val_x, val_y = load_scenes(args.val)
    model = Fcn8s(args.classes, args.channels, args.classifier_width, args.dropout, args.skip_scaling)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(args.beta1, args.beta2), eps=args.eps,
                                 weight_decay=args.weight_decay)
    shuffle = torch.Generator().manual_seed(args.seed)
    seconds = 0.0
    for _ in range(args.epochs):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(len(train_x), generator=shuffle)
        for begin in range(0, len(order), args.batch):
            batch = order[begin:begin + args.batch]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(train_x[batch]), train_y[batch], ignore_index=IGNORE_LABEL)
            loss.backward()
            optimizer.step()
        seconds += time.perf_counter() - start

    iou, mean_iou, pixel_accuracy = scores(confusion_matrix(model, val_x, val_y, args.classes, args.batch))
    background = torch.zeros(args.classes, args.classes, dtype=torch.float64)
    counted = val_y[val_y != IGNORE_LABEL]
    background[:, 0] = torch.bincount(counted, minlength=args.classes).double()
    print(json.dumps({"model": "fcn8s", "channels": args.channels,
                      "parameters": sum(p.numel() for p in model.parameters()), "epochs": args.epochs,
                      "batch": args.batch, "threads": args.threads, "train_images": len(train_x),
                      "images_per_second": args.epochs * len(train_x) / seconds, "train_seconds": seconds,
                      "mean_iou": mean_iou, "pixel_accuracy": pixel_accuracy, "per_class_iou": iou,
                      "background_baseline_mean_iou": scores(background)[1], "final_train_loss": loss.item(),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
