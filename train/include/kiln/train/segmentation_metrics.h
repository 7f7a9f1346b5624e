#pragma once
// Segmentation metrics on the host: the pixel confusion matrix, IoU scores as the FCN reference computes them, and
// per-class average precision as sklearn's average_precision_score computes it.
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/train/evaluation.h"

namespace kiln::train {

// Counts each pixel into confusion[truth][predicted] (classes x classes). Pixels whose truth is `ignore_label` count
// nowhere and their prediction is not read (it may be padding). Any other truth or prediction outside [0, classes)
// throws, naming the pixel index and value.
void count_pixels(const std::int32_t* truth, const std::int32_t* predicted, std::int64_t pixels, std::int64_t classes,
                  std::int32_t ignore_label, ConfusionMatrix& confusion);

// The FCN paper's scores (Long, Shelhamer, Darrell, section 5) with t_i = pixels of class i, n_ij = pixels of class i
// predicted j; NaN marks an undefined value, and means skip NaNs as the reference's numpy.nanmean does.
struct SegmentationScores {
  std::vector<double> iou;            // n_ii / (t_i + sum_j n_ji - n_ii); NaN where neither present nor predicted
  std::vector<double> accuracy;       // n_ii / t_i; NaN where the class is absent from the truth
  double mean_iou = 0;                // over classes with a defined IoU: a class predicted but absent counts as 0
  double mean_accuracy = 0;           // over classes present in the truth
  double pixel_accuracy = 0;          // sum_i n_ii / sum_i t_i
  double frequency_weighted_iou = 0;  // sum_i t_i IoU_i / sum_i t_i
  std::int64_t pixels = 0;            // pixels counted (ignored ones excluded); with none, every score is NaN
};

SegmentationScores segmentation_scores(const ConfusionMatrix& confusion);

// Per-class average precision over every non-ignored pixel: for class c, pixels ranked by scores[pixel * classes + c]
// (probabilities or logits: AP depends on which), AP = sum_n (R_n - R_{n-1}) P_n over the distinct scores from the
// highest down, pixels of equal score forming one threshold (sklearn's average_precision_score). NaN for a class
// absent from the truth. Labels are checked as in count_pixels; a non-finite score throws.
std::vector<double> average_precision(const float* scores, const std::int32_t* truth, std::int64_t pixels,
                                      std::int64_t classes, std::int32_t ignore_label);

// {"mean_iou", "pixel_accuracy", "mean_accuracy", "frequency_weighted_iou", "pixels",
//  "per_class": [{"class", "iou", "accuracy", "average_precision"}]}, NaN written as null. Classes beyond `classes`
// are named by their index; an empty `average_precision` writes null for every class.
std::string to_json(const SegmentationScores& scores, const std::vector<std::string>& classes,
                    const std::vector<double>& average_precision);

}  // namespace kiln::train
