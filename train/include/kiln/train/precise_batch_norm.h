#pragma once
// Precise batch norm (Wu & Johnson, "Rethinking 'Batch' in BatchNorm", 2021; fvcore's update_bn_stats): replaces
// every BatchNorm's running mean and variance with statistics aggregated over training batches through the model as
// it is now. A moving average lags the weights: with RoomNet's momentum 0.01 (TensorFlow's 0.99) the running values
// still hold 0.99^k of their start after k steps, so eval mode after a short run normalises with statistics of
// weights long gone and disagrees with train mode.
#include <cstdint>

#include "kiln/device.h"
#include "kiln/nn/module.h"
#include "kiln/data/data_source.h"

namespace kiln::train {

struct PreciseBatchNormOptions {
  std::int64_t images = 0;      // images to aggregate over (the first of the order); 0 or more than the source: all
  std::int64_t batch_size = 1;  // as training normalises them: each batch with its own statistics
  std::uint64_t seed = 0;       // the order the source is cut into batches (a class-sorted folder must be mixed)
};

struct PreciseBatchNormResult {
  std::int64_t layers = 0;   // BatchNorm modules updated
  std::int64_t batches = 0;  // forward passes
  std::int64_t images = 0;
};

// Runs batches of `source` (unaugmented, in a seeded shuffle) through `model` without gradients, every BatchNorm
// normalising with its batch's statistics as in training and dropout off, and sets each BatchNorm's running mean and
// variance to the mean and variance of all the values it saw: over batches with means mu_b and variances v_b (those
// each batch was normalised with, divided by the count), mean = E[mu_b] and variance = E[v_b + mu_b^2] - mean^2,
// weighted by images (Wu & Johnson's population statistics). The variance is the population's, not the unbiased
// estimate that BatchNorm's moving average keeps: with one batch holding all the images, eval mode afterwards gives
// exactly the outputs train mode gives on that batch, which at small batch sizes (RoomNet's 8, norms over 1x1 maps)
// the n / (n - 1) of the unbiased estimate would not. All layers are updated in the same passes, so each sees the
// inputs train mode gives it. The first batch is also run stacked on itself once, to learn how many values per
// channel each norm sees (see values_per_image). Modes, momenta and frozen flags are restored; the random streams of
// dropout and augmentation are not touched. A model without BatchNorm is left alone (no pass is run).
PreciseBatchNormResult recompute_batch_norm_statistics(nn::Module& model, data::DataSource& source,
                                                       const PreciseBatchNormOptions& options,
                                                       Device device = Device::cpu());

}  // namespace kiln::train
