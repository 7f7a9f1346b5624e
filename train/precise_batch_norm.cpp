#include "kiln/train/precise_batch_norm.h"

#include <algorithm>
#include <cmath>

#include "kiln/autograd.h"
#include "kiln/nn/batch_norm.h"
#include "kiln/nn/layers.h"
#include "kiln/random.h"
#include "kiln/data/dataset.h"

namespace kiln::train {

namespace {

// Puts back what the pass changes: every module's mode (in pre-order, as train() sets whole subtrees), and each
// batch norm's momentum and frozen flag, even when a forward throws.
class ModelStateGuard {
 public:
  ModelStateGuard(nn::Module& model, const std::vector<nn::BatchNorm*>& norms) : norms_(norms) {
    model.apply([this](nn::Module& module) { modes_.emplace_back(&module, module.is_training()); });
    for (const nn::BatchNorm* norm : norms_) saved_.push_back({norm->momentum, norm->statistics_frozen()});
  }
  ~ModelStateGuard() {
    for (const auto& [module, training] : modes_) module->train(training);
    for (std::size_t i = 0; i < norms_.size(); ++i) {
      norms_[i]->momentum = saved_[i].momentum;
      norms_[i]->freeze_statistics(saved_[i].frozen);
    }
  }
  ModelStateGuard(const ModelStateGuard&) = delete;
  ModelStateGuard& operator=(const ModelStateGuard&) = delete;

 private:
  struct Saved {
    double momentum;
    bool frozen;
  };
  std::vector<std::pair<nn::Module*, bool>> modes_;
  const std::vector<nn::BatchNorm*>& norms_;
  std::vector<Saved> saved_;
};

// One norm's statistics of one batch, as its running buffers hold them after a forward at momentum 1.
struct BatchStatistics {
  std::vector<double> mean, unbiased_variance;
};

std::vector<BatchStatistics> read_statistics(const std::vector<nn::BatchNorm*>& norms) {
  std::vector<BatchStatistics> statistics;
  for (const nn::BatchNorm* norm : norms) {
    statistics.push_back({norm->running_mean.to_vector_f64(), norm->running_var.to_vector_f64()});
  }
  return statistics;
}

// The batch stacked on itself: every norm then sees each value twice, so the same mean and biased variance, and the
// forward of each copy is that of the batch.
Tensor twice(const Tensor& images) {
  const std::vector<float> values = images.cpu().to_vector();
  std::vector<float> doubled(values);
  doubled.insert(doubled.end(), values.begin(), values.end());
  Shape shape = images.shape();
  shape[0] *= 2;
  return Tensor::from_vector(doubled, shape).to(images.device());
}

// Values per channel and image that each norm normalises over (1 for [N, C] inputs, H * W for [N, C, H, W]), found
// from outside the model: a norm keeps the unbiased variance u1 = S / (n - 1) of the batch's n values per channel,
// and u2 = 2S / (2n - 1) of the batch stacked on itself, so n = (2 - r) / (2 - 2r) with r = u2 / u1. The count only
// matters through (n - 1) / n, so where r cannot resolve it (no variance, or n beyond float precision) 0 stands for
// "large": the variance is then used as it is.
std::vector<std::int64_t> values_per_image(nn::Module& model, const std::vector<nn::BatchNorm*>& norms,
                                           const Tensor& images, const std::vector<BatchStatistics>& once) {
  model(twice(images));
  const std::vector<BatchStatistics> doubled = read_statistics(norms);
  std::vector<std::int64_t> counts;
  for (std::size_t i = 0; i < norms.size(); ++i) {
    const std::vector<double>& u1 = once[i].unbiased_variance;
    const std::size_t widest = static_cast<std::size_t>(std::max_element(u1.begin(), u1.end()) - u1.begin());
    const double ratio = u1[widest] > 0 ? doubled[i].unbiased_variance[widest] / u1[widest] : 1.0;
    const double values = ratio < 1 - 1e-5 ? (2 - ratio) / (2 - 2 * ratio) : 0.0;
    counts.push_back(std::llround(values / static_cast<double>(images.size(0))));
  }
  return counts;
}

// Per-channel population mean and sum of squared deviations, combined batch by batch as Chan et al. combine partial
// variances (no cancellation of E[x^2] - E[x]^2).
struct Population {
  double count = 0;
  std::vector<double> mean, squares;

  void add(double values, const std::vector<double>& batch_mean, const std::vector<double>& batch_variance) {
    if (mean.empty()) {
      mean.assign(batch_mean.size(), 0.0);
      squares.assign(batch_mean.size(), 0.0);
    }
    const double total = count + values;
    for (std::size_t c = 0; c < mean.size(); ++c) {
      const double delta = batch_mean[c] - mean[c];
      mean[c] += delta * values / total;
      squares[c] += values * batch_variance[c] + delta * delta * count * values / total;
    }
    count = total;
  }
};

void store(Tensor& buffer, const std::vector<double>& values) {
  buffer.copy_from(Tensor::from_vector(values, buffer.shape()).to(buffer.dtype()).to(buffer.device()));
}

}  // namespace

PreciseBatchNormResult recompute_batch_norm_statistics(nn::Module& model, data::DataSource& source,
                                                       const PreciseBatchNormOptions& options, Device device) {
  KILN_CHECK(options.images >= 0 && options.batch_size > 0, "precise batch norm: images must not be negative and the "
             "batch size must be positive, got ", options.images, " and ", options.batch_size);
  std::vector<nn::BatchNorm*> norms;
  model.apply([&norms](nn::Module& module) {
    if (auto* norm = dynamic_cast<nn::BatchNorm*>(&module)) norms.push_back(norm);
  });
  PreciseBatchNormResult result;
  result.layers = static_cast<std::int64_t>(norms.size());
  if (norms.empty() || source.size() == 0) return result;

  // Whole batches only (a last batch of one image has no batch statistics for [N, C] norms), unless fewer images
  // than one batch are wanted or there.
  std::int64_t wanted = options.images > 0 ? std::min(options.images, source.size()) : source.size();
  const std::int64_t batch_size = std::min(options.batch_size, wanted);
  wanted -= wanted % batch_size;

  const ModelStateGuard restore(model, norms);
  model.train();
  model.apply([](nn::Module& module) {
    if (dynamic_cast<nn::Dropout*>(&module) != nullptr) module.eval();
  });
  // Momentum 1: after each forward the running buffers hold exactly that batch's mean and unbiased variance.
  for (nn::BatchNorm* norm : norms) {
    norm->freeze_statistics(false);
    norm->momentum = 1.0;
    norm->running_mean.fill(0);
    norm->running_var.fill(1);
  }
  std::vector<Population> populations(norms.size());
  std::vector<std::int64_t> per_image;  // measured on the first batch
  Generator shuffle(options.seed);
  source.start_epoch(data::permutation(source.size(), shuffle), batch_size, std::nullopt);
  const NoGradGuard no_grad;
  while (result.images < wanted) {
    const std::optional<data::Batch> batch = source.next();
    if (!batch) break;
    const Tensor images = batch->images.to(device);
    model(images);
    const std::vector<BatchStatistics> statistics = read_statistics(norms);
    if (per_image.empty()) per_image = values_per_image(model, norms, images, statistics);
    const auto rows = static_cast<double>(images.size(0));
    for (std::size_t i = 0; i < norms.size(); ++i) {
      // The biased variance, the one the batch was normalised with.
      const double values = rows * static_cast<double>(per_image[i]);
      std::vector<double> variance = statistics[i].unbiased_variance;
      if (values > 0) {
        for (double& value : variance) value *= (values - 1) / values;
      }
      populations[i].add(rows, statistics[i].mean, variance);
    }
    ++result.batches;
    result.images += images.size(0);
  }
  source.stop();
  KILN_CHECK(result.images > 0, "precise batch norm: the source gave no images (all unreadable?)");
  for (std::size_t i = 0; i < norms.size(); ++i) {
    std::vector<double> variance = populations[i].squares;
    for (double& value : variance) value = std::max(0.0, value / populations[i].count);
    store(norms[i]->running_mean, populations[i].mean);
    store(norms[i]->running_var, variance);
  }
  return result;
}

}  // namespace kiln::train
