#include "kiln/train/task.h"

#include <cmath>

namespace kiln::train {

std::unique_ptr<Task> make_task(models::Task kind, std::int64_t classes, const TaskOptions& options) {
  KILN_CHECK(options.class_weights.empty() || static_cast<std::int64_t>(options.class_weights.size()) == classes,
             "class weights: ", options.class_weights.size(), " given for ", classes, " classes");
  for (std::size_t c = 0; c < options.class_weights.size(); ++c) {
    KILN_CHECK(std::isfinite(options.class_weights[c]) && options.class_weights[c] >= 0, "class weights: weight ",
               options.class_weights[c], " of class ", c, " must be finite and not negative");
  }
  switch (kind) {
    case models::Task::classification: return make_classification_task(classes, options);
    case models::Task::segmentation: return make_segmentation_task(classes, options);
  }
  fail("unknown task");
}

}  // namespace kiln::train
