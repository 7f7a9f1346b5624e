#pragma once
// The pieces of kiln's self-contained HTML reports (inline SVG charts, inline PNG images, one style sheet), shared by
// the classification and segmentation reports.
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/data/image_bytes.h"
#include "kiln/tensor.h"
#include "kiln/train/evaluation.h"
#include "kiln/train/html_report.h"

namespace kiln::train::html {

std::string escape_html(const std::string& text);
// printf of one number.
std::string format(const char* pattern, double value);
std::string base64(const std::vector<std::uint8_t>& bytes);
// An 8-bit image as a PNG data URI.
std::string png_data_uri(const data::ImageBytes& image);
// Image `index` of float [N, C, H, W] in [0, 1] (C 1 or 3) as a PNG data URI.
std::string png_data_uri(const Tensor& images, std::int64_t index);
// Loss and score curves per epoch (a paragraph saying why when there is no log); score_label names the score.
std::string curves_section(const std::vector<EpochRecord>& epochs, const std::string& score_label);
// Horizontal bars of per-class values in [0, 1], labelled with the class names and the values (NaN: "n/a").
std::string bar_chart(const std::string& title, const std::vector<std::string>& names,
                      const std::vector<double>& values);
// The confusion matrix as a heat map, each cell shaded by its share of the true class's row; `unit` names what is
// counted ("images", "pixels").
std::string confusion_heat_map(const std::vector<std::string>& names, const ConfusionMatrix& confusion,
                               const std::string& unit);
// The reports' style sheet.
extern const char* const report_style;
// A report's beginning: the document head with the style sheet, the title and the subtitle.
std::string page_start(const std::string& title, const std::string& subtitle);

}  // namespace kiln::train::html
