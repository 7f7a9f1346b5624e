#pragma once
// Every differentiable op of kiln, one header per family.
#include "kiln/ops/batch_norm.h"
#include "kiln/ops/conv.h"
#include "kiln/ops/dropout.h"
#include "kiln/ops/elementwise.h"
#include "kiln/ops/fused.h"
#include "kiln/ops/linear.h"
#include "kiln/ops/loss.h"
#include "kiln/ops/metrics.h"
#include "kiln/ops/pool.h"
#include "kiln/ops/reduce.h"
#include "kiln/ops/resize.h"
#include "kiln/ops/shape_ops.h"
