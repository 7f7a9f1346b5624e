#!/usr/bin/env python3
"""Writes the PyTorch golden cases that tests/golden/golden_test.cpp compares kiln against.

Run once with Debian's python3-torch (`apt-get install python3-torch`; /usr/bin/python3):
    /usr/bin/python3 tests/golden/make_golden.py
Each case is one safetensors file in tests/golden/data/ holding float32 inputs, the upstream gradient `grad_out`,
PyTorch's outputs and the gradients of sum(output * grad_out); the op's options go in the metadata. CI reads the
committed files and needs no PyTorch.
"""
import json
import os

import torch
import torch.nn.functional as F

from safetensors_io import write_safetensors

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def save(name, tensors, **options):
    """Writes `tensors` (name -> tensor) and `options` (as JSON strings) to data/<name>.safetensors."""
    write_safetensors(os.path.join(OUT, name + ".safetensors"), tensors,
                      {key: json.dumps(value) for key, value in options.items()})


def leaf(*shape, low=-1.0, high=1.0):
    return (torch.rand(*shape) * (high - low) + low).requires_grad_(True)


def with_grads(name, forward, inputs, constants=None, **options):
    """Runs forward(**inputs), backpropagates a random grad_out and saves everything (plus `constants`)."""
    output = forward(**inputs)
    grad_out = torch.randn_like(output)
    (output * grad_out).sum().backward()
    tensors = dict(inputs, **(constants or {}))
    tensors["grad_out"] = grad_out
    tensors["output"] = output
    for key, value in inputs.items():
        if value.requires_grad:
            tensors["grad_" + key] = value.grad
    save(name, tensors, **options)


def conv_cases():
    with_grads("conv2d_stride2_pad", lambda x, weight, bias: F.conv2d(x, weight, bias, stride=2, padding=(1, 2)),
               dict(x=leaf(2, 3, 7, 6), weight=leaf(4, 3, 3, 3), bias=leaf(4)), stride=[2, 2], padding=[1, 2])
    with_grads("conv2d_nobias", lambda x, weight: F.conv2d(x, weight, None, stride=1, padding=0),
               dict(x=leaf(3, 2, 5, 5), weight=leaf(5, 2, 3, 2)), stride=[1, 1], padding=[0, 0])
    with_grads("conv_transpose2d",
               lambda x, weight, bias: F.conv_transpose2d(x, weight, bias, stride=2, padding=1, output_padding=1),
               dict(x=leaf(2, 3, 4, 5), weight=leaf(3, 2, 3, 3), bias=leaf(2)), stride=[2, 2], padding=[1, 1],
               output_padding=[1, 1])
    with_grads("linear", lambda x, weight, bias: F.linear(x, weight, bias),
               dict(x=leaf(4, 7), weight=leaf(5, 7), bias=leaf(5)))


def batch_norm_cases():
    for shape, suffix in (((4, 3, 5, 5), "2d"), ((6, 4), "1d")):
        channels = shape[1]
        running_mean, running_var = torch.rand(channels) - 0.5, torch.rand(channels) + 0.5
        for mode in ("train", "eval", "frozen"):
            mean, var = running_mean.clone(), running_var.clone()
            inputs = dict(x=leaf(*shape, low=-2, high=3), gamma=leaf(channels, low=0.5, high=1.5),
                          beta=leaf(channels))
            training = mode == "train"
            # Frozen statistics are eval-mode normalisation while gradients still flow to x, gamma and beta.
            forward = lambda x, gamma, beta: F.batch_norm(x, mean, var, gamma, beta, training=training,
                                                          momentum=0.1, eps=1e-5)
            output = forward(**inputs)
            grad_out = torch.randn_like(output)
            (output * grad_out).sum().backward()
            tensors = dict(inputs, grad_out=grad_out, output=output, running_mean_before=running_mean,
                           running_var_before=running_var, running_mean_after=mean, running_var_after=var)
            for key in ("x", "gamma", "beta"):
                tensors["grad_" + key] = inputs[key].grad
            save(f"batch_norm{suffix}_{mode}", tensors, mode=mode, momentum=0.1, eps=1e-5)


def pool_cases():
    x = lambda: leaf(2, 3, 9, 8)
    with_grads("max_pool2d", lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), dict(x=x()),
               kernel=[3, 3], stride=[2, 2], padding=[1, 1], ceil_mode=True)
    with_grads("avg_pool2d_exclude_pad",
               lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), dict(x=x()),
               kernel=[3, 3], stride=[2, 2], padding=[1, 1], ceil_mode=True, count_include_pad=False)
    with_grads("avg_pool2d_include_pad", lambda x: F.avg_pool2d(x, (2, 3), (2, 1), (1, 1)), dict(x=x()),
               kernel=[2, 3], stride=[2, 1], padding=[1, 1], ceil_mode=False, count_include_pad=True)
    with_grads("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (4, 3)), dict(x=x()), output=[4, 3])
    with_grads("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (4, 3)), dict(x=x()), output=[4, 3])
    with_grads("global_avg_pool2d", lambda x: x.mean(dim=(2, 3)), dict(x=x()))


def resize_cases():
    for size, name in (((11, 7), "up"), ((4, 3), "down")):
        for align in (True, False):
            mode = "align_corners" if align else "half_pixel"
            with_grads(f"resize_{mode}_{name}",
                       lambda x: F.interpolate(x, size=size, mode="bilinear", align_corners=align),
                       dict(x=leaf(2, 2, 6, 5)), size=list(size), mode=mode)


def cross_entropy_cases():
    logits, targets = leaf(5, 7, low=-3, high=3), torch.randint(0, 7, (5,), dtype=torch.int32)
    with_grads("cross_entropy", lambda logits: F.cross_entropy(logits, targets.long()), dict(logits=logits),
               dict(targets=targets), ignore_index=-100)
    logits, targets = leaf(2, 4, 3, 5, low=-3, high=3), torch.randint(0, 4, (2, 3, 5), dtype=torch.int32)
    targets[0, 1, :] = 255
    targets[1, 2, 3] = 255
    with_grads("cross_entropy_pixels", lambda logits: F.cross_entropy(logits, targets.long(), ignore_index=255),
               dict(logits=logits), dict(targets=targets), ignore_index=255)


def weighted_cross_entropy_cases():
    """Added after the first cases were committed: seeds its own generator, so the earlier files stay as they are."""
    torch.manual_seed(20261202)
    weight = torch.rand(7) * 1.8 + 0.2
    weight[3] = 0.0  # a class that counts for nothing
    logits, targets = leaf(6, 7, low=-3, high=3), torch.tensor([3, 0, 6, 2, 3, 5], dtype=torch.int32)
    with_grads("cross_entropy_weighted", lambda logits: F.cross_entropy(logits, targets.long(), weight=weight),
               dict(logits=logits), dict(targets=targets, weight=weight), ignore_index=-100)
    weight = torch.rand(4) * 1.8 + 0.2
    logits, targets = leaf(2, 4, 3, 5, low=-3, high=3), torch.randint(0, 4, (2, 3, 5), dtype=torch.int32)
    targets[0, 1, :] = 255
    targets[1, 2, 3] = 255
    with_grads("cross_entropy_weighted_pixels",
               lambda logits: F.cross_entropy(logits, targets.long(), weight=weight, ignore_index=255),
               dict(logits=logits), dict(targets=targets, weight=weight), ignore_index=255)


def optimizer_cases():
    for name, make, options in (
        ("adam", lambda p: torch.optim.Adam(p, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-3),
         dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-3)),
        ("sgd", lambda p: torch.optim.SGD(p, lr=5e-2, momentum=0.9, weight_decay=1e-3),
         dict(lr=5e-2, momentum=0.9, weight_decay=1e-3)),
    ):
        weight, bias = torch.randn(3, 4).requires_grad_(True), torch.randn(4).requires_grad_(True)
        tensors = {"weight_before": weight.detach().clone(), "bias_before": bias.detach().clone()}
        optimizer = make([weight, bias])
        for step in range(3):  # three steps exercise bias correction and momentum
            weight.grad, bias.grad = torch.randn(3, 4), torch.randn(4)
            tensors[f"grad_weight_{step}"], tensors[f"grad_bias_{step}"] = weight.grad.clone(), bias.grad.clone()
            optimizer.step()
        tensors["weight_after"], tensors["bias_after"] = weight.detach(), bias.detach()
        save(name + "_step", tensors, steps=3, **options)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(20261125)
    conv_cases()
    batch_norm_cases()
    pool_cases()
    resize_cases()
    cross_entropy_cases()
    optimizer_cases()
    weighted_cross_entropy_cases()
    print("wrote", len(os.listdir(OUT)), "golden files to", OUT)
