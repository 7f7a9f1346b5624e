#pragma once
// FCN-32s, FCN-16s and FCN-8s (Long, Shelhamer & Darrell 2015) on a VGG-16 encoder, as the reference caffe nets build
// them: conv1_1 padded by 100, max pools 2/2 in ceil mode, fc6 a 7x7 convolution and fc7 a 1x1 one (ReLU, dropout), 1x1
// score layers on fc7, pool4 and pool3, bias-free transposed convolutions initialised to bilinear interpolation (32s:
// 64x64/32; 16s: 4x4/2, 32x32/16; 8s: 4x4/2, 4x4/2, 16x16/8), and crops at the reference offsets (score_pool4 at 5,
// score_pool3 at 9; the output at 19, 27, 31 for 32s, 16s, 8s), so that any input size gives scores of that size. The
// encoder keeps torchvision's names (features.N) so that its VGG-16 state dict loads by name (load_fcn_encoder).
//
// Decoder "tutorial" (seed 003): no score layers on the skips; each skip's transposed convolution outputs the tap's
// channels and the tap itself is added, the last one outputs the classes; its kernels are N(0, 0.01) with biases.
// 134,489,759 parameters at 21 classes (reference decoder, full width).
#include <cstddef>
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
  // conv1_1's padding. The reference's 100 makes the crops fit at any input size; 1 is plain VGG-16 (fc7's map is 1x1
  // at 224 px, as torchvision's classifier sees it), for checking the encoder: the crops then do not line up.
  std::int64_t input_padding = 100;

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
  // The encoder alone: fc7's activation after its ReLU and dropout, [N, fc_width, h, w].
  Tensor encode(const Tensor& images);

  Generator dropout_generator;  // registered as "dropout", seeded from the
                                // construction generator

 private:
  Tensor run(const Tensor& images, std::size_t steps);  // the plan's first `steps` steps

  std::vector<FcnStep> plan_;
  std::size_t encoder_steps_;         // the steps up to drop7, which encode runs
  std::vector<nn::Module*> modules_;  // per step; null for crop, add and scale
  std::vector<std::int64_t> inputs_,
      others_;              // step indices; -1: the previous step, -2: the image
  std::vector<bool> kept_;  // outputs read again later
};

LayerTable fcn_layer_table(const FcnOptions& options);

// Loads a torchvision VGG-16 state dict (no batch norm) stored as safetensors into an FCN's encoder, as the FCN paper
// converts it: features.N.* by name, classifier.0.* reshaped into fc6 (a 7x7 convolution: [W, 25088] becomes
// [W, 512, 7, 7]) and classifier.3.* into fc7 (1x1). classifier.6.* (the 1000 ImageNet classes) and any other tensor
// are ignored; the decoder keeps its initialisation. float32 or float64 tensors (the safetensors reader skips F16 and
// BF16). All-or-nothing: a missing tensor, one of another dtype, or a shape that does not match the model's widths
// (channels, classifier_width) throws kiln::Error naming `path`, the tensor and the shapes before anything is copied.
void load_fcn_encoder(nn::Module& model, const std::string& path);

// RGB at image_size, ImageNet normalisation for training and for foreign (torchvision VGG-16) weights.
ModelFamily fcn8s_family();
ModelFamily fcn16s_family();
ModelFamily fcn32s_family();

}  // namespace kiln::models
