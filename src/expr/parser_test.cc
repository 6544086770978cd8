#include "expr/parser.h"

#include <string>

#include <gtest/gtest.h>

#include "expr/lexer.h"

namespace sluice {
namespace {

struct Case {
  const char* text;
  const char* dump;
};

// Valid targets and the canonical dump of their tree.
const Case kValid[] = {
    // Plain paths.
    {"upper_25", "path(upper_25)"},
    {"app.web-1.requests", "path(app.web-1.requests)"},
    {"app.*.requests", "path(app.*.requests)"},
    {"app.web?.cpu", "path(app.web?.cpu)"},
    {"app.web[0-9].cpu", "path(app.web[0-9].cpu)"},
    {"app.{a,b}.cpu", "path(app.{a,b}.cpu)"},
    {"app.{a,b,c}*.{x,y}", "path(app.{a,b,c}*.{x,y})"},
    {"a:b#c@d$e.f~g!h%i&j+k", "path(a:b#c@d$e.f~g!h%i&j+k)"},
    {"  app.cpu  ", "path(app.cpu)"},
    {"\tapp.cpu\n", "path(app.cpu)"},
    {"1", "path(1)"},
    {"-1.5", "path(-1.5)"},
    {"true", "path(true)"},
    {"None", "path(None)"},
    {"héllo.wörld", "path(héllo.wörld)"},
    // Grafana's regex-escaped template values stay in the path.
    {"prod\\.1.cpu", "path(prod\\.1.cpu)"},
    {"app.(a|b\\.c).cpu", "path(app.(a|b\\.c).cpu)"},
    {"(a|b).cpu", "path((a|b).cpu)"},
    {"app.(a|b)", "path(app.(a|b))"},
    {"web(1|2).cpu", "path(web(1|2).cpu)"},
    {"app.web-(1|2)", "path(app.web-(1|2))"},
    {"app.((a|b)|c).x", "path(app.((a|b)|c).x)"},
    {"sumSeries(app.(a|b).cpu)", "call(sumSeries, path(app.(a|b).cpu))"},
    {"sumSeries((a|b).cpu)", "call(sumSeries, path((a|b).cpu))"},
    {"sumSeries(a|b)", "call(sumSeries, path(a|b))"},
    {"sumSeries((a|b))", "call(sumSeries, path((a|b)))"},
    {"sumSeries(prod\\.1.*, x)", "call(sumSeries, path(prod\\.1.*), path(x))"},
    {"app.a\\,b.cpu", "path(app.a\\,b.cpu)"},
    {"app.{a\\}b,c}.cpu", "path(app.{a\\}b,c}.cpu)"},
    // Calls.
    {"sumSeries(app.*.requests)", "call(sumSeries, path(app.*.requests))"},
    {"f()", "call(f)"},
    {"f( )", "call(f)"},
    {"_private_1(a)", "call(_private_1, path(a))"},
    {"aliasByNode(movingAverage(sumSeries(app.*.requests), '5min'), 1)",
     "call(aliasByNode, call(movingAverage, call(sumSeries, path(app.*.requests)), str('5min')), "
     "num(1))"},
    {"sumSeries(app.{a,b}.cpu, x.y)", "call(sumSeries, path(app.{a,b}.cpu), path(x.y))"},
    {"group(a.{x,y}, {b,c}.d, e)", "call(group, path(a.{x,y}), path({b,c}.d), path(e))"},
    {"a(b(c(d(e(x.y)))))", "call(a, call(b, call(c, call(d, call(e, path(x.y))))))"},
    {"a(b(c(d(e(x.y, 1), 2), 3), 4), 5)",
     "call(a, call(b, call(c, call(d, call(e, path(x.y), num(1)), num(2)), num(3)), num(4)), "
     "num(5))"},
    {"  sumSeries (  a.b  ,\n\tc.d  )  ", "call(sumSeries, path(a.b), path(c.d))"},
    {"f(a)\n", "call(f, path(a))"},
    // Strings.
    {"alias(a, 'x')", "call(alias, path(a), str('x'))"},
    {"alias(a, \"x y\")", "call(alias, path(a), str('x y'))"},
    {"alias(a, '')", "call(alias, path(a), str(''))"},
    {"alias(a, 'it\\'s')", "call(alias, path(a), str('it\\\\\\'s'))"},  // kept raw
    {"alias(a, \"say \\\"hi\\\"\")", "call(alias, path(a), str('say \\\\\"hi\\\\\"'))"},
    {"alias(a, 'a\\\\b')", "call(alias, path(a), str('a\\\\\\\\b'))"},
    {"alias(a, 'a\\db')", "call(alias, path(a), str('a\\\\db'))"},
    {"alias(a, 'f(x, y) = z')", "call(alias, path(a), str('f(x, y) = z'))"},
    {"alias(a, '\"')", "call(alias, path(a), str('\"'))"},
    {"seriesByTag('name=cpu.usage', 'host=~web-.*')",
     "call(seriesByTag, str('name=cpu.usage'), str('host=~web-.*'))"},
    // Numbers.
    {"scale(a, 1.5)", "call(scale, path(a), num(1.5))"},
    {"scale(a, -1)", "call(scale, path(a), num(-1))"},
    {"scale(a, -0.25)", "call(scale, path(a), num(-0.25))"},
    {"scale(a, 1e3)", "call(scale, path(a), num(1000))"},
    {"scale(a, 2.5E-1)", "call(scale, path(a), num(0.25))"},
    {"scale(a, .5)", "call(scale, path(a), num(0.5))"},
    {"scale(a, 0)", "call(scale, path(a), num(0))"},
    {"f(5min)", "call(f, path(5min))"},
    {"f(1.2.3)", "call(f, path(1.2.3))"},
    {"f(1e)", "call(f, path(1e))"},
    {"f(-)", "call(f, path(-))"},
    // Booleans and None.
    {"f(true, false)", "call(f, bool(true), bool(false))"},
    {"f(True, FALSE, tRuE)", "call(f, bool(true), bool(false), bool(true))"},
    {"f(None)", "call(f, none)"},
    {"f(none, NONE)", "call(f, none, none)"},
    {"f(trueish, nonesuch)", "call(f, path(trueish), path(nonesuch))"},
    {"f(inf, INF, Inf)", "call(f, num(inf), num(inf), num(inf))"},
    {"f(-inf, infinity, inf.x)", "call(f, path(-inf), path(infinity), path(inf.x))"},
    {"inf", "path(inf)"},
    // Named arguments.
    {"f(a, key=1)", "call(f, path(a), key=num(1))"},
    {"f(key = 'v')", "call(f, key=str('v'))"},
    {"f(a, b=true, c=None, d=g(x), e=y.z)",
     "call(f, path(a), b=bool(true), c=none, d=call(g, path(x)), e=path(y.z))"},
    {"summarize(a.b, '1h', func='sum', alignToFrom=True)",
     "call(summarize, path(a.b), str('1h'), func=str('sum'), alignToFrom=bool(true))"},
    {"f(a,b)", "call(f, path(a), path(b))"},
    {"template(a.$env.cpu, env='prod')", "call(template, path(a.$env.cpu), env=str('prod'))"},
    // Pipes: `x|f(args)` is f(x, args).
    {"a|f(1)", "call(f, path(a), num(1))"},
    {"a.b.c|sumSeries()|scale(2)", "call(scale, call(sumSeries, path(a.b.c)), num(2))"},
    {"a.*|f(k=1)", "call(f, path(a.*), k=num(1))"},
    {"sumSeries(a,b)|aliasByNode(1)",
     "call(aliasByNode, call(sumSeries, path(a), path(b)), num(1))"},
    {"f(a|g(), b)", "call(f, call(g, path(a)), path(b))"},
    {"f(a|g()|h(1), b)", "call(f, call(h, call(g, path(a)), num(1)), path(b))"},
    {"f(g(a)|h())", "call(f, call(h, call(g, path(a))))"},
    {"f(x, k=a|g())", "call(f, path(x), k=call(g, path(a)))"},
    {"f(1|g())", "call(f, call(g, path(1)))"},
    {"f(true|g())", "call(f, call(g, path(true)))"},
    {"a | f() | g( 1 )", "call(g, call(f, path(a)), num(1))"},
    {"a\t|\n f (x)", "call(f, path(a), path(x))"},
    {"a |f()", "call(f, path(a))"},
    {"a| f()", "call(f, path(a))"},
    {"a.{b,c}|f()", "call(f, path(a.{b,c}))"},
    {"a\\|b|f()", "call(f, path(a\\|b))"},
    {"app.(a|b).cpu|sumSeries()", "call(sumSeries, path(app.(a|b).cpu))"},
    {"(a|b)|f()", "call(f, path((a|b)))"},
    {"web(1|2).cpu|f()", "call(f, path(web(1|2).cpu))"},
    {"sumSeries(a|b)|f()", "call(f, call(sumSeries, path(a|b)))"},
    {"sumSeries(app.(a|b).cpu)|aliasByNode(1)",
     "call(aliasByNode, call(sumSeries, path(app.(a|b).cpu)), num(1))"},
    {"a||b|f()", "call(f, path(a||b))"},
    // A '|' that no call follows stays in the path.
    {"a|b", "path(a|b)"},
    {"a|b|c", "path(a|b|c)"},
    {"a||b", "path(a||b)"},
    {"a|f", "path(a|f)"},
    {"a|f.g", "path(a|f.g)"},
    {"a|(b|c)", "path(a|(b|c))"},
    {"a|{b,c}", "path(a|{b,c})"},
    {"a|\\(x", "path(a|\\(x)"},
    {"((a|b)|c)", "path(((a|b)|c))"},
    {"app.(a|f(x)).cpu", "path(app.(a|f(x)).cpu)"},
    {"f(a|b, c)", "call(f, path(a|b), path(c))"},
    {"f((a|g(x)))", "call(f, path((a|g(x))))"},
};

TEST(ParserTest, ValidTargets) {
  for (const Case& c : kValid) {
    auto result = ParseExpression(c.text);
    ASSERT_TRUE(result.ok()) << c.text << ": " << result.status().ToString();
    EXPECT_EQ(DumpAst(**result), c.dump) << c.text;
  }
}

// Invalid targets and the exact message.
const Case kInvalid[] = {
    {"", "empty expression"},
    {"   \n\t ", "empty expression"},
    {"sumSeries(a.b,,c)", "unexpected ',' at column 15 in \"sumSeries(a.b,,c)\""},
    {"alias(a.b, 'abc", "unterminated string starting at column 12 in \"alias(a.b, 'abc\""},
    {"alias(a.b, \"abc\\\")", "unterminated string starting at column 12 in \"alias(a.b, \"abc\\\")\""},
    {"sumSeries(a.b", "expected ')' at column 14 in \"sumSeries(a.b\""},
    {"sumSeries(", "expected ')' at column 11 in \"sumSeries(\""},
    {"sumSeries(a.b,", "expected an argument at column 15 in \"sumSeries(a.b,\""},
    {"f(a,)", "unexpected ')' at column 5 in \"f(a,)\""},
    {"f(,a)", "unexpected ',' at column 3 in \"f(,a)\""},
    {"f(a b)", "unexpected 'b' at column 5 in \"f(a b)\""},
    {"f(a) x", "unexpected 'x' after end of expression at column 6 in \"f(a) x\""},
    {"f(a))", "unexpected ')' after end of expression at column 5 in \"f(a))\""},
    {"a.b c.d", "unexpected 'c.d' after end of expression at column 5 in \"a.b c.d\""},
    {"=", "unexpected '=' at column 1 in \"=\""},
    {"f(=1)", "unexpected '=' at column 3 in \"f(=1)\""},
    {"f(a=)", "unexpected ')' at column 5 in \"f(a=)\""},
    {"a=b", "unexpected '=' after end of expression at column 2 in \"a=b\""},
    {")", "unexpected ')' at column 1 in \")\""},
    {"(a)", "unexpected '(' at column 1 in \"(a)\""},
    {"'abc'", "expected a series path or function call at column 1 in \"'abc'\""},
    {"a.b(c)", "invalid function name 'a.b' at column 1 in \"a.b(c)\""},
    {"f(a.b=1)", "invalid argument name 'a.b' at column 3 in \"f(a.b=1)\""},
    {"f(k=1, x)", "positional argument after named argument at column 8 in \"f(k=1, x)\""},
    {"f(k=1, k=2)", "duplicate named argument 'k' at column 8 in \"f(k=1, k=2)\""},
    {"app.{a,b.cpu", "unterminated '{' starting at column 5 in \"app.{a,b.cpu\""},
    {"f(app.{a, b}.cpu)", "unexpected ' ' inside '{...}' at column 10 in \"f(app.{a, b}.cpu)\""},
    {"app.b}", "unexpected '}' at column 6 in \"app.b}\""},
    {"app.cpu\\", "dangling '\\' at column 8 in \"app.cpu\\\""},
    {"f(a\x01)", "unexpected '\\x01' at column 4 in \"f(a )\""},
    {"f(1e400)", "number '1e400' is out of range at column 3 in \"f(1e400)\""},
    {"f(g(x)(y))", "unexpected '(' at column 7 in \"f(g(x)(y))\""},
    // Pipes.
    {"a|", "expected a function call after '|' at column 3 in \"a|\""},
    {"a|b(", "expected ')' at column 5 in \"a|b(\""},
    {"a||f()", "expected a function call after '|' at column 3 in \"a||f()\""},
    {"|f()", "unexpected '|' at column 1 in \"|f()\""},
    {"|", "unexpected '|' at column 1 in \"|\""},
    {"f(|g())", "unexpected '|' at column 3 in \"f(|g())\""},
    {"f(a|)", "expected a function call after '|' at column 5 in \"f(a|)\""},
    {"f(a|, b)", "expected a function call after '|' at column 5 in \"f(a|, b)\""},
    {"a| b", "expected a function call after '|' at column 4 in \"a| b\""},
    {"a | b", "expected a function call after '|' at column 5 in \"a | b\""},
    {"a |b", "unexpected '|b' after end of expression at column 3 in \"a |b\""},
    {"a| 'x'", "expected a function call after '|' at column 4 in \"a| 'x'\""},
    {"a|f()|", "expected a function call after '|' at column 7 in \"a|f()|\""},
    {"f('x'|g())", "unexpected '|' at column 6 in \"f('x'|g())\""},
    {"a|f.g(x)", "invalid function name 'a|f.g' at column 1 in \"a|f.g(x)\""},
    {"a| f.g(x)", "invalid function name 'f.g' at column 4 in \"a| f.g(x)\""},
    {"a|1f(x)", "invalid function name 'a|1f' at column 1 in \"a|1f(x)\""},
    {"a|f(x", "expected ')' at column 6 in \"a|f(x\""},
    {"a|f(k=1, x)", "positional argument after named argument at column 10 in \"a|f(k=1, x)\""},
    // After '|', `name(` is always a call, even where it would otherwise be an alternation.
    {"a|web(1|2).cpu",
     "unexpected '.cpu' after end of expression at column 11 in \"a|web(1|2).cpu\""},
};

TEST(ParserTest, InvalidTargets) {
  for (const Case& c : kInvalid) {
    auto result = ParseExpression(c.text);
    ASSERT_FALSE(result.ok()) << c.text << " parsed as " << DumpAst(**result);
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_EQ(result.status().message(), c.dump) << c.text;
  }
}

std::string Nested(const std::string& name, int depth, const std::string& leaf) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += name + "(";
  text += leaf;
  text += std::string(depth, ')');
  return text;
}

TEST(ParserTest, DepthLimitIsInclusive) {
  auto ok = ParseExpression(Nested("f", 64, "x"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  std::string dump = "path(x)";
  for (int i = 0; i < 64; ++i) dump = "call(f, " + dump + ")";
  EXPECT_EQ(DumpAst(**ok), dump);

  auto deep = ParseExpression(Nested("f", 65, "x"));
  ASSERT_FALSE(deep.ok());
  // The 65th call's name starts at column 2*64+1.
  EXPECT_TRUE(deep.status().message().starts_with(
      "expression nests deeper than 64 calls at column 129 in \"...f(f(f("))
      << deep.status().message();
}

TEST(ParserTest, TenThousandNestedCallsFailCleanly) {
  auto result = ParseExpression(Nested("f", 10000, "x"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("nests deeper than 64 calls at column 129"),
            std::string::npos);
  // Long inputs are quoted as a window around the column, not in full.
  EXPECT_LT(result.status().message().size(), 200u);
}

TEST(ParserTest, TenThousandNestedParenthesesFailCleanly) {
  const std::string parens = std::string(10000, '(') + "a" + std::string(10000, ')');
  auto result = ParseExpression(parens);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().message().starts_with("unexpected '(' at column 1 in \"((("))
      << result.status().message();

  auto in_call = ParseExpression("f" + parens);
  ASSERT_FALSE(in_call.ok());
  EXPECT_TRUE(in_call.status().message().starts_with("unexpected '(' at column 3 in \"f(("))
      << in_call.status().message();

  // Alternation groups nest without recursion, so even deep ones are just a path.
  const std::string alternation = "app." + std::string(10000, '(') + "a|b" + std::string(10000, ')');
  auto path = ParseExpression(alternation);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ((*path)->kind, ExprKind::kPath);
  EXPECT_EQ((*path)->text, alternation);
}

std::string Chain(const std::string& leaf, int pipes, const std::string& call) {
  std::string text = leaf;
  for (int i = 0; i < pipes; ++i) text += "|" + call;
  return text;
}

TEST(ParserTest, PipedCallIsTheNestedCall) {
  auto piped = ParseExpression("a|f(1)");
  auto nested = ParseExpression("f(a, 1)");
  ASSERT_TRUE(piped.ok() && nested.ok());
  EXPECT_EQ(DumpAst(**piped), DumpAst(**nested));
  // Columns are those of the text as written.
  const Expr& call = **piped;
  EXPECT_EQ(call.column, 3);
  ASSERT_EQ(call.args.size(), 2u);
  EXPECT_EQ(call.args[0]->column, 1);
  EXPECT_EQ(call.args[1]->column, 5);

  auto chain = ParseExpression("sumSeries(a) | scale(2, k=x)");
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  EXPECT_EQ((*chain)->column, 16);
  EXPECT_EQ((*chain)->args[0]->column, 1);
  EXPECT_EQ((*chain)->args[0]->args[0]->column, 11);
  EXPECT_EQ((*chain)->args[1]->column, 22);
  EXPECT_EQ((*chain)->named_args[0].column, 25);
}

TEST(ParserTest, PipeChainsCountTowardDepth) {
  // Each pipe nests one level: 64 pipes are 64 nested calls, 65 are too many.
  auto ok = ParseExpression(Chain("x", 64, "f()"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(DumpAst(**ok), DumpAst(**ParseExpression(Nested("f", 64, "x"))));

  auto deep = ParseExpression(Chain("x", 65, "f()"));
  ASSERT_FALSE(deep.ok());
  // The 65th call's name follows "x", 64 "|f()" and a '|': column 1 + 4*64 + 2.
  EXPECT_TRUE(deep.status().message().starts_with(
      "expression nests deeper than 64 calls at column 259 in \"...)|f()|f()"))
      << deep.status().message();

  // A chain inside a call's arguments, and calls inside a piped call's arguments, nest too.
  ParseLimits limits;
  limits.max_depth = 2;
  EXPECT_TRUE(ParseExpression("f(x|g())", limits).ok());
  EXPECT_TRUE(ParseExpression("x|f(y|g())", limits).ok());
  EXPECT_TRUE(ParseExpression("f(x)|g(h(y))", limits).ok());
  auto result = ParseExpression("f(x|g()|h())", limits);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "expression nests deeper than 2 calls at column 9 in \"f(x|g()|h())\"");
  result = ParseExpression("f(g(x))|h()", limits);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "expression nests deeper than 2 calls at column 9 in \"f(g(x))|h()\"");
  EXPECT_TRUE(ParseExpression("x|f(y)|g(h(z))", limits).ok());  // g(f(x, y), h(z))
  result = ParseExpression("x|f(y)|g()|h()", limits);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "expression nests deeper than 2 calls at column 12 in \"x|f(y)|g()|h()\"");
}

TEST(ParserTest, LongPipeChainsFailCleanly) {
  // 13,000 pipes fit in 64 KiB; the depth limit stops the chain at the 65th.
  auto result = ParseExpression(Chain("x", 13000, "f()"));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("nests deeper than 64 calls at column 259"),
            std::string::npos)
      << result.status().message();

  // With the ceiling as the depth limit, the node limit is the one that stops a chain of paths.
  ParseLimits limits;
  limits.max_depth = kMaxParseDepthCeiling;
  limits.max_nodes = 100;
  result = ParseExpression(Chain("x", 200, "f(y)"), limits);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().message().starts_with("expression has more than 100 nodes"))
      << result.status().message();

  // Long runs of '|' that are not pipes are one path.
  const std::string bars = "a" + std::string(30000, '|') + "b";
  auto path = ParseExpression(bars);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ((*path)->text, bars);
}

TEST(ParserTest, CustomDepthLimit) {
  ParseLimits limits;
  limits.max_depth = 2;
  EXPECT_TRUE(ParseExpression("f(g(x))", limits).ok());
  auto result = ParseExpression("f(g(h(x)))", limits);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "expression nests deeper than 2 calls at column 5 in \"f(g(h(x)))\"");

  limits.max_depth = 0;
  EXPECT_TRUE(ParseExpression("a.b", limits).ok());
  EXPECT_FALSE(ParseExpression("f(a)", limits).ok());

  // Above the ceiling the ceiling applies.
  limits.max_depth = 1 << 30;
  EXPECT_TRUE(ParseExpression(Nested("f", kMaxParseDepthCeiling, "x"), limits).ok());
  EXPECT_FALSE(ParseExpression(Nested("f", kMaxParseDepthCeiling + 1, "x"), limits).ok());
}

TEST(ParserTest, SizeLimit) {
  const std::string big(64 * 1024, 'a');
  EXPECT_TRUE(ParseExpression(big).ok());
  auto result = ParseExpression(big + "a");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(result.status().message(),
            "expression is 65537 bytes long, more than the limit of 65536 bytes");
}

TEST(ParserTest, NodeLimit) {
  // sumSeries with 9,999 path arguments is 10,000 nodes; one more argument is too many.
  std::string text = "sumSeries(a";
  for (int i = 1; i < 9999; ++i) text += ",a";
  auto ok = ParseExpression(text + ")");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)->args.size(), 9999u);

  auto result = ParseExpression(text + ",a)");
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().message().starts_with(
      "expression has more than 10000 nodes at column 20009 in \"...a,a,a"))
      << result.status().message();
}

TEST(ParserTest, ColumnsAndFields) {
  auto result = ParseExpression("f(a.b, 'x', n=-2, flag=true, 3.5)");
  ASSERT_FALSE(result.ok());  // positional after named

  result = ParseExpression(" f( a.b, 'x',3.5, n=-2, flag=true)");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const Expr& call = **result;
  EXPECT_EQ(call.kind, ExprKind::kCall);
  EXPECT_EQ(call.text, "f");
  EXPECT_EQ(call.column, 2);
  ASSERT_EQ(call.args.size(), 3u);
  EXPECT_EQ(call.args[0]->kind, ExprKind::kPath);
  EXPECT_EQ(call.args[0]->column, 5);
  EXPECT_EQ(call.args[1]->kind, ExprKind::kString);
  EXPECT_EQ(call.args[1]->text, "x");
  EXPECT_EQ(call.args[1]->column, 10);
  EXPECT_EQ(call.args[2]->kind, ExprKind::kNumber);
  EXPECT_FALSE(call.args[2]->is_integer);
  EXPECT_EQ(call.args[2]->column, 14);
  ASSERT_EQ(call.named_args.size(), 2u);
  EXPECT_EQ(call.named_args[0].name, "n");
  EXPECT_EQ(call.named_args[0].column, 19);
  EXPECT_EQ(call.named_args[0].value->column, 21);
  EXPECT_TRUE(call.named_args[0].value->is_integer);
  EXPECT_EQ(call.named_args[0].value->number, -2);
  EXPECT_EQ(call.named_args[1].name, "flag");
  EXPECT_EQ(call.named_args[1].value->kind, ExprKind::kBool);
  EXPECT_TRUE(call.named_args[1].value->boolean);
}

// As graphite-web 1.1.8: the text between the quotes verbatim; a backslash only keeps the next
// character from ending the string.
TEST(ParserTest, StringsAreRaw) {
  auto result = ParseExpression("f('a\\tb\\nc\\\\d\\'e\\\"f')");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ((*result)->args[0]->text, "a\\tb\\nc\\\\d\\'e\\\"f");
  result = ParseExpression("aliasSub(a.b, '(\\w+)\\.b', '\\1')");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ((*result)->args[1]->text, "(\\w+)\\.b");
  EXPECT_EQ((*result)->args[2]->text, "\\1");
}

TEST(ParserTest, LongInputErrorShowsWindow) {
  const std::string text = "sumSeries(" + std::string(100, 'a') + ",," + std::string(100, 'b') + ")";
  auto result = ParseExpression(text);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "unexpected ',' at column 112 in \"..." + std::string(29, 'a') + ",," +
                std::string(29, 'b') + "...\"");
}

TEST(ParserTest, DumpOfHandBuiltDeepTreeDoesNotRecurse) {
  Expr root;
  root.kind = ExprKind::kCall;
  root.text = "f";
  Expr* node = &root;
  for (int i = 0; i < 100000; ++i) {
    auto child = std::make_unique<Expr>();
    child->kind = ExprKind::kCall;
    child->text = "f";
    Expr* next = child.get();
    node->args.push_back(std::move(child));
    node = next;
  }
  const std::string dump = DumpAst(root);
  // Each call is "call(f" + ")", and each of the 100,000 children adds ", ".
  EXPECT_EQ(dump.size(), 100001u * 7 + 100000u * 2);
  EXPECT_EQ(dump.substr(0, 20), "call(f, call(f, call");
  // Tear down iteratively: Expr's default destructor would recurse 100,000 deep.
  std::vector<std::unique_ptr<Expr>> pending = std::move(root.args);
  while (!pending.empty()) {
    std::unique_ptr<Expr> last = std::move(pending.back());
    pending.pop_back();
    for (auto& arg : last->args) pending.push_back(std::move(arg));
  }
}

}  // namespace
}  // namespace sluice
