#include "common/output_label.h"

namespace glint {

std::string OutputLabelLine(std::string_view label) {
  std::string clean(label);
  for (char& c : clean) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return std::string(kOutputLabelMarker) + clean + "\n";
}

bool ParseOutputLabel(std::string_view line, std::string_view* before, std::string_view* label) {
  auto at = line.find(kOutputLabelMarker);
  if (at == std::string_view::npos) return false;
  *before = line.substr(0, at);
  *label = line.substr(at + kOutputLabelMarker.size());
  return true;
}

}  // namespace glint
