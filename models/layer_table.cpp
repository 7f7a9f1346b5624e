#include "kiln/models/layer_table.h"

#include <algorithm>
#include <sstream>

namespace kiln::models {

namespace {

std::string shape_text(const Shape& shape) {
  std::string text;
  for (const std::int64_t size : shape) text.append(text.empty() ? "" : "x").append(std::to_string(size));
  return text;
}

// 138357544 -> "138,357,544", so that large counts read at a glance.
std::string grouped(std::int64_t value) {
  std::string digits = std::to_string(value), text;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) text.push_back(',');
    text.push_back(digits[i]);
  }
  return text;
}

}  // namespace

std::int64_t LayerTable::parameters() const {
  std::int64_t total = 0;
  for (const LayerRow& row : rows) total += row.parameters;
  return total;
}

std::int64_t LayerTable::multiply_accumulates() const {
  std::int64_t total = 0;
  for (const LayerRow& row : rows) total += row.multiply_accumulates;
  return total;
}

std::string LayerTable::format() const {
  const std::vector<std::string> headers = {"layer", "operation", "output (CxHxW)", "parameters",
                                            "multiply-accumulates"};
  std::vector<std::vector<std::string>> cells = {{"input", "", shape_text(input), "", ""}};
  for (const LayerRow& row : rows) {
    cells.push_back(
        {row.name, row.operation, shape_text(row.output), grouped(row.parameters), grouped(row.multiply_accumulates)});
  }
  std::vector<std::size_t> widths;
  for (const std::string& header : headers) widths.push_back(header.size());
  for (const auto& line : cells) {
    for (std::size_t c = 0; c < line.size(); ++c) widths[c] = std::max(widths[c], line[c].size());
  }
  std::ostringstream text;
  const auto print = [&](const std::vector<std::string>& line) {
    std::string out;
    for (std::size_t c = 0; c < line.size(); ++c) {
      const std::string padding(widths[c] - line[c].size(), ' ');
      // Text columns align left, numbers right.
      out += c < 3 ? line[c] + padding : padding + line[c];
      if (c + 1 < line.size()) out += "  ";
    }
    text << out.substr(0, out.find_last_not_of(' ') + 1) << "\n";
  };
  print(headers);
  for (const auto& line : cells) print(line);
  text << "parameters: " << parameters() << "\n"
       << "multiply-accumulates per image: " << multiply_accumulates() << "\n";
  return text.str();
}

}  // namespace kiln::models
