#pragma once
// Status checks for the CUDA runtime, cuDNN and cuBLAS: a failure throws kiln::Error naming the call, the library's
// reason, the op running (base/op_scope.h), the file and the line. Each macro needs its library's header only where
// it is used.
#include "base/op_scope.h"
#include "kiln/error.h"

// The shared form: `call` returns a Status, success is its OK value, describe(status) its text.
#define KILN_STATUS_CHECK(call, Status, success, describe)                                                    \
  do {                                                                                                        \
    const Status status_ = (call);                                                                            \
    if (status_ != (success)) {                                                                               \
      ::kiln::fail(#call, " failed: ", describe(status_), ::kiln::OpScope::in_current(), " (", __FILE__, ":", \
                   __LINE__, ")");                                                                            \
    }                                                                                                         \
  } while (0)

#define KILN_CUDA_CHECK(call) KILN_STATUS_CHECK(call, cudaError_t, cudaSuccess, cudaGetErrorString)
#define KILN_CUDNN_CHECK(call) KILN_STATUS_CHECK(call, cudnnStatus_t, CUDNN_STATUS_SUCCESS, cudnnGetErrorString)
#define KILN_CUBLAS_CHECK(call) KILN_STATUS_CHECK(call, cublasStatus_t, CUBLAS_STATUS_SUCCESS, cublasGetStatusString)
