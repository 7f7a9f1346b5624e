#pragma once
// Everything a program embedding kiln needs.
#include "kiln/autograd.h"
#include "kiln/device.h"
#include "kiln/nn/batch_norm.h"
#include "kiln/nn/layers.h"
#include "kiln/nn/module.h"
#include "kiln/nn/sequential.h"
#include "kiln/ops.h"
#include "kiln/optim/adam.h"
#include "kiln/optim/sgd.h"
#include "kiln/safetensors.h"
#include "kiln/tensor.h"
#include "kiln/version.h"
