// Helpers shared by the combine, naming and special function groups (combine.cc, naming.cc,
// special.cc): graphite-web's node/tag keys of series names and its constant line. Internal to
// src/expr/functions; not part of the expression engine's API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "expr/evaluator.h"
#include "expr/registry.h"
#include "expr/series_list.h"

namespace sluice::expr {

// One element of a nodes list (aliasByNode, groupByNodes, asPercent): a path position (negative
// counts from the end) or a tag name.
struct NodeOrTag {
  bool is_node = false;
  int64_t node = 0;
  std::string tag;
};

// Reads node arguments as graphite's getNodeOrTag does: a whole number is a position, anything
// else (a string) a tag name.
NodeOrTag NodeFromValue(const Value& value);
std::vector<NodeOrTag> NodesFromValues(const std::vector<Value>& values);

// graphite's _getFirstPathExpression: the first path inside a series name that looks like a call
// ("scale(a.b.c,2)" -> "a.b.c"), descending into first arguments; nullopt when the first
// argument at some level is not a path or a call, or the name does not parse.
std::optional<std::string> FirstPathExpression(std::string_view name);

// graphite's aggKey(series, nodes): each node taken from the series' path (the first path
// expression when the name ends with ')'; tags after ';' ignored), or, for tag names and positions
// out of range, the series' tag value ("" when absent); joined with '.'.
std::string AggKey(const TimeSeries& series, const std::vector<NodeOrTag>& nodes);

// graphite's constantLine(value) over `range`: three points at start, start + step and
// start + 2 * step with step = half the range in whole seconds, named `name`. InvalidArgument
// when the range is shorter than 2 seconds (graphite divides by a zero step there).
Result<TimeSeries> ConstantLineSeries(const TimeRange& range, double value, std::string name);

}  // namespace sluice::expr
