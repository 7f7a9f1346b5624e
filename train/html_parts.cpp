#include "train/html_parts.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <sstream>

namespace kiln::train::html {

namespace {

struct Series {
  std::string name, colour;
  std::vector<double> values;
};

// A line chart of several series over epochs 1..n, with axes, ticks and a legend.
std::string line_chart(const std::string& title, const std::vector<std::int64_t>& epochs,
                       const std::vector<Series>& series, const char* tick_format) {
  const double width = 460, height = 260, left = 56, right = 16, top = 28, bottom = 40;
  double low = INFINITY, high = -INFINITY;
  for (const Series& line : series) {
    for (const double value : line.values) {
      low = std::min(low, value);
      high = std::max(high, value);
    }
  }
  if (!(high > low)) {
    low -= 0.5;
    high += 0.5;
  }
  const double margin = (high - low) * 0.05;
  low -= margin;
  high += margin;
  const double first = static_cast<double>(epochs.front()), last = static_cast<double>(epochs.back());
  const double span = last > first ? last - first : 1;
  const auto x_of = [&](double epoch) { return left + (epoch - first) / span * (width - left - right); };
  const auto y_of = [&](double value) { return top + (high - value) / (high - low) * (height - top - bottom); };

  std::ostringstream svg;
  svg << "<svg class=\"chart\" viewBox=\"0 0 " << width << ' ' << height << "\" role=\"img\"><title>"
      << escape_html(title) << "</title>";
  svg << "<text x=\"" << left << "\" y=\"18\" class=\"heading\">" << escape_html(title) << "</text>";
  for (int tick = 0; tick <= 4; ++tick) {
    const double value = low + (high - low) * tick / 4;
    const double y = y_of(value);
    svg << "<line x1=\"" << left << "\" x2=\"" << width - right << "\" y1=\"" << y << "\" y2=\"" << y
        << "\" class=\"grid\"/><text x=\"" << left - 6 << "\" y=\"" << y + 4 << "\" class=\"tick\" text-anchor=\"end\">"
        << format(tick_format, value) << "</text>";
  }
  const std::size_t step = std::max<std::size_t>(1, (epochs.size() + 9) / 10);
  for (std::size_t i = 0; i < epochs.size(); i += step) {
    const double x = x_of(static_cast<double>(epochs[i]));
    svg << "<text x=\"" << x << "\" y=\"" << height - bottom + 16 << "\" class=\"tick\" text-anchor=\"middle\">"
        << epochs[i] << "</text>";
  }
  svg << "<text x=\"" << (left + width - right) / 2 << "\" y=\"" << height - 6
      << "\" class=\"tick\" text-anchor=\"middle\">epoch</text>";
  svg << "<line x1=\"" << left << "\" x2=\"" << left << "\" y1=\"" << top << "\" y2=\"" << height - bottom
      << "\" class=\"axis\"/><line x1=\"" << left << "\" x2=\"" << width - right << "\" y1=\"" << height - bottom
      << "\" y2=\"" << height - bottom << "\" class=\"axis\"/>";
  double legend_x = width - right - 8;
  for (auto line = series.rbegin(); line != series.rend(); ++line) {
    svg << "<text x=\"" << legend_x << "\" y=\"18\" class=\"tick\" text-anchor=\"end\" fill=\"" << line->colour
        << "\">&#9632; " << escape_html(line->name) << "</text>";
    legend_x -= 12 + 7.0 * static_cast<double>(line->name.size());
  }
  for (const Series& line : series) {
    svg << "<polyline fill=\"none\" stroke=\"" << line.colour << "\" stroke-width=\"2\" points=\"";
    for (std::size_t i = 0; i < line.values.size(); ++i) {
      svg << x_of(static_cast<double>(epochs[i])) << ',' << y_of(line.values[i]) << ' ';
    }
    svg << "\"/>";
    for (std::size_t i = 0; i < line.values.size(); ++i) {
      svg << "<circle r=\"3\" fill=\"" << line.colour << "\" cx=\"" << x_of(static_cast<double>(epochs[i]))
          << "\" cy=\"" << y_of(line.values[i]) << "\"><title>" << escape_html(line.name) << ", epoch " << epochs[i]
          << ": " << format(tick_format, line.values[i]) << "</title></circle>";
    }
  }
  svg << "</svg>";
  return svg.str();
}

}  // namespace

std::string escape_html(const std::string& text) {
  std::string escaped;
  for (const char c : text) {
    switch (c) {
      case '&': escaped += "&amp;"; break;
      case '<': escaped += "&lt;"; break;
      case '>': escaped += "&gt;"; break;
      case '"': escaped += "&quot;"; break;
      default: escaped += c;
    }
  }
  return escaped;
}

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

std::string base64(const std::vector<std::uint8_t>& bytes) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string encoded;
  encoded.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t left = bytes.size() - i;
    const unsigned triple = (unsigned{bytes[i]} << 16) | (left > 1 ? unsigned{bytes[i + 1]} << 8 : 0u) |
                            (left > 2 ? unsigned{bytes[i + 2]} : 0u);
    encoded += alphabet[(triple >> 18) & 63];
    encoded += alphabet[(triple >> 12) & 63];
    encoded += left > 1 ? alphabet[(triple >> 6) & 63] : '=';
    encoded += left > 2 ? alphabet[triple & 63] : '=';
  }
  return encoded;
}

std::string png_data_uri(const data::ImageBytes& image) {
  const std::vector<std::uint8_t> png = data::encode_png(image);
  return "data:image/png;base64," + base64(png);
}

std::string png_data_uri(const Tensor& images, std::int64_t index) {
  const std::int64_t channels = images.size(1), height = images.size(2), width = images.size(3);
  const float* source = images.data<float>() + index * channels * height * width;
  data::ImageBytes image{height, width, static_cast<int>(channels),
                         std::vector<std::uint8_t>(static_cast<std::size_t>(channels * height * width))};
  for (std::int64_t c = 0; c < channels; ++c) {
    for (std::int64_t p = 0; p < height * width; ++p) {
      const float value = std::clamp(source[c * height * width + p], 0.0f, 1.0f);
      image.samples[static_cast<std::size_t>(p * channels + c)] = static_cast<std::uint8_t>(std::lround(value * 255));
    }
  }
  return png_data_uri(image);
}

std::string curves_section(const std::vector<EpochRecord>& epochs, const std::string& score_label) {
  if (epochs.empty()) return "<p>No training log (log.jsonl) beside the checkpoint: no curves.</p>";
  std::vector<std::int64_t> numbers;
  Series train_loss{"train", "#1f77b4", {}}, val_loss{"validation", "#ff7f0e", {}};
  Series train_accuracy{"train", "#1f77b4", {}}, val_accuracy{"validation", "#ff7f0e", {}};
  for (const EpochRecord& record : epochs) {
    numbers.push_back(record.epoch);
    train_loss.values.push_back(record.train_loss);
    val_loss.values.push_back(record.val_loss);
    train_accuracy.values.push_back(100 * record.train_accuracy);
    val_accuracy.values.push_back(100 * record.val_accuracy);
  }
  return "<div class=\"row\">" + line_chart("loss", numbers, {train_loss, val_loss}, "%.3f") +
         line_chart(score_label + " (%)", numbers, {train_accuracy, val_accuracy}, "%.1f") + "</div>";
}

std::string bar_chart(const std::string& title, const std::vector<std::string>& names,
                      const std::vector<double>& values) {
  const std::size_t classes = values.size();
  const double bar = classes > 40 ? 8 : 22, label_width = 130, chart_width = 300;
  const double height = static_cast<double>(classes) * bar + 30;
  const auto name = [&](std::size_t c) { return c < names.size() ? names[c] : std::to_string(c); };
  std::ostringstream svg;
  svg << "<svg class=\"chart\" viewBox=\"0 0 " << label_width + chart_width + 60 << ' ' << height
      << "\" role=\"img\"><title>" << escape_html(title) << "</title>";
  for (std::size_t c = 0; c < classes; ++c) {
    const double y = 8 + static_cast<double>(c) * bar;
    const double value = std::isfinite(values[c]) ? values[c] : 0.0;  // undefined: no bar, "n/a"
    const std::string text = std::isfinite(values[c]) ? format("%.3f", values[c]) : "n/a";
    svg << "<rect x=\"" << label_width << "\" y=\"" << y << "\" width=\"" << value * chart_width << "\" height=\""
        << bar - 4 << "\" fill=\"#4c78a8\"><title>" << escape_html(name(c)) << ": " << escape_html(title) << " "
        << text << "</title></rect>";
    if (classes <= 40) {
      svg << "<text x=\"" << label_width - 6 << "\" y=\"" << y + bar - 9 << "\" class=\"tick\" text-anchor=\"end\">"
          << escape_html(name(c)) << "</text><text x=\"" << label_width + value * chart_width + 4 << "\" y=\""
          << y + bar - 9 << "\" class=\"tick\">" << text << "</text>";
    }
  }
  for (const double mark : {0.0, 0.5, 1.0}) {
    const double x = label_width + mark * chart_width;
    svg << "<line x1=\"" << x << "\" x2=\"" << x << "\" y1=\"4\" y2=\"" << height - 18 << "\" class=\"grid\"/>"
        << "<text x=\"" << x << "\" y=\"" << height - 4 << "\" class=\"tick\" text-anchor=\"middle\">"
        << format("%.1f", mark) << "</text>";
  }
  svg << "</svg>";
  return svg.str();
}

std::string confusion_heat_map(const std::vector<std::string>& names, const ConfusionMatrix& confusion,
                               const std::string& unit) {
  const std::size_t classes = confusion.size();
  const auto class_name = [&](std::size_t c) { return c < names.size() ? names[c] : std::to_string(c); };
  const double cell = std::clamp(440.0 / static_cast<double>(std::max<std::size_t>(classes, 1)), 3.0, 44.0);
  const bool labelled = cell >= 20;
  const double left = labelled ? 130 : 20, top = labelled ? 110 : 20;
  const double side = cell * static_cast<double>(classes);
  std::ostringstream svg;
  svg << "<svg class=\"chart\" viewBox=\"0 0 " << left + side + 10 << ' ' << top + side + 30
      << "\" role=\"img\"><title>confusion matrix</title>";
  for (std::size_t t = 0; t < classes; ++t) {
    const std::int64_t row_total =
        std::accumulate(confusion[t].begin(), confusion[t].end(), std::int64_t{0});
    for (std::size_t p = 0; p < classes; ++p) {
      const std::int64_t count = confusion[t][p];
      const double share = row_total > 0 ? static_cast<double>(count) / static_cast<double>(row_total) : 0;
      // White to dark blue; light text on dark cells.
      const int red = static_cast<int>(std::lround(255 - share * (255 - 8)));
      const int green = static_cast<int>(std::lround(255 - share * (255 - 48)));
      const int blue = static_cast<int>(std::lround(255 - share * (255 - 107)));
      const double x = left + cell * static_cast<double>(p), y = top + cell * static_cast<double>(t);
      svg << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << cell << "\" height=\"" << cell
          << "\" fill=\"rgb(" << red << ',' << green << ',' << blue << ")\"><title>true "
          << escape_html(class_name(t)) << ", predicted " << escape_html(class_name(p)) << ": "
          << count << " " << unit << " (" << format("%.1f", 100 * share) << "%)</title></rect>";
      if (labelled && count > 0) {
        svg << "<text x=\"" << x + cell / 2 << "\" y=\"" << y + cell / 2 + 4
            << "\" class=\"cell\" text-anchor=\"middle\" fill=\"" << (share > 0.5 ? "#fff" : "#222") << "\">"
            << count << "</text>";
      }
    }
    if (labelled) {
      const double y = top + cell * static_cast<double>(t) + cell / 2 + 4;
      svg << "<text x=\"" << left - 6 << "\" y=\"" << y << "\" class=\"tick\" text-anchor=\"end\">"
          << escape_html(class_name(t)) << "</text>";
      const double x = left + cell * static_cast<double>(t) + cell / 2;
      svg << "<text transform=\"translate(" << x + 4 << ',' << top - 6
          << ") rotate(-60)\" class=\"tick\">" << escape_html(class_name(t)) << "</text>";
    }
  }
  svg << "<text x=\"" << left + side / 2 << "\" y=\"" << top + side + 22
      << "\" class=\"tick\" text-anchor=\"middle\">predicted class (rows: true class)</text></svg>";
  return svg.str();
}

const char* const report_style = R"(
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0; } h2 { font-size: 1.2em; margin-top: 1.6em; }
.subtitle { color: #666; margin-top: 4px; }
.summary span { display: inline-block; margin-right: 2em; font-size: 1.1em; }
.row { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.chart { width: 100%; max-width: 520px; height: auto; }
.chart .heading { font-size: 14px; font-weight: 600; }
.chart .tick { font-size: 11px; } .chart .cell { font-size: 11px; }
.chart .grid { stroke: #ddd; } .chart .axis { stroke: #444; }
table { border-collapse: collapse; font-size: 0.9em; } td, th { padding: 2px 10px; text-align: right; }
td:first-child, th:first-child { text-align: left; } tr:nth-child(even) { background: #f4f4f4; }
.grid { display: flex; flex-wrap: wrap; gap: 10px; }
.grid figure { margin: 0; width: 104px; font-size: 11px; text-align: center; }
.grid img { width: 84px; height: 84px; image-rendering: pixelated; border: 1px solid #ccc; }
.grid.segmentation figure { width: 270px; }
)";

std::string page_start(const std::string& title, const std::string& subtitle) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape_html(title) +
         "</title><style>" + report_style + "</style></head><body>\n<h1>" + escape_html(title) +
         "</h1><p class=\"subtitle\">" + escape_html(subtitle) + "</p>\n";
}

}  // namespace kiln::train::html
