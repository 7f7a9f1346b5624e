// concat_channels: shape checks, block copies (kernels/concat), backward splitting the gradient.
#include "kiln/ops/shape_ops.h"

#include "engine/ops/dispatch.h"
#include "kernels/concat.h"
#include "kiln/autograd.h"

namespace kiln {

Tensor concat_channels(const std::vector<Tensor>& inputs) {
  const OpScope op_scope("concat_channels");
  KILN_CHECK(!inputs.empty(), "concat_channels: no inputs");
  const Tensor& first = inputs.front();
  KILN_CHECK(first.defined() && first.dim() >= 2, "concat_channels: inputs must be [N, C, ...], got ",
             first.defined() ? shape_str(first.shape()) : "an undefined tensor");
  const std::int64_t outer = first.size(0);
  // Each input as [N, inner] with inner = C_i * the trailing sizes, which must match the first input's.
  const std::int64_t trailing = shape_numel(Shape(first.shape().begin() + 2, first.shape().end()));
  std::vector<std::int64_t> inner_sizes;
  Shape output_shape = first.shape();
  output_shape[1] = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& input = inputs[i];
    KILN_CHECK(input.defined(), "concat_channels: input ", i, " is undefined");
    ops::check_same_device_dtype("concat_channels", {&first, &input});
    Shape expected = first.shape();
    expected[1] = input.dim() >= 2 ? input.size(1) : 0;
    KILN_CHECK(input.shape() == expected, "concat_channels: input ", i, " has shape ", shape_str(input.shape()),
               ", which does not match input 0 ", shape_str(first.shape()), " outside dim 1");
    inner_sizes.push_back(input.size(1) * trailing);
    output_shape[1] += input.size(1);
  }
  Tensor output = Tensor::empty(output_shape, first.dtype(), first.device());
  const bool cuda = ops::on_cuda("concat_channels", first);
  if (cuda) {
    std::vector<const float*> parts;
    for (const Tensor& input : inputs) parts.push_back(input.data<float>());
    KILN_CUDA_KERNEL_CALL(kernels::cuda::concat_forward(parts, inner_sizes, output.data<float>(), outer));
  } else {
    ops::dispatch_float("concat_channels", first, [&]<class T>() {
      std::vector<const T*> parts;
      for (const Tensor& input : inputs) parts.push_back(input.data<T>());
      kernels::cpu::concat_forward<T>(parts, inner_sizes, output.data<T>(), outer);
    });
  }
  std::vector<Shape> input_shapes;
  for (const Tensor& input : inputs) input_shapes.push_back(input.shape());
  record(output, "concat_channels", inputs,
         [input_shapes, inner_sizes, outer, cuda](const Tensor& grad, const GradientNeeds& needs) {
           const OpScope backward_scope("concat_channels", Pass::backward);
           Gradients grads(input_shapes.size());
           for (std::size_t i = 0; i < grads.size(); ++i) {
             if (needs[i]) grads[i] = Tensor::empty(input_shapes[i], grad.dtype(), grad.device());
           }
           if (cuda) {
             std::vector<float*> parts;
             for (const Tensor& part : grads) parts.push_back(part.defined() ? part.data<float>() : nullptr);
             KILN_CUDA_KERNEL_CALL(kernels::cuda::concat_backward(grad.data<float>(), parts, inner_sizes, outer));
           } else {
             ops::dispatch_float("concat_channels", grad, [&]<class T>() {
               std::vector<T*> parts;
               for (const Tensor& part : grads) parts.push_back(part.defined() ? part.data<T>() : nullptr);
               kernels::cpu::concat_backward<T>(grad.data<T>(), parts, inner_sizes, outer);
             });
           }
           return grads;
         });
  return output;
}

}  // namespace kiln
