#include "testing/fixtures.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "testing/json.h"

#ifndef SLUICE_SHARED_DIR
#error "SLUICE_SHARED_DIR must be defined by the build"
#endif

namespace sluice::testing {

std::string SharedDir() {
  const char* env = std::getenv("SLUICE_SHARED_DIR");
  if (env && *env) return env;
  return SLUICE_SHARED_DIR;
}

std::string PluginFixture::Header(std::string_view header_name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, header_name)) return value;
  }
  return "";
}

std::string PluginFixture::RequestBytes(std::string_view host) const {
  std::string out = fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\n", method, path, host);
  for (const auto& [key, value] : headers) out += fmt::format("{}: {}\r\n", key, value);
  out += "\r\n";
  if (has_body) out += raw_body;
  return out;
}

std::vector<PluginFixture> LoadPluginFixtures(std::string* error) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(SharedDir()) / "fixtures" / "plugin-requests";
  std::error_code ec;
  std::vector<fs::path> files;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (it->path().extension() == ".json") files.push_back(it->path());
  }
  if (ec || files.empty()) {
    *error = fmt::format("no fixtures in {}: {}", dir.string(), ec ? ec.message() : "empty");
    return {};
  }
  std::sort(files.begin(), files.end());

  std::vector<PluginFixture> out;
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    JsonDoc doc = JsonDoc::Parse(ss.str());
    if (!doc.ok()) {
      *error = fmt::format("{}: {}", file.string(), doc.error());
      return {};
    }
    JsonElement root = doc.root();
    PluginFixture f;
    f.name = file.stem().string();
    f.plugin = StringField(root, "plugin").value_or("");
    f.call = StringField(root, "call").value_or("");
    f.description = StringField(root, "description").value_or("");
    f.method = StringField(root, "method").value_or("");
    f.path = StringField(root, "path").value_or("");
    if (auto headers = Field(root, "headers")) {
      for (const std::string& key : Keys(*headers)) {
        f.headers.emplace_back(key, StringField(*headers, key).value_or(""));
      }
    }
    if (auto raw = Field(root, "raw_body"); raw && IsString(*raw)) {
      f.has_body = true;
      f.raw_body = *AsString(*raw);
    }
    if (f.method.empty() || f.path.empty()) {
      *error = fmt::format("{}: missing method or path", file.string());
      return {};
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace sluice::testing
