// Output labels: how a worker tells the reader of its output file what the
// lines after this point belong to. Before the first line of a new task's
// function, or of an actor, a worker writes one label line into its own
// stdout; the raylet's log monitor (raylet/log_monitor.h) takes it out of
// the stream and prefixes what follows with it ("(Counter pid=1234 ...)").
// The marker starts with an ASCII record separator, which text a program
// prints does not contain.
#pragma once
#include <string>
#include <string_view>

namespace glint {

inline constexpr std::string_view kOutputLabelMarker = "\x1eglint-label ";

// The line that sets the label to `label` (newline included).
std::string OutputLabelLine(std::string_view label);

// If `line` (without its newline) holds a label line, sets *label to it and
// *before to what the program printed before it on the same line (its
// unfinished last line), and returns true.
bool ParseOutputLabel(std::string_view line, std::string_view* before, std::string_view* label);

}  // namespace glint
