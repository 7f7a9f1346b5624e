#pragma once
// The parity checks of the op families that have a library path (convolution, batch norm, linear) and of a whole
// training step: the native tests run them as they are, the library tests (library_parity_test.cpp) with cuDNN or
// cuBLAS selected, so that both paths meet the same cases.
namespace kiln::testing {

void conv2d_parity_cases();
void batch_norm_parity_cases();
void linear_parity_cases();
void training_step_parity();

}  // namespace kiln::testing
