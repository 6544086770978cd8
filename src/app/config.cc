#include "app/config.h"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <toml.hpp>

#include "common/time.h"

namespace sluice {
namespace {

using Table = toml::value::table_type;

Result<std::string> ExpandEnv(const std::string& text, const std::string& where) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      size_t end = text.find('}', i + 2);
      if (end == std::string::npos) return InvalidArgument("{}: unterminated \"${{\"", where);
      std::string name = text.substr(i + 2, end - i - 2);
      const char* value = std::getenv(name.c_str());
      if (value == nullptr) {
        return InvalidArgument("{}: environment variable {} is not set", where, name);
      }
      out += value;
      i = end;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// Reads typed keys out of one TOML table and rejects keys nobody asked for.
class Section {
 public:
  Section(const toml::value* table, std::string name) : table_(table), name_(std::move(name)) {}

  Status String(const char* key, std::string* out) {
    const toml::value* v = Find(key);
    if (!v) return Status::OK();
    if (!v->is_string()) return Wrong(key, "a string");
    SLUICE_ASSIGN_OR_RETURN(*out, ExpandEnv(v->as_string().str, Where(key)));
    return Status::OK();
  }
  template <typename Int>
  Status Integer(const char* key, Int* out, int64_t min, int64_t max) {
    const toml::value* v = Find(key);
    if (!v) return Status::OK();
    if (!v->is_integer()) return Wrong(key, "an integer");
    int64_t x = v->as_integer();
    if (x < min || x > max) {
      return InvalidArgument("{}: {} is out of range [{}, {}]", Where(key), x, min, max);
    }
    *out = static_cast<Int>(x);
    return Status::OK();
  }
  Status Bool(const char* key, bool* out) {
    const toml::value* v = Find(key);
    if (!v) return Status::OK();
    if (!v->is_boolean()) return Wrong(key, "true or false");
    *out = v->as_boolean();
    return Status::OK();
  }
  template <typename Int>
  Status Bytes(const char* key, Int* out) {
    const toml::value* v = Find(key);
    if (!v) return Status::OK();
    uint64_t bytes;
    if (v->is_integer() && v->as_integer() > 0) {
      bytes = static_cast<uint64_t>(v->as_integer());
    } else if (v->is_string()) {
      auto parsed = ParseByteSize(v->as_string().str);
      if (!parsed.ok()) return parsed.status().Annotate(Where(key));
      bytes = *parsed;
    } else {
      return Wrong(key, "a size such as \"8MiB\" or a positive integer");
    }
    *out = static_cast<Int>(bytes);
    return Status::OK();
  }
  Status DurationMs(const char* key, int64_t* out) {
    const toml::value* v = Find(key);
    if (!v) return Status::OK();
    if (!v->is_string()) return Wrong(key, "a duration such as \"6h\"");
    auto parsed = ParseDurationMs(v->as_string().str);
    if (!parsed.ok()) return parsed.status().Annotate(Where(key));
    *out = *parsed;
    return Status::OK();
  }
  Status StringList(const char* key, std::vector<std::string>* out) {
    const toml::value* v = Find(key);
    if (!v) return Status::OK();
    if (!v->is_array()) return Wrong(key, "an array of strings");
    out->clear();
    for (const auto& e : v->as_array()) {
      if (!e.is_string()) return Wrong(key, "an array of strings");
      SLUICE_ASSIGN_OR_RETURN(auto s, ExpandEnv(e.as_string().str, Where(key)));
      out->push_back(std::move(s));
    }
    return Status::OK();
  }
  const toml::value* Find(const char* key) {
    seen_.insert(key);
    if (!table_) return nullptr;
    const auto& t = table_->as_table();
    auto it = t.find(key);
    return it == t.end() ? nullptr : &it->second;
  }
  // Fails on the first key that no accessor asked for.
  Status Finish() const {
    if (!table_) return Status::OK();
    for (const auto& [k, v] : table_->as_table()) {
      if (!seen_.count(k)) return InvalidArgument("unknown key \"{}\" in [{}]", k, name_);
    }
    return Status::OK();
  }
  std::string Where(const char* key) const { return name_ + "." + key; }

 private:
  Status Wrong(const char* key, const char* expected) const {
    return InvalidArgument("{}: expected {}", Where(key), expected);
  }
  const toml::value* table_;
  std::string name_;
  std::set<std::string> seen_;
};

// [[sources]] and their [[sources.targets]] (docs/sources.md). Only types and required keys are
// checked here; patterns and SQL macros are compiled when the server builds the sources.
Status ApplySources(const toml::value& sources, Config* c) {
  if (!sources.is_array()) return InvalidArgument("sources: expected [[sources]] tables");
  static const std::map<std::string, std::set<std::string>> kKeys = {
      {"postgresql",
       {"name", "kind", "connection", "pool_size", "connect_timeout_ms", "statement_timeout_ms",
        "targets"}},
      {"sqlite",
       {"name", "kind", "path", "pool_size", "statement_timeout_ms", "busy_timeout_ms",
        "time_format", "targets"}},
      {"csv", {"name", "kind", "path", "time_column", "name_prefix", "label_columns"}},
  };
  for (const auto& entry : sources.as_array()) {
    sql::SourceConfig sc;
    sc.where = fmt::format("sources[{}]", c->sources.size());
    if (!entry.is_table()) return InvalidArgument("{}: expected a table", sc.where);
    Section s(&entry, sc.where);
    SLUICE_RETURN_IF_ERROR(s.String("name", &sc.name));
    SLUICE_RETURN_IF_ERROR(s.String("kind", &sc.kind));
    if (sc.name.empty()) return InvalidArgument("{}.name: required", sc.where);
    for (const auto& other : c->sources) {
      if (other.name == sc.name) {
        return InvalidArgument("{}.name: \"{}\" is already the name of {}", sc.where, sc.name,
                               other.where);
      }
    }
    auto keys = kKeys.find(sc.kind);
    if (keys == kKeys.end()) {
      return InvalidArgument("{}.kind: expected \"postgresql\", \"sqlite\" or \"csv\", got \"{}\"",
                             sc.where, sc.kind);
    }
    for (const auto& [k, v] : entry.as_table()) {
      if (!keys->second.count(k) && s.Find(k.c_str()) != nullptr) {
        return InvalidArgument("{}.{}: not a key of {} sources", sc.where, k, sc.kind);
      }
    }
    SLUICE_RETURN_IF_ERROR(s.String("connection", &sc.connection));
    SLUICE_RETURN_IF_ERROR(s.String("path", &sc.path));
    if (sc.kind == "postgresql" && sc.connection.empty()) {
      return InvalidArgument("{}.connection: required for a postgresql source", sc.where);
    }
    if (sc.kind != "postgresql" && sc.path.empty()) {
      return InvalidArgument("{}.path: required for a {} source", sc.where, sc.kind);
    }
    SLUICE_RETURN_IF_ERROR(s.Integer("pool_size", &sc.pool_size, 1, 1024));
    SLUICE_RETURN_IF_ERROR(
        s.Integer("connect_timeout_ms", &sc.connect_timeout_ms, 1, 3'600'000));
    SLUICE_RETURN_IF_ERROR(
        s.Integer("statement_timeout_ms", &sc.statement_timeout_ms, 1, 86'400'000));
    SLUICE_RETURN_IF_ERROR(s.Integer("busy_timeout_ms", &sc.busy_timeout_ms, 0, 3'600'000));
    SLUICE_RETURN_IF_ERROR(s.String("time_format", &sc.time_format));
    SLUICE_RETURN_IF_ERROR(s.String("time_column", &sc.time_column));
    if (s.Find("name_prefix") != nullptr) {
      std::string prefix;
      SLUICE_RETURN_IF_ERROR(s.String("name_prefix", &prefix));
      sc.name_prefix = prefix;
    }
    SLUICE_RETURN_IF_ERROR(s.StringList("label_columns", &sc.label_columns));

    if (const toml::value* targets = s.Find("targets")) {
      if (!targets->is_array()) {
        return InvalidArgument("{}.targets: expected [[sources.targets]] tables", sc.where);
      }
      for (const auto& target : targets->as_array()) {
        sql::TargetConfig tc;
        tc.where = fmt::format("{}.targets[{}]", sc.where, sc.targets.size());
        if (!target.is_table()) return InvalidArgument("{}: expected a table", tc.where);
        Section t(&target, tc.where);
        SLUICE_RETURN_IF_ERROR(t.String("name", &tc.name));
        SLUICE_RETURN_IF_ERROR(t.String("pattern", &tc.pattern));
        std::string type = "timeseries";
        SLUICE_RETURN_IF_ERROR(t.String("type", &type));
        auto parsed = sql::ParseTargetType(type);
        if (!parsed.ok()) return parsed.status().Annotate(t.Where("type"));
        tc.type = *parsed;
        SLUICE_RETURN_IF_ERROR(t.String("sql", &tc.sql));
        if (tc.sql.empty()) return InvalidArgument("{}: required", t.Where("sql"));
        if (const toml::value* columns = t.Find("filter_columns")) {
          if (!columns->is_table()) {
            return InvalidArgument("{}: expected a table such as {{ region = \"o.region\" }}",
                                   t.Where("filter_columns"));
          }
          Section fc(columns, t.Where("filter_columns"));
          for (const auto& [key, value] : columns->as_table()) {
            std::string column;
            SLUICE_RETURN_IF_ERROR(fc.String(key.c_str(), &column));
            if (column.empty()) return InvalidArgument("{}: empty column", fc.Where(key.c_str()));
            tc.filter_columns[key] = column;
          }
        }
        SLUICE_RETURN_IF_ERROR(t.StringList("examples", &tc.examples));
        SLUICE_RETURN_IF_ERROR(t.Finish());
        sc.targets.push_back(std::move(tc));
      }
    }
    if (sc.kind != "csv" && sc.targets.empty()) {
      return InvalidArgument("{}: a {} source needs at least one [[sources.targets]]", sc.where,
                             sc.kind);
    }
    SLUICE_RETURN_IF_ERROR(s.Finish());
    c->sources.push_back(std::move(sc));
  }
  return Status::OK();
}

Status Apply(const toml::value& root, Config* c) {
  static const std::set<std::string> kSections = {"http", "auth", "cors", "query", "log", "data",
                                                  "store", "sources"};
  for (const auto& [k, v] : root.as_table()) {
    if (!kSections.count(k)) return InvalidArgument("unknown section [{}]", k);
    if (k == "sources") {
      SLUICE_RETURN_IF_ERROR(ApplySources(v, c));
      continue;
    }
    if (!v.is_table()) return InvalidArgument("[{}] must be a table", k);
  }
  auto section = [&](const char* name) {
    const auto& t = root.as_table();
    auto it = t.find(name);
    return Section(it == t.end() ? nullptr : &it->second, name);
  };

  Section http = section("http");
  auto& h = c->http;
  SLUICE_RETURN_IF_ERROR(http.String("listen", &h.listen));
  SLUICE_RETURN_IF_ERROR(http.String("base_path", &c->base_path));
  SLUICE_RETURN_IF_ERROR(http.Integer("io_threads", &h.io_threads, 0, 256));
  SLUICE_RETURN_IF_ERROR(http.Integer("worker_threads", &h.worker_threads, 0, 1024));
  SLUICE_RETURN_IF_ERROR(http.Bytes("body_limit", &h.body_limit_bytes));
  SLUICE_RETURN_IF_ERROR(http.Bytes("header_limit", &h.header_limit_bytes));
  SLUICE_RETURN_IF_ERROR(http.Integer("header_timeout_ms", &h.header_timeout_ms, 1, 3'600'000));
  SLUICE_RETURN_IF_ERROR(http.Integer("read_timeout_ms", &h.read_timeout_ms, 1, 3'600'000));
  SLUICE_RETURN_IF_ERROR(http.Integer("idle_timeout_ms", &h.idle_timeout_ms, 1, 86'400'000));
  SLUICE_RETURN_IF_ERROR(http.Integer("write_timeout_ms", &h.write_timeout_ms, 1, 3'600'000));
  SLUICE_RETURN_IF_ERROR(http.Integer("drain_timeout_ms", &h.drain_timeout_ms, 0, 3'600'000));
  SLUICE_RETURN_IF_ERROR(http.Bytes("gzip_min_bytes", &h.gzip_min_bytes));
  SLUICE_RETURN_IF_ERROR(http.Integer("gzip_level", &h.gzip_level, 1, 9));
  SLUICE_RETURN_IF_ERROR(http.Bool("access_log", &h.access_log));
  SLUICE_RETURN_IF_ERROR(http.Finish());

  Section auth = section("auth");
  if (const toml::value* basic = auth.Find("basic")) {
    if (!basic->is_array()) return InvalidArgument("auth.basic: expected an array of {{user, password}}");
    h.auth.basic_users.clear();
    size_t i = 0;
    for (const auto& entry : basic->as_array()) {
      std::string where = fmt::format("auth.basic[{}]", i++);
      if (!entry.is_table()) return InvalidArgument("{}: expected {{user, password}}", where);
      Section s(&entry, where);
      std::string user, password;
      SLUICE_RETURN_IF_ERROR(s.String("user", &user));
      SLUICE_RETURN_IF_ERROR(s.String("password", &password));
      SLUICE_RETURN_IF_ERROR(s.Finish());
      if (user.empty()) return InvalidArgument("{}.user: must not be empty", where);
      h.auth.basic_users.emplace_back(std::move(user), std::move(password));
    }
  }
  SLUICE_RETURN_IF_ERROR(auth.StringList("tokens", &h.auth.tokens));
  SLUICE_RETURN_IF_ERROR(auth.String("api_key_header", &h.auth.api_key_header));
  SLUICE_RETURN_IF_ERROR(auth.Finish());

  Section cors = section("cors");
  SLUICE_RETURN_IF_ERROR(cors.StringList("allowed_origins", &h.cors.allowed_origins));
  SLUICE_RETURN_IF_ERROR(cors.Integer("max_age_s", &h.cors.max_age_s, 0, 86400 * 7));
  SLUICE_RETURN_IF_ERROR(cors.Finish());

  Section query = section("query");
  auto& a = c->api;
  SLUICE_RETURN_IF_ERROR(query.Integer("search_limit", &a.search_limit, 1, 1'000'000));
  SLUICE_RETURN_IF_ERROR(query.DurationMs("default_range", &a.defaults.range_ms));
  SLUICE_RETURN_IF_ERROR(
      query.Integer("default_max_data_points", &a.defaults.max_data_points, 1, 10'000'000));
  SLUICE_RETURN_IF_ERROR(query.Integer("max_targets", &a.defaults.max_targets, 1, 1'000'000));
  SLUICE_RETURN_IF_ERROR(
      query.Integer("max_series_per_target", &a.max_series_per_target, 1, 100'000'000));
  SLUICE_RETURN_IF_ERROR(
      query.Integer("max_points_per_request", &a.max_points_per_request, 1, 10'000'000'000));
  SLUICE_RETURN_IF_ERROR(query.Bool("frames", &a.frames));
  SLUICE_RETURN_IF_ERROR(query.DurationMs("timeout", &a.timeout_ms));
  SLUICE_RETURN_IF_ERROR(query.Finish());

  Section log = section("log");
  SLUICE_RETURN_IF_ERROR(log.String("level", &c->log_level));
  SLUICE_RETURN_IF_ERROR(log.Finish());

  Section data = section("data");
  SLUICE_RETURN_IF_ERROR(data.String("dir", &c->data_dir));
  SLUICE_RETURN_IF_ERROR(data.Bool("demo", &c->demo));
  SLUICE_RETURN_IF_ERROR(data.Finish());

  Section store = section("store");
  auto& so = c->store_options;
  const bool kind_given = store.Find("kind") != nullptr;
  SLUICE_RETURN_IF_ERROR(store.String("kind", &c->store));
  SLUICE_RETURN_IF_ERROR(store.String("url", &c->store_url));
  if (!c->store_url.empty() && !kind_given) c->store = "postgresql";
  if (c->store != "sqlite" && c->store != "postgresql" && c->store != "none") {
    return InvalidArgument(
        "store.kind: expected \"sqlite\", \"postgresql\" or \"none\", got \"{}\"", c->store);
  }
  // (An empty url with kind "postgresql" may still come from --store; Serve checks.)
  if (!c->store_url.empty() && !c->store_url.starts_with("postgresql://") &&
      !c->store_url.starts_with("postgres://")) {
    return InvalidArgument("store.url: expected a URL postgresql://user@host:port/db");
  }
  if (c->store != "postgresql" && !c->store_url.empty()) {
    return InvalidArgument("store.url: only for kind = \"postgresql\", not \"{}\"", c->store);
  }
  if (const toml::value* v = store.Find("catalog_refresh");
      v && v->is_string() && v->as_string().str == "0") {
    so.catalog_refresh_ms = 0;
  } else {
    SLUICE_RETURN_IF_ERROR(store.DurationMs("catalog_refresh", &so.catalog_refresh_ms));
  }
  SLUICE_RETURN_IF_ERROR(store.Integer("max_connections", &so.max_connections, 1, 1024));
  if (const toml::value* v = store.Find("retention"); v && v->is_string() && v->as_string().str == "0") {
    so.retention_ms = 0;
  } else {
    SLUICE_RETURN_IF_ERROR(store.DurationMs("retention", &so.retention_ms));
  }
  SLUICE_RETURN_IF_ERROR(store.Integer("chunk_points", &so.chunk_points, 2, 65535));
  SLUICE_RETURN_IF_ERROR(store.DurationMs("checkpoint_interval", &so.checkpoint_interval_ms));
  SLUICE_RETURN_IF_ERROR(store.Bytes("checkpoint_wal_bytes", &so.checkpoint_wal_bytes));
  std::string sync = so.sync_commits ? "full" : "normal";
  SLUICE_RETURN_IF_ERROR(store.String("sync", &sync));
  if (sync != "full" && sync != "normal") {
    return InvalidArgument("store.sync: expected \"full\" or \"normal\", got \"{}\"", sync);
  }
  so.sync_commits = sync == "full";
  SLUICE_RETURN_IF_ERROR(store.Finish());
  return Status::OK();
}

}  // namespace

Result<uint64_t> ParseByteSize(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0) return InvalidArgument("invalid size \"{}\": expected a number", text);
  uint64_t n = 0;
  std::from_chars(text.data(), text.data() + i, n);
  std::string_view unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  uint64_t mult;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "KiB" || unit == "K" || unit == "k") mult = 1ull << 10;
  else if (unit == "MiB" || unit == "M") mult = 1ull << 20;
  else if (unit == "GiB" || unit == "G") mult = 1ull << 30;
  else if (unit == "KB" || unit == "kB") mult = 1000;
  else if (unit == "MB") mult = 1000'000;
  else if (unit == "GB") mult = 1000'000'000;
  else return InvalidArgument("invalid size \"{}\": unknown unit \"{}\"", text, unit);
  if (n == 0 || n > (1ull << 40) / mult) return InvalidArgument("invalid size \"{}\": out of range", text);
  return n * mult;
}

Status LoadConfigText(std::string_view text, std::string_view origin, Config* config) {
  toml::value root;
  try {
    std::istringstream in{std::string(text)};
    root = toml::parse(in, std::string(origin));
  } catch (const std::exception& e) {
    return InvalidArgument("{}", e.what());
  }
  return Apply(root, config).Annotate(origin);
}

Status LoadConfigFile(const std::string& path, Config* config) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read config file {}", path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return LoadConfigText(buffer.str(), path, config);
}

}  // namespace sluice
