#pragma once
// FCN-32s, FCN-16s and FCN-8s (Long, Shelhamer & Darrell 2015) on a VGG-16 encoder, as the reference caffe nets build
// them: conv1_1 padded by 100, max pools 2/2 in ceil mode, fc6 a 7x7 convolution and fc7 a 1x1 one (ReLU, dropout), 1x1
// score layers on fc7, pool4 and pool3, bias-free transposed convolutions initialised to bilinear interpolation (32s:
// 64x64/32; 16s: 4x4/2, 32x32/16; 8s: 4x4/2, 4x4/2, 16x16/8), and crops at the reference offsets (score_pool4 at 5,
// score_pool3 at 9; the output at 19, 27, 31 for 32s, 16s, 8s), so that any input size gives scores of that size. The
// encoder keeps torchvision's names (features.N) so that its VGG-16 state dict loads by name.
//
// Decoder "tutorial" (seed 003): no score layers on the skips; each skip's transposed convolution outputs the tap's
// channels and the tap itself is added, the last one outputs the classes; its kernels are N(0, 0.01) with biases.
// 134,489,759 parameters at 21 classes (reference decoder, full width).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/models/family.h"

namespace kiln::models {

struct FcnOptions {
  std::int64_t stride = 8;  // the variant: 32, 16 or 8 (the family's name, not an option)
  std::int64_t classes = 21;
  // For the layer table: the largest side of VOC's images, on which the reference trains whole images.
  std::int64_t image_size = 500;
  std::int64_t channels = 64;         // encoder stages are channels x (1, 2, 4, 8, 8), as for VGG
  std::int64_t classifier_width = 0;  // fc6 and fc7; 0: 4096 x channels / 64
  double dropout = 0.5;
  std::string decoder = "reference";  // or "tutorial"
  bool skip_scaling = false;          // the reference's pool4 x 0.01 and pool3 x 0.0001 before their use

  static const std::vector<ModelOptionSpec>& specs();  // shared by the three variants
  static FcnOptions from(std::int64_t stride, const ModelOptions& options);
  std::int64_t fc_width() const { return classifier_width > 0 ? classifier_width : 4096 * channels / 64; }
};

// One step of the network in order. Steps read the previous step's output unless `input` names another step.
struct FcnStep {
  enum class Kind { conv, relu, max_pool, dropout, upscore, scale, crop, add };
  enum class Init { kaiming, normal, zero, bilinear };
  Kind kind;
  std::string name = {};  // the module's ("features.0", "fc6", "upscore2") or the step's ("score_pool4c")
  std::int64_t in = 0, out = 0, kernel = 0, stride = 1, padding = 0;
  bool bias = true;
  Init init = Init::kaiming;
  std::string input = {};   // "": the previous step
  std::string other = {};   // add: the second operand; crop: the step whose size it crops to ("image": the input)
  std::int64_t offset = 0;  // crop: top and left
  double factor = 1;        // scale
};

// The plan the model, its forward and its layer table are all made from.
std::vector<FcnStep> fcn_plan(const FcnOptions& options);

// The standard bilinear upsampling kernel (caffe's and FCN's surgery), [kernel, kernel].
std::vector<float> bilinear_kernel(std::int64_t kernel);

class Fcn : public nn::Module {
 public:
  Fcn(const FcnOptions& options, Generator& generator);
  Tensor forward(const Tensor& images) override;  // [N, 3, H, W] -> [N, classes, H, W] scores

  Generator dropout_generator;  // registered as "dropout", seeded from the
                                // construction generator

 private:
  std::vector<FcnStep> plan_;
  std::vector<nn::Module*> modules_;  // per step; null for crop, add and scale
  std::vector<std::int64_t> inputs_,
      others_;              // step indices; -1: the previous step, -2: the image
  std::vector<bool> kept_;  // outputs read again later
};

LayerTable fcn_layer_table(const FcnOptions& options);

// RGB at image_size, ImageNet normalisation for training and for foreign (torchvision VGG-16) weights.
ModelFamily fcn8s_family();
ModelFamily fcn16s_family();
ModelFamily fcn32s_family();

}  // namespace kiln::models
