// docs/expressions.md carries the function table generated from the registry, between the markers
// below. This test fails when they drift; SLUICE_UPDATE_DOCS=1 rewrites the table in place.
#include "expr/docs.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sluice::expr {
namespace {

constexpr std::string_view kBegin = "<!-- functions:begin (generated from the registry) -->\n";
constexpr std::string_view kEnd = "<!-- functions:end -->\n";

TEST(DocsTest, ExpressionsMdListsEveryRegisteredFunction) {
  const std::string path = std::string(SLUICE_DOCS_DIR) + "/expressions.md";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string doc = buffer.str();
  const size_t begin = doc.find(kBegin);
  const size_t end = doc.find(kEnd);
  ASSERT_NE(begin, std::string::npos) << "marker missing in " << path;
  ASSERT_NE(end, std::string::npos) << "marker missing in " << path;
  const std::string table = FunctionTableMarkdown(Registry::Default());
  const std::string current = doc.substr(begin + kBegin.size(), end - begin - kBegin.size());
  if (current == table) return;
  if (std::getenv("SLUICE_UPDATE_DOCS") != nullptr) {
    doc.replace(begin + kBegin.size(), end - begin - kBegin.size(), table);
    std::ofstream(path) << doc;
    return;
  }
  FAIL() << path << " is out of date with the function registry; run "
         << "SLUICE_UPDATE_DOCS=1 build/bin/expr_test --gtest_filter=DocsTest.*";
}

TEST(DocsTest, EveryFunctionIsDescribed) {
  for (const FunctionSpec* spec : Registry::Default().All()) {
    EXPECT_FALSE(spec->description.empty()) << spec->name;
    EXPECT_FALSE(spec->example.empty()) << spec->name;
    EXPECT_FALSE(spec->group.empty()) << spec->name;
  }
}

TEST(DocsTest, Signature) {
  FunctionSpec spec;
  spec.name = "movingAverage";
  spec.params = {{"seriesList", ArgType::kSeriesList, true},
                 {"windowSize", ArgType::kIntOrInterval, true},
                 {"xFilesFactor", ArgType::kFloat, false}};
  EXPECT_EQ(Signature(spec), "movingAverage(seriesList, windowSize, xFilesFactor=None)");
  spec.name = "sumSeries";
  spec.params = {{"seriesLists", ArgType::kSeriesLists, true, "", {}, true}};
  EXPECT_EQ(Signature(spec), "sumSeries(*seriesLists)");
}

}  // namespace
}  // namespace sluice::expr
