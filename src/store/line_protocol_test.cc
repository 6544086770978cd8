#include "store/line_protocol.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace sluice::store {
namespace {

constexpr int64_t kNowMs = 1'700'000'000'000;

// One point as text: `measurement [k=v ...] {key:type=value ...} @time_ms`; string values quoted
// with C escapes so that control characters are visible.
std::string Dump(const LinePoint& point) {
  std::string out = point.measurement + " [";
  for (size_t i = 0; i < point.tags.size(); ++i) {
    if (i > 0) out += ' ';
    out += point.tags[i].first + "=" + point.tags[i].second;
  }
  out += "] {";
  for (size_t i = 0; i < point.field_count; ++i) {
    const LineField& f = point.fields[i];
    if (i > 0) out += ' ';
    out += fmt::format("{}:{}=", f.key, FieldTypeName(f.type));
    switch (f.type) {
      case FieldType::kFloat:
        out += fmt::format("{}", f.number);
        break;
      case FieldType::kInteger:
        out += fmt::format("{}", f.integer);
        break;
      case FieldType::kUnsigned:
        out += fmt::format("{}", f.uinteger);
        break;
      case FieldType::kBoolean:
        out += f.number != 0 ? "true" : "false";
        break;
      case FieldType::kString:
        out += fmt::format("{:?}", f.text);
        break;
    }
  }
  out += fmt::format("}} @{}", point.time_ms);
  return out;
}

struct Parsed {
  std::vector<std::string> points;  // Dump() of each
  std::vector<size_t> lines;        // LinePoint::line of each
  std::vector<LineError> errors;
  size_t bad_lines = 0;
};

Parsed Parse(std::string_view body, Precision precision = Precision::kNanoseconds,
             size_t max_errors = 100) {
  Parsed parsed;
  parsed.bad_lines = 12345;
  ParseLineProtocol(
      body, precision, kNowMs,
      [&parsed](const LinePoint& point) {
        parsed.points.push_back(Dump(point));
        parsed.lines.push_back(point.line);
      },
      &parsed.errors, &parsed.bad_lines, max_errors);
  return parsed;
}

std::string ErrorsText(const Parsed& parsed) {
  std::string out;
  for (const LineError& e : parsed.errors) out += FormatLineError(e) + "\n";
  return out;
}

struct GoodCase {
  const char* name;
  std::string body;
  std::vector<std::string> want;
  Precision precision = Precision::kNanoseconds;
};

void CheckGood(const std::vector<GoodCase>& cases) {
  for (const GoodCase& c : cases) {
    SCOPED_TRACE(fmt::format("{}: {:?}", c.name, c.body));
    const Parsed parsed = Parse(c.body, c.precision);
    EXPECT_EQ(parsed.points, c.want);
    EXPECT_EQ(parsed.bad_lines, 0u) << ErrorsText(parsed);
    EXPECT_TRUE(parsed.errors.empty()) << ErrorsText(parsed);
  }
}

TEST(LineProtocolTest, Escaping) {
  CheckGood({
      {"plain", "cpu,host=a v=1 1000000", {"cpu [host=a] {v:float=1} @1"}},
      {"measurement comma and space",
       "cpu\\,01\\ x,host=a v=1 0",
       {"cpu,01 x [host=a] {v:float=1} @0"}},
      {"measurement keeps other backslashes",
       "a\\=b\\x\\\\y v=1 0",
       {"a\\=b\\x\\\\y [] {v:float=1} @0"}},
      {"measurement backslash before escaped comma", "a\\\\,b v=1 0", {"a\\,b [] {v:float=1} @0"}},
      {"measurement with '=' and quote", "a=b\"c v=1 0", {"a=b\"c [] {v:float=1} @0"}},
      {"measurement leading escaped space", "\\ cpu v=1 0", {" cpu [] {v:float=1} @0"}},
      {"tag escapes", "m,k\\,1\\=\\ x=v\\,2\\=\\ y f=1 0", {"m [k,1= x=v,2= y] {f:float=1} @0"}},
      {"tag literal backslashes",
       "m,path=C:\\\\dir\\x f=1 0",
       {"m [path=C:\\\\dir\\x] {f:float=1} @0"}},
      {"tag value escaped newline stays literal (Telegraf)",
       "m,k=a\\nb f=1 0",
       {"m [k=a\\nb] {f:float=1} @0"}},
      {"tag value with quote", "m,k=\"x\" f=1 0", {"m [k=\"x\"] {f:float=1} @0"}},
      {"tag UTF-8", "m,city=Zürich f=1 0", {"m [city=Zürich] {f:float=1} @0"}},
      {"field key escapes", "m f\\,1\\=\\ \\\"x=1 0", {"m [] {f,1= \"x:float=1} @0"}},
      {"field key raw quote", "m a\"b=1 0", {"m [] {a\"b:float=1} @0"}},
      {"field key literal backslash", "m a\\b=1 0", {"m [] {a\\b:float=1} @0"}},
      {"string escaped quote and backslash",
       "m s=\"a\\\"b\\\\c\" 0",
       {"m [] {s:string=\"a\\\"b\\\\c\"} @0"}},
      {"string other backslashes literal",
       "m s=\"a\\nb\\t\\x\" 0",
       {"m [] {s:string=\"a\\\\nb\\\\t\\\\x\"} @0"}},
      {"string separators inside",
       "m s=\"x, y=z w\",t=1 0",
       {"m [] {s:string=\"x, y=z w\" t:float=1} @0"}},
      {"string raw newline", "m s=\"line1\nline2\" 0", {"m [] {s:string=\"line1\\nline2\"} @0"}},
      {"string raw CRLF", "m s=\"a\r\nb\" 0", {"m [] {s:string=\"a\\r\\nb\"} @0"}},
      {"string empty", "m s=\"\" 0", {"m [] {s:string=\"\"} @0"}},
      {"string single backslash", "m s=\"\\\\\" 0", {"m [] {s:string=\"\\\\\"} @0"}},
      {"string backslash then quote",
       "m s=\"a\\\\\\\"b\" 0",
       {"m [] {s:string=\"a\\\\\\\"b\"} @0"}},
      {"string with '#'", "m s=\"#x\" 0", {"m [] {s:string=\"#x\"} @0"}},
      {"string UTF-8", "m s=\"日本\" 0", {"m [] {s:string=\"日本\"} @0"}},
  });
}

TEST(LineProtocolTest, FieldTypes) {
  CheckGood({
      {"floats",
       "m a=1,b=1.5,c=-1.5e3,d=1e+10,e=1E-2,f=.5,g=-.5,h=1.,i=0,j=-0,k=0.1,l=3.141592653589793 0",
       {"m [] {a:float=1 b:float=1.5 c:float=-1500 d:float=10000000000 e:float=0.01 f:float=0.5 "
        "g:float=-0.5 h:float=1 i:float=0 j:float=-0 k:float=0.1 l:float=3.141592653589793} @0"}},
      {"float limits",
       "m max=1.7976931348623157e308,min=5e-324,under=1e-400,nunder=-1e-400 0",
       {"m [] {max:float=1.7976931348623157e+308 min:float=5e-324 under:float=0 "
        "nunder:float=-0} @0"}},
      {"float slow path",
       "m a=123456789012345678901234,b=0.30000000000000004441,c=1e23 0",
       {"m [] {a:float=1.2345678901234569e+23 b:float=0.30000000000000004 c:float=1e+23} @0"}},
      {"float leading zeros",
       "m a=007.50,b=0000000000000000000000001 0",
       {"m [] {a:float=7.5 b:float=1} @0"}},
      {"integers",
       "m a=12i,b=-12i,c=0i,d=007i 0",
       {"m [] {a:integer=12 b:integer=-12 c:integer=0 d:integer=7} @0"}},
      {"integer limits",
       "m max=9223372036854775807i,min=-9223372036854775808i 0",
       {"m [] {max:integer=9223372036854775807 min:integer=-9223372036854775808} @0"}},
      {"unsigned",
       "m a=0u,b=12u,max=18446744073709551615u 0",
       {"m [] {a:unsigned=0 b:unsigned=12 max:unsigned=18446744073709551615} @0"}},
      {"booleans",
       "m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE 0",
       {"m [] {a:boolean=true b:boolean=true c:boolean=true d:boolean=true e:boolean=true "
        "f:boolean=false g:boolean=false h:boolean=false i:boolean=false j:boolean=false} @0"}},
      {"all types",
       "m f=1.5,i=2i,u=3u,b=t,s=\"x\" 0",
       {"m [] {f:float=1.5 i:integer=2 u:unsigned=3 b:boolean=true s:string=\"x\"} @0"}},
  });
}

TEST(LineProtocolTest, FieldValuesAsNumbers) {
  LinePoint got;
  ParseLineProtocol(
      "m i=-5i,u=18446744073709551615u,b=true,f=2.5,s=\"x\" 0", Precision::kNanoseconds, 0,
      [&got](const LinePoint& p) { got = p; }, nullptr, nullptr);
  ASSERT_EQ(got.field_count, 5u);
  auto fields = got.Fields();
  EXPECT_EQ(fields[0].integer, -5);
  EXPECT_EQ(fields[0].number, -5.0);
  EXPECT_EQ(fields[1].uinteger, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(fields[1].integer, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(fields[1].number, 18446744073709551615.0);
  EXPECT_EQ(fields[2].number, 1.0);
  EXPECT_EQ(fields[2].integer, 1);
  EXPECT_EQ(fields[3].number, 2.5);
  EXPECT_EQ(fields[3].text, "");
  EXPECT_EQ(fields[4].text, "x");
  EXPECT_EQ(fields[4].number, 0.0);
}

TEST(LineProtocolTest, Timestamps) {
  using P = Precision;
  CheckGood({
      {"ns", "m v=1 1700000000123456789", {"m [] {v:float=1} @1700000000123"}},
      {"ns below one ms", "m v=1 999999", {"m [] {v:float=1} @0"}},
      {"ns negative floors", "m v=1 -1", {"m [] {v:float=1} @-1"}},
      {"ns negative exact", "m v=1 -1000000", {"m [] {v:float=1} @-1"}},
      {"ns negative floors past", "m v=1 -1000001", {"m [] {v:float=1} @-2"}},
      {"ns int64 max", "m v=1 9223372036854775807", {"m [] {v:float=1} @9223372036854"}},
      {"ns int64 min", "m v=1 -9223372036854775808", {"m [] {v:float=1} @-9223372036855"}},
      {"us", "m v=1 1500", {"m [] {v:float=1} @1"}, P::kMicroseconds},
      {"us negative", "m v=1 -1500", {"m [] {v:float=1} @-2"}, P::kMicroseconds},
      {"us negative exact", "m v=1 -1000", {"m [] {v:float=1} @-1"}, P::kMicroseconds},
      {"ms", "m v=1 123", {"m [] {v:float=1} @123"}, P::kMilliseconds},
      {"ms negative", "m v=1 -123", {"m [] {v:float=1} @-123"}, P::kMilliseconds},
      {"ms int64 min",
       "m v=1 -9223372036854775808",
       {"m [] {v:float=1} @-9223372036854775808"},
       P::kMilliseconds},
      {"s", "m v=1 2", {"m [] {v:float=1} @2000"}, P::kSeconds},
      {"s negative", "m v=1 -2", {"m [] {v:float=1} @-2000"}, P::kSeconds},
      {"s largest",
       "m v=1 9223372036854775",
       {"m [] {v:float=1} @9223372036854775000"},
       P::kSeconds},
      {"m", "m v=1 1", {"m [] {v:float=1} @60000"}, P::kMinutes},
      {"m negative", "m v=1 -1", {"m [] {v:float=1} @-60000"}, P::kMinutes},
      {"h", "m v=1 1", {"m [] {v:float=1} @3600000"}, P::kHours},
      {"h negative", "m v=1 -1", {"m [] {v:float=1} @-3600000"}, P::kHours},
      {"leading zeros",
       "m v=1 0000000000000000000000005",
       {"m [] {v:float=1} @5"},
       P::kMilliseconds},
      {"missing uses now", "m v=1", {"m [] {v:float=1} @1700000000000"}},
      {"missing with trailing space uses now", "m v=1   ", {"m [] {v:float=1} @1700000000000"}},
  });
}

TEST(LineProtocolTest, LinesWhitespaceAndComments) {
  CheckGood({
      {"LF", "a v=1 1000000\nb v=2 2000000\n", {"a [] {v:float=1} @1", "b [] {v:float=2} @2"}},
      {"CRLF",
       "a v=1 1000000\r\nb v=2\r\nc s=\"x\"\r\n",
       {"a [] {v:float=1} @1", "b [] {v:float=2} @1700000000000",
        "c [] {s:string=\"x\"} @1700000000000"}},
      {"CR at end of body", "a v=1 1000000\r", {"a [] {v:float=1} @1"}},
      {"comments and blank lines",
       "# header\n\n   \n\t# indented\r\n\r\na v=1 0\n#x v=1 0\n",
       {"a [] {v:float=1} @0"}},
      {"leading and trailing blanks", "  \t a,t=1 v=1 0 \t \n", {"a [t=1] {v:float=1} @0"}},
      {"several spaces between sections", "a,t=1    v=1  \t  0", {"a [t=1] {v:float=1} @0"}},
      {"trailing tab after fields", "a v=1\t\n", {"a [] {v:float=1} @1700000000000"}},
      {"trailing space after string", "a s=\"x\" ", {"a [] {s:string=\"x\"} @1700000000000"}},
      {"no final newline", "a v=1 0", {"a [] {v:float=1} @0"}},
      {"empty body", "", {}},
      {"only blank lines", "\n\n \r\n\t\n", {}},
      {"tags sorted", "m,z=1,a=2,m=3 v=1 0", {"m [a=2 m=3 z=1] {v:float=1} @0"}},
      {"tags sorted by unescaped key",
       "m,b=1,a\\ z=2,a=3 v=1 0",
       {"m [a=3 a z=2 b=1] {v:float=1} @0"}},
      {"duplicate fields: last wins at first position",
       "m a=1,b=2,a=3 0",
       {"m [] {a:float=3 b:float=2} @0"}},
      {"duplicate field changes type",
       "m a=1i,b=t,a=\"x\",b=2u 0",
       {"m [] {a:string=\"x\" b:unsigned=2} @0"}},
      {"duplicate field after escaping", "m a\\ b=1,a\\ b=2 0", {"m [] {a b:float=2} @0"}},
  });
}

TEST(LineProtocolTest, LineNumbersOfPoints) {
  const Parsed parsed = Parse("# c\na v=1\n\nb s=\"x\ny\nz\"\r\nc v=1\n  d v=1");
  EXPECT_EQ(parsed.points.size(), 4u);
  EXPECT_EQ(parsed.lines, (std::vector<size_t>{2, 4, 7, 8}));
}

TEST(LineProtocolTest, ManyFieldsWithDuplicates) {
  std::string body = "m ";
  std::string want = "m [] {";
  for (int i = 0; i < 200; ++i) {
    body += fmt::format("{}f{}={}i", i ? "," : "", i % 150, i);
  }
  for (int i = 0; i < 150; ++i) {
    want += fmt::format("{}f{}:integer={}", i ? " " : "", i, i < 50 ? i + 150 : i);
  }
  want += "} @0";
  CheckGood({{"200 fields, 50 repeated", body + " 0", {want}}});
}

TEST(LineProtocolTest, ManyTagsUnsorted) {
  std::string body = "m";
  for (int i = 99; i >= 0; --i) {
    body += fmt::format(",t{:02}={}", i, i);
  }
  std::string want = "m [";
  for (int i = 0; i < 100; ++i) want += fmt::format("{}t{:02}={}", i ? " " : "", i, i);
  want += "] {v:float=1} @0";
  CheckGood({{"100 tags in reverse", body + " v=1 0", {want}}});
}

struct BadCase {
  std::string body;
  size_t line;
  size_t column;
  std::string message;
  Precision precision = Precision::kNanoseconds;
};

TEST(LineProtocolTest, Errors) {
  const std::vector<BadCase> cases = {
      {"cpu", 1, 4, "missing fields"},
      {"cpu\n", 1, 4, "missing fields"},
      {"cpu ", 1, 5, "missing fields"},
      {"cpu   \r\n", 1, 7, "missing fields"},
      {"cpu,host=a", 1, 11, "missing fields"},
      {"cpu,host=a \n", 1, 12, "missing fields"},
      {",host=a v=1", 1, 1, "missing measurement"},
      {"  ,host=a v=1", 1, 3, "missing measurement"},
      {"cpu,=a v=1", 1, 5, "missing tag key"},
      {"cpu, v=1", 1, 5, "missing tag key"},
      {"cpu,host v=1", 1, 9, "missing '=' after tag key \"host\""},
      {"cpu,host", 1, 9, "missing '=' after tag key \"host\""},
      {"cpu,host= v=1", 1, 10, "missing value for tag \"host\""},
      {"cpu,host=,a=b v=1", 1, 10, "missing value for tag \"host\""},
      {"cpu,host=a=b v=1", 1, 11, "unescaped '=' in value of tag \"host\" (write it as \\=)"},
      {"cpu,b=1,a=2,b=3 v=1", 1, 13, "duplicate tag key \"b\""},
      {"cpu,a\\ b=1,a\\ b=2 v=1", 1, 12, "duplicate tag key \"a\\\\ b\""},
      {"cpu =1", 1, 5, "missing field key"},
      {"cpu v=1,=2", 1, 9, "missing field key"},
      {"cpu v=1,", 1, 9, "missing field key"},
      {"cpu v=1,,w=2", 1, 9, "missing field key"},
      {"cpu value", 1, 10, "missing '=' after field key \"value\""},
      {"cpu value 1", 1, 10, "missing '=' after field key \"value\""},
      {"cpu v=1,w", 1, 10, "missing '=' after field key \"w\""},
      {"cpu value=", 1, 11, "missing value for field \"value\""},
      {"cpu value= 1", 1, 11, "missing value for field \"value\""},
      {"cpu value=,w=1", 1, 11, "missing value for field \"value\""},
      {"cpu v=1.2.3", 1, 7, "invalid field value \"1.2.3\" for field \"v\""},
      {"cpu v=1x", 1, 7, "invalid field value \"1x\" for field \"v\""},
      {"cpu v=--1", 1, 7, "invalid field value \"--1\" for field \"v\""},
      {"cpu v=-", 1, 7, "invalid field value \"-\" for field \"v\""},
      {"cpu v=.", 1, 7, "invalid field value \".\" for field \"v\""},
      {"cpu v=1e", 1, 7, "invalid field value \"1e\" for field \"v\""},
      {"cpu v=1e+", 1, 7, "invalid field value \"1e+\" for field \"v\""},
      {"cpu v=1.5i", 1, 7, "invalid field value \"1.5i\" for field \"v\""},
      {"cpu v=1e5i", 1, 7, "invalid field value \"1e5i\" for field \"v\""},
      {"cpu v=1ii", 1, 7, "invalid field value \"1ii\" for field \"v\""},
      {"cpu v=-1u", 1, 7, "invalid field value \"-1u\" for field \"v\""},
      {"cpu v=0x10", 1, 7, "invalid field value \"0x10\" for field \"v\""},
      {"cpu v=+1", 1, 7, "invalid field value \"+1\" for field \"v\""},
      {"cpu v=abc", 1, 7, "invalid field value \"abc\" for field \"v\""},
      {"cpu v=truee", 1, 7, "invalid field value \"truee\" for field \"v\""},
      {"cpu v=tRUE", 1, 7, "invalid field value \"tRUE\" for field \"v\""},
      {"cpu v=yes", 1, 7, "invalid field value \"yes\" for field \"v\""},
      {"cpu v=NaN", 1, 7,
       "invalid field value \"NaN\" for field \"v\": NaN and Inf are not supported"},
      {"cpu v=nan", 1, 7,
       "invalid field value \"nan\" for field \"v\": NaN and Inf are not supported"},
      {"cpu v=inf", 1, 7,
       "invalid field value \"inf\" for field \"v\": NaN and Inf are not supported"},
      {"cpu v=-Inf", 1, 7,
       "invalid field value \"-Inf\" for field \"v\": NaN and Inf are not supported"},
      {"cpu v=+Inf", 1, 7,
       "invalid field value \"+Inf\" for field \"v\": NaN and Inf are not supported"},
      {"cpu v=Infinity", 1, 7,
       "invalid field value \"Infinity\" for field \"v\": NaN and Inf are not supported"},
      {"cpu v=9223372036854775808i", 1, 7,
       "integer field value \"9223372036854775808i\" for field \"v\" is out of the int64 range"},
      {"cpu v=-9223372036854775809i", 1, 7,
       "integer field value \"-9223372036854775809i\" for field \"v\" is out of the int64 range"},
      {"cpu v=99999999999999999999999i", 1, 7,
       "integer field value \"99999999999999999999999i\" for field \"v\" is out of the int64 "
       "range"},
      {"cpu v=18446744073709551616u", 1, 7,
       "unsigned field value \"18446744073709551616u\" for field \"v\" is out of the uint64 "
       "range"},
      {"cpu v=1e309", 1, 7,
       "float field value \"1e309\" for field \"v\" is out of the float64 range"},
      {"cpu v=-.5e400", 1, 7,
       "float field value \"-.5e400\" for field \"v\" is out of the float64 range"},
      {"cpu s=\"abc", 1, 7, "unterminated string value for field \"s\""},
      {"cpu s=\"abc\\\"", 1, 7, "unterminated string value for field \"s\""},
      {"cpu s=\"abc\\", 1, 7, "unterminated string value for field \"s\""},
      {"cpu s=\"abc\"x", 1, 12, "unexpected \"x\" after the value of field \"s\""},
      {"cpu s=\"abc\"\"", 1, 12, "unexpected \"\\\"\" after the value of field \"s\""},
      {"cpu v=1\t2", 1, 9, "unexpected \"2\" after the value of field \"v\""},
      {"cpu v=t\r2", 1, 9, "unexpected \"2\" after the value of field \"v\""},
      {"cpu v=1 123abc", 1, 9, "invalid timestamp \"123abc\": expected an integer"},
      {"cpu v=1 12.5", 1, 9, "invalid timestamp \"12.5\": expected an integer"},
      {"cpu v=1 -", 1, 9, "invalid timestamp \"-\": expected an integer"},
      {"cpu v=1 x=2", 1, 9, "invalid timestamp \"x=2\": expected an integer"},
      {"cpu v=1 1,2", 1, 9, "invalid timestamp \"1,2\": expected an integer"},
      {"cpu v=1 123 abc", 1, 13, "unexpected \"abc\" after the timestamp"},
      {"cpu v=1 123 456 \r\n", 1, 13, "unexpected \"456\" after the timestamp"},
      {"cpu v=1 9223372036854775808", 1, 9, "timestamp \"9223372036854775808\" is out of range"},
      {"cpu v=1 -9223372036854775809", 1, 9, "timestamp \"-9223372036854775809\" is out of range"},
      {"cpu v=1 9223372036854775808", 1, 9, "timestamp \"9223372036854775808\" is out of range",
       Precision::kMilliseconds},
      {"cpu v=1 9223372036854776", 1, 9, "timestamp \"9223372036854776\" is out of range",
       Precision::kSeconds},
      {"cpu v=1 -9223372036854776", 1, 9, "timestamp \"-9223372036854776\" is out of range",
       Precision::kSeconds},
      {"cpu v=1 153722867280913", 1, 9, "timestamp \"153722867280913\" is out of range",
       Precision::kMinutes},
      {"cpu v=1 2562047788016", 1, 9, "timestamp \"2562047788016\" is out of range",
       Precision::kHours},
      // Positions on later lines, and after a multi-line string.
      {"\n\n# c\nmem v=\n", 4, 7, "missing value for field \"v\""},
      {"m s=\"a\nbc\" x=1.2.3\n", 2, 5, "invalid timestamp \"x=1.2.3\": expected an integer"},
      {"m s=\"a\nbc\",v=?\n", 2, 7, "invalid field value \"?\" for field \"v\""},
      {"\tcpu\tv=1", 1, 9, "missing fields"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(fmt::format("{:?}", c.body));
    const Parsed parsed = Parse(c.body, c.precision);
    EXPECT_TRUE(parsed.points.empty()) << parsed.points[0];
    EXPECT_EQ(parsed.bad_lines, 1u);
    ASSERT_EQ(parsed.errors.size(), 1u);
    const LineError& e = parsed.errors[0];
    EXPECT_EQ(e.message, c.message);
    EXPECT_EQ(e.line, c.line);
    EXPECT_EQ(e.column, c.column);
  }
}

TEST(LineProtocolTest, ErrorExcerpt) {
  const Parsed parsed = Parse("ok v=1\r\nbad v=x\r\nm s=\"a\nb\" 1 2\n");
  ASSERT_EQ(parsed.errors.size(), 2u);
  EXPECT_EQ(parsed.errors[0].excerpt, "bad v=x");
  EXPECT_EQ(FormatLineError(parsed.errors[0]),
            "line 2, column 7: invalid field value \"x\" for field \"v\" in \"bad v=x\"");
  EXPECT_EQ(parsed.errors[1].excerpt, "b\" 1 2");
  EXPECT_EQ(parsed.errors[1].line, 4u);
  EXPECT_EQ(parsed.errors[1].column, 6u);

  // Cut to 200 bytes, never inside a UTF-8 character ("é" is 2 bytes and straddles byte 200).
  const std::string long_line = "m v=x," + std::string(193, 'a') + "é" + std::string(100, 'b');
  const Parsed cut = Parse(long_line);
  ASSERT_EQ(cut.errors.size(), 1u);
  EXPECT_EQ(cut.errors[0].excerpt, long_line.substr(0, 199));
  EXPECT_EQ(cut.errors[0].column, 5u);

  // Long offending text is cut in the message too.
  const Parsed long_value = Parse("m v=" + std::string(100, 'z'));
  ASSERT_EQ(long_value.errors.size(), 1u);
  EXPECT_EQ(long_value.errors[0].message,
            "invalid field value \"" + std::string(64, 'z') + "\"… for field \"v\"");
}

TEST(LineProtocolTest, GoodAndBadLinesMixed) {
  const Parsed parsed = Parse(
      "cpu,host=a v=1 1000000\n"
      "cpu,host=b v= 2000000\n"
      "cpu,host=c v=3 3000000\n"
      "garbage\n"
      "cpu,host=d s=\"multi\nline\",v=4 4000000\n"
      "cpu,host=e v=5 5000000\n");
  EXPECT_EQ(parsed.points, (std::vector<std::string>{
                               "cpu [host=a] {v:float=1} @1",
                               "cpu [host=c] {v:float=3} @3",
                               "cpu [host=d] {s:string=\"multi\\nline\" v:float=4} @4",
                               "cpu [host=e] {v:float=5} @5",
                           }));
  EXPECT_EQ(parsed.lines, (std::vector<size_t>{1, 3, 5, 7}));
  EXPECT_EQ(parsed.bad_lines, 2u);
  ASSERT_EQ(parsed.errors.size(), 2u);
  EXPECT_EQ(parsed.errors[0].line, 2u);
  EXPECT_EQ(parsed.errors[0].column, 14u);
  EXPECT_EQ(parsed.errors[1].line, 4u);
  EXPECT_EQ(parsed.errors[1].column, 8u);
}

TEST(LineProtocolTest, RecoveryAfterBadLines) {
  struct Case {
    const char* name;
    std::string body;
    std::vector<size_t> good_lines;
    std::vector<size_t> error_lines;
  };
  const std::vector<Case> cases = {
      // The string never closes: the bad line ends at the first newline after its quote.
      {"unterminated string", "a s=\"abc\nb v=1\nc v=2\n", {2, 3}, {1}},
      {"unterminated string after escaped quote", "a s=\"abc\\\"\nb v=1\n", {2}, {1}},
      // The error comes before a multi-line string of the same line: the whole line is skipped.
      {"error before multi-line string", "a,t= s=\"x\ny\nz\" 1\nb v=1\n", {4}, {1}},
      {"error before string with escaped quote", "a v=?,s=\"x\\\"\ny\" 1\nb v=1\n", {3}, {1}},
      {"measurement error then string", ",t=1 s=\"x\ny\"\nb v=1\n", {3}, {1}},
      {"error in timestamp part has no string", "a v=1 1\"\nb s=\"x\" 1\n", {2}, {1}},
      {"bad value containing a quote", "a v=x\"y\nb v=1\n", {2}, {1}},
      {"every line bad", "a\nb\nc\n", {}, {1, 2, 3}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Parsed parsed = Parse(c.body);
    EXPECT_EQ(parsed.lines, c.good_lines);
    std::vector<size_t> error_lines;
    for (const LineError& e : parsed.errors) error_lines.push_back(e.line);
    EXPECT_EQ(error_lines, c.error_lines) << ErrorsText(parsed);
    EXPECT_EQ(parsed.bad_lines, c.error_lines.size());
  }
}

TEST(LineProtocolTest, MaxErrorsKeepsCountingBadLines) {
  const Parsed parsed = Parse("a\nb\nok v=1\nc\nd\ne\n", Precision::kNanoseconds, 2);
  EXPECT_EQ(parsed.points.size(), 1u);
  EXPECT_EQ(parsed.bad_lines, 5u);
  ASSERT_EQ(parsed.errors.size(), 2u);
  EXPECT_EQ(parsed.errors[0].line, 1u);
  EXPECT_EQ(parsed.errors[1].line, 2u);

  size_t bad = 0;
  size_t points = 0;
  ParseLineProtocol(
      "a\nok v=1\n", Precision::kNanoseconds, 0, [&points](const LinePoint&) { ++points; }, nullptr,
      &bad);
  EXPECT_EQ(points, 1u);
  EXPECT_EQ(bad, 1u);

  std::vector<LineError> errors(3);  // cleared first
  ParseLineProtocol(
      "ok v=1\n", Precision::kNanoseconds, 0, [](const LinePoint&) {}, &errors, nullptr);
  EXPECT_TRUE(errors.empty());
}

TEST(LineProtocolTest, PullParserReusesThePoint) {
  LineParser parser("cpu,a=1,b=2,c=3 x=1,y=2,z=3 0\nm,k=v s=\"t\" 0\nbad\nn v=1 0\n",
                    Precision::kNanoseconds, 0);
  LinePoint point;
  LineError error;
  ASSERT_EQ(parser.Next(&point, &error), LineParser::Step::kPoint);
  EXPECT_EQ(point.tags.size(), 3u);
  EXPECT_EQ(point.field_count, 3u);
  ASSERT_EQ(parser.Next(&point, &error), LineParser::Step::kPoint);
  EXPECT_EQ(Dump(point), "m [k=v] {s:string=\"t\"} @0");
  EXPECT_EQ(point.line, 2u);
  EXPECT_GE(point.fields.size(), 3u);  // spare capacity kept
  ASSERT_EQ(parser.Next(&point, nullptr), LineParser::Step::kBadLine);
  ASSERT_EQ(parser.Next(&point, &error), LineParser::Step::kPoint);
  EXPECT_EQ(Dump(point), "n [] {v:float=1} @0");
  EXPECT_EQ(point.line, 4u);
  EXPECT_EQ(parser.Next(&point, &error), LineParser::Step::kEnd);
  EXPECT_EQ(parser.Next(&point, &error), LineParser::Step::kEnd);
}

TEST(LineProtocolTest, SameShapedLinesReuseTheStrings) {
  // Names longer than the small-string buffer live on the heap; a second line of the same shape
  // must be written into the same buffers.
  const std::string line =
      "measurement_with_long_name,tag_key_that_is_long=tag_value_that_is_long "
      "field_key_that_is_long=\"string value that is long\" 0\n";
  const std::string body = line + line;
  LineParser parser(body, Precision::kNanoseconds, 0);
  LinePoint point;
  ASSERT_EQ(parser.Next(&point, nullptr), LineParser::Step::kPoint);
  const std::vector<const char*> first = {point.measurement.data(), point.tags[0].first.data(),
                                          point.tags[0].second.data(), point.fields[0].key.data(),
                                          point.fields[0].text.data()};
  ASSERT_EQ(parser.Next(&point, nullptr), LineParser::Step::kPoint);
  const std::vector<const char*> second = {point.measurement.data(), point.tags[0].first.data(),
                                           point.tags[0].second.data(), point.fields[0].key.data(),
                                           point.fields[0].text.data()};
  EXPECT_EQ(first, second);
}

TEST(LineProtocolTest, NeverReadsPastTheBody) {
  // The body is a prefix of a longer buffer whose next bytes would complete the line.
  const std::string buffer = "cpu v=1 123456 more";
  for (size_t n = 0; n <= buffer.size(); ++n) {
    const Parsed parsed = Parse(std::string_view(buffer).substr(0, n), Precision::kMilliseconds);
    if (n == 13) {
      EXPECT_EQ(parsed.points, (std::vector<std::string>{"cpu [] {v:float=1} @12345"}));
    }
  }
  const std::string quoted = "m s=\"ab\" 1";
  const Parsed cut = Parse(std::string_view(quoted).substr(0, 7));
  EXPECT_EQ(cut.bad_lines, 1u);
}

TEST(LineProtocolTest, ParsePrecision) {
  const std::vector<std::pair<std::string, Precision>> cases = {
      {"", Precision::kNanoseconds},
      {"n", Precision::kNanoseconds},
      {"ns", Precision::kNanoseconds},
      {"u", Precision::kMicroseconds},
      {"us", Precision::kMicroseconds},
      {"\xC2\xB5", Precision::kMicroseconds},
      {"\xCE\xBC", Precision::kMicroseconds},
      {"ms", Precision::kMilliseconds},
      {"s", Precision::kSeconds},
      {"m", Precision::kMinutes},
      {"h", Precision::kHours},
  };
  for (const auto& [text, want] : cases) {
    auto got = ParsePrecision(text);
    ASSERT_TRUE(got.ok()) << text;
    EXPECT_EQ(*got, want) << text;
  }
  for (const char* bad : {"x", "S", "sec", "d", "nss", " s"}) {
    auto got = ParsePrecision(bad);
    ASSERT_FALSE(got.ok()) << bad;
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(got.status().message().find(fmt::format("\"{}\"", bad)), std::string::npos)
        << got.status().message();
  }
}

TEST(LineProtocolTest, FieldTypeNames) {
  EXPECT_EQ(FieldTypeName(FieldType::kFloat), "float");
  EXPECT_EQ(FieldTypeName(FieldType::kInteger), "integer");
  EXPECT_EQ(FieldTypeName(FieldType::kUnsigned), "unsigned");
  EXPECT_EQ(FieldTypeName(FieldType::kBoolean), "boolean");
  EXPECT_EQ(FieldTypeName(FieldType::kString), "string");
}

// Random points, written with an escaping serializer written here independently of the library,
// must parse back to themselves.
class RandomPoints {
 public:
  explicit RandomPoints(uint64_t seed) : rng_(seed) {}

  // A name that line protocol can carry: not empty, no newline, no trailing backslash.
  std::string Name() {
    static constexpr std::string_view kAlphabet = "abcXYZ09_-.:/ ,=\"\\\t#éü日";
    std::string s;
    const int n = Uniform(1, 12);
    for (int i = 0; i < n; ++i) {
      const size_t k = static_cast<size_t>(Uniform(0, static_cast<int>(kAlphabet.size()) - 1));
      s += kAlphabet[k];
    }
    // Multi-byte characters may have been split: that is fine for the parser (bytes are bytes).
    while (!s.empty() && s.back() == '\\') s.pop_back();
    if (s.empty()) s = "n";
    return s;
  }

  std::string StringValue() {
    static constexpr std::string_view kAlphabet = "ab \",=\\\n\r\t#é";
    std::string s;
    const int n = Uniform(0, 20);
    for (int i = 0; i < n; ++i) {
      s += kAlphabet[static_cast<size_t>(Uniform(0, static_cast<int>(kAlphabet.size()) - 1))];
    }
    return s;
  }

  LinePoint Point() {
    LinePoint p;
    // A line starting with '#' is a comment, and blanks before a line or before the fields are
    // skipped, so neither the measurement nor the first field key may start with one.
    do {
      p.measurement = Name();
    } while (p.measurement[0] == '#' || p.measurement[0] == '\t');
    const int tags = Uniform(0, 4);
    for (int i = 0; i < tags; ++i) p.tags.emplace_back(Name() + std::to_string(i), Name());
    std::sort(p.tags.begin(), p.tags.end());
    const int fields = Uniform(1, 6);
    for (int i = 0; i < fields; ++i) {
      LineField f;
      do {
        f.key = Name() + std::to_string(i);
      } while (i == 0 && f.key[0] == '\t');
      switch (Uniform(0, 4)) {
        case 0: {
          f.type = FieldType::kFloat;
          const int kind = Uniform(0, 3);
          if (kind == 0) {
            f.number = Uniform(-1000, 1000) / 8.0;
          } else if (kind == 1) {
            std::uniform_real_distribution<double> d(-1e6, 1e6);
            f.number = d(rng_);
          } else {
            uint64_t bits = rng_();
            std::memcpy(&f.number, &bits, sizeof bits);
            if (!std::isfinite(f.number)) f.number = 0.5;
          }
          break;
        }
        case 1: {
          f.type = FieldType::kInteger;
          const int64_t edges[] = {std::numeric_limits<int64_t>::min(), -1, 0,
                                   std::numeric_limits<int64_t>::max()};
          f.integer = Uniform(0, 1) ? static_cast<int64_t>(rng_()) : edges[Uniform(0, 3)];
          break;
        }
        case 2:
          f.type = FieldType::kUnsigned;
          f.uinteger = Uniform(0, 1) ? rng_() : std::numeric_limits<uint64_t>::max();
          break;
        case 3:
          f.type = FieldType::kBoolean;
          f.number = Uniform(0, 1);
          break;
        default:
          f.type = FieldType::kString;
          f.text = StringValue();
          break;
      }
      p.fields.push_back(f);
    }
    p.field_count = p.fields.size();
    p.time_ms = static_cast<int64_t>(rng_()) / 1'000'000;  // fits int64 in ns
    return p;
  }

  static void AppendEscaped(std::string_view s, std::string_view special, std::string* out) {
    for (char c : s) {
      if (special.find(c) != std::string_view::npos) out->push_back('\\');
      out->push_back(c);
    }
  }

  // Writes `p` with varied but valid spellings: boolean forms, spaces, CRLF.
  std::string Serialize(const LinePoint& p) {
    std::string out;
    if (Uniform(0, 3) == 0) out += " ";
    AppendEscaped(p.measurement, ", ", &out);
    for (const auto& [k, v] : p.tags) {
      out += ',';
      AppendEscaped(k, ", =", &out);
      out += '=';
      AppendEscaped(v, ", =", &out);
    }
    out += Uniform(0, 3) == 0 ? "  " : " ";
    for (size_t i = 0; i < p.field_count; ++i) {
      const LineField& f = p.fields[i];
      if (i > 0) out += ',';
      AppendEscaped(f.key, ", =\"", &out);
      out += '=';
      switch (f.type) {
        case FieldType::kFloat:
          out += fmt::format("{}", f.number);
          break;
        case FieldType::kInteger:
          out += fmt::format("{}i", f.integer);
          break;
        case FieldType::kUnsigned:
          out += fmt::format("{}u", f.uinteger);
          break;
        case FieldType::kBoolean: {
          static constexpr const char* kTrue[] = {"t", "T", "true", "True", "TRUE"};
          static constexpr const char* kFalse[] = {"f", "F", "false", "False", "FALSE"};
          out += (f.number != 0 ? kTrue : kFalse)[Uniform(0, 4)];
          break;
        }
        case FieldType::kString:
          out += '"';
          AppendEscaped(f.text, "\"\\", &out);
          out += '"';
          break;
      }
    }
    out += fmt::format(" {}", p.time_ms * 1'000'000);
    out += Uniform(0, 3) == 0 ? "\r\n" : "\n";
    return out;
  }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  std::mt19937_64 rng_;
};

// The points with only the fields a type defines, for comparison.
std::string Canonical(const LinePoint& p) {
  LinePoint copy = p;
  for (LineField& f : copy.fields) {
    if (f.type == FieldType::kInteger) f.number = static_cast<double>(f.integer);
    if (f.type == FieldType::kUnsigned) f.number = static_cast<double>(f.uinteger);
  }
  std::string out = Dump(copy);
  for (size_t i = 0; i < p.field_count; ++i) {
    if (p.fields[i].type == FieldType::kFloat) {
      uint64_t bits;
      std::memcpy(&bits, &p.fields[i].number, sizeof bits);
      out += fmt::format(" {:x}", bits);
    }
  }
  return out;
}

TEST(LineProtocolTest, RandomRoundTrip) {
  RandomPoints random(20240611);
  for (int round = 0; round < 200; ++round) {
    std::vector<LinePoint> want;
    std::string body;
    for (int i = 0; i < 25; ++i) {
      want.push_back(random.Point());
      body += random.Serialize(want.back());
    }
    std::vector<std::string> got;
    std::vector<LineError> errors;
    size_t bad = 0;
    ParseLineProtocol(
        body, Precision::kNanoseconds, kNowMs,
        [&got](const LinePoint& p) { got.push_back(Canonical(p)); }, &errors, &bad);
    ASSERT_EQ(bad, 0u) << FormatLineError(errors[0]) << "\nbody:\n" << body;
    ASSERT_EQ(got.size(), want.size()) << body;
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(got[i], Canonical(want[i])) << "body:\n" << body;
    }

    // The library's own writer gives a body that parses to the same points too.
    std::string written;
    for (const LinePoint& p : want) AppendLineProtocol(p, &written);
    std::vector<std::string> again;
    ParseLineProtocol(
        written, Precision::kMilliseconds, kNowMs,
        [&again](const LinePoint& p) { again.push_back(Canonical(p)); }, &errors, &bad);
    ASSERT_EQ(bad, 0u) << FormatLineError(errors[0]) << "\nbody:\n" << written;
    ASSERT_EQ(again, got) << written;
  }
}

}  // namespace
}  // namespace sluice::store
