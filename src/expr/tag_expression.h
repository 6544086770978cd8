// graphite's tag expressions ("tag=value", "tag!=value", "tag=~regex", "tag!=~regex"): the
// arguments of seriesByTag() and the `expr` parameters of graphite-web's /tags/* endpoints.
// Defined in expr/functions/special.cc, beside seriesByTag, so both read them the same way.
#pragma once

#include <string_view>

#include "common/status.h"
#include "series/tag_filter.h"

namespace sluice::expr {

// One tag expression as a TagFilter on the series' tags ("name" is the metric name). Regexes
// match at the start of the value, as graphite's re.match does. A series without the tag has
// the empty value for it. InvalidArgument naming the expression when it has no operator, an empty
// tag, a ';' or an invalid regex.
Result<TagFilter> ParseTagExpression(std::string_view text);

}  // namespace sluice::expr
