#include "sql/csv_source.h"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "common/strings.h"
#include "sql/shape.h"

namespace sluice::sql {
namespace {

using Clock = std::chrono::steady_clock;

struct Record {
  size_t line = 0;  // where the record starts, 1-based
  std::vector<std::string> fields;
};

// Splits RFC 4180 text into records. Blank lines are skipped; a UTF-8 BOM is ignored.
Status SplitRecords(std::string_view text, const std::string& file, std::vector<Record>* out) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  const size_t n = text.size();
  size_t i = 0, line = 1;
  while (i < n) {
    Record record;
    record.line = line;
    std::string field;
    bool record_done = false;
    while (!record_done) {
      field.clear();
      if (i < n && text[i] == '"') {
        const size_t start_line = line;
        ++i;
        for (;;) {
          if (i >= n) {
            return InvalidArgument("{}:{}: column {}: unterminated quoted field", file,
                                   start_line, record.fields.size() + 1);
          }
          char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (c == '\n') ++line;
          field.push_back(c);
          ++i;
        }
        if (i < n && text[i] != ',' && text[i] != '\n' &&
            !(text[i] == '\r' && i + 1 < n && text[i + 1] == '\n') &&
            !(text[i] == '\r' && i + 1 == n)) {
          return InvalidArgument("{}:{}: column {}: unexpected character after a closing quote",
                                 file, line, record.fields.size() + 1);
        }
      } else {
        while (i < n && text[i] != ',' && text[i] != '\n' &&
               !(text[i] == '\r' && (i + 1 == n || text[i + 1] == '\n'))) {
          field.push_back(text[i++]);
        }
      }
      record.fields.push_back(field);
      if (i < n && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < n && text[i] == '\r') ++i;
      if (i < n && text[i] == '\n') {
        ++i;
        ++line;
      }
      record_done = true;
    }
    if (record.fields.size() == 1 && record.fields[0].empty()) continue;  // a blank line
    out->push_back(std::move(record));
  }
  return Status::OK();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool ParseNumber(std::string_view s, double* out) {
  s = Trim(s);
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool IsNullCell(std::string_view s) {
  s = Trim(s);
  return s.empty() || s == "null" || s == "NULL" || s == "NaN" || s == "nan";
}

}  // namespace

CsvSource::CsvSource(const SourceConfig& config)
    : config_(config), name_(config.name) {}

Status CsvSource::Parse(std::string_view text, const std::string& file, const SourceConfig& config,
                        std::vector<Series>* out) {
  std::vector<Record> records;
  SLUICE_RETURN_IF_ERROR(SplitRecords(text, file, &records));
  if (records.empty()) return InvalidArgument("{}: the file is empty (expected a header row)", file);

  std::vector<std::string> header;
  for (const auto& f : records[0].fields) header.emplace_back(Trim(f));
  int time_col = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == config.time_column) time_col = static_cast<int>(i);
  }
  for (size_t i = 0; i < header.size() && time_col < 0; ++i) {
    if (EqualsIgnoreCase(header[i], config.time_column)) time_col = static_cast<int>(i);
  }
  if (time_col < 0) {
    std::string names;
    for (const auto& h : header) names += (names.empty() ? "" : ", ") + h;
    return InvalidArgument("{}:1: no column named \"{}\" in the header ({})", file,
                           config.time_column, names);
  }
  for (size_t i = 0; i < header.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (header[i] == header[j]) {
        return InvalidArgument("{}:1: column {}: \"{}\" appears twice in the header", file, i + 1,
                               header[i]);
      }
    }
  }
  for (const auto& label : config.label_columns) {
    if (std::find(header.begin(), header.end(), label) == header.end()) {
      return InvalidArgument("{}:1: label column \"{}\" is not in the header", file, label);
    }
  }

  // A column is a label when configured so or when its first non-empty value is not a number.
  std::vector<size_t> value_cols, label_cols;
  for (size_t c = 0; c < header.size(); ++c) {
    if (static_cast<int>(c) == time_col) continue;
    bool label = std::find(config.label_columns.begin(), config.label_columns.end(), header[c]) !=
                 config.label_columns.end();
    if (!label) {
      for (size_t r = 1; r < records.size(); ++r) {
        if (c >= records[r].fields.size() || IsNullCell(records[r].fields[c])) continue;
        double ignored;
        label = !ParseNumber(records[r].fields[c], &ignored);
        break;
      }
    }
    (label ? label_cols : value_cols).push_back(c);
  }

  if (value_cols.empty()) {
    return InvalidArgument(
        "{}:1: no value column: every column but \"{}\" holds text (labels), so there is nothing "
        "to serve",
        file, header[time_col]);
  }

  const std::string prefix = config.name_prefix.value_or(config.name);
  std::vector<Series> series;  // group g, value column k at g * value_cols.size() + k
  std::unordered_map<std::string, size_t> groups;
  const size_t nv = value_cols.size();
  std::string key;
  for (size_t r = 1; r < records.size(); ++r) {
    const Record& rec = records[r];
    if (rec.fields.size() != header.size()) {
      return InvalidArgument("{}:{}: {} fields, but the header has {}", file, rec.line,
                             rec.fields.size(), header.size());
    }
    std::string_view time_text = Trim(rec.fields[time_col]);
    if (time_text.empty()) {
      return InvalidArgument("{}:{}: column {} ({}): the time is empty", file, rec.line,
                             time_col + 1, header[time_col]);
    }
    auto time = ParseTimeText(time_text);
    if (!time.ok()) {
      return InvalidArgument("{}:{}: column {} ({}): {}", file, rec.line, time_col + 1,
                             header[time_col], time.status().message());
    }
    key.clear();
    for (size_t c : label_cols) {  // length-prefixed, so no value can be mistaken for another
      const uint32_t size = static_cast<uint32_t>(rec.fields[c].size());
      key.append(reinterpret_cast<const char*>(&size), sizeof(size));
      key += rec.fields[c];
    }
    auto [it, inserted] = groups.emplace(key, groups.size());
    if (inserted) {
      Tags tags;
      for (size_t c : label_cols) {
        if (!rec.fields[c].empty()) tags.Set(header[c], rec.fields[c]);
      }
      for (size_t k = 0; k < nv; ++k) {
        Series& s = series.emplace_back();
        s.name = prefix.empty() ? header[value_cols[k]] : prefix + "." + header[value_cols[k]];
        s.tags = tags;
      }
    }
    for (size_t k = 0; k < nv; ++k) {
      const size_t c = value_cols[k];
      const std::string& cell = rec.fields[c];
      double v = NAN;
      if (!IsNullCell(cell) && !ParseNumber(cell, &v)) {
        return InvalidArgument("{}:{}: column {} ({}): \"{}\" is not a number", file, rec.line,
                               c + 1, header[c], cell);
      }
      series[it->second * nv + k].Append(*time, v);
    }
  }
  for (auto& s : series) out->push_back(std::move(s));
  return Status::OK();
}

Result<std::shared_ptr<MemorySource>> CsvSource::Current() {
  std::lock_guard lock(mu_);
  const auto now = Clock::now();
  if (have_stat_ && now - checked_ < std::chrono::seconds(1)) {
    if (!error_.ok()) return error_;
    return data_;
  }
  checked_ = now;
  struct stat st;
  if (::stat(config_.path.c_str(), &st) != 0) {
    int err = errno;
    have_stat_ = true;
    size_ = -1;
    data_.reset();
    error_ = Unavailable("cannot read {}: {}", config_.path, std::strerror(err));
    return error_;
  }
  const int64_t mtime_ns =
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  const int64_t size = static_cast<int64_t>(st.st_size);
  if (!have_stat_ || mtime_ns != mtime_ns_ || size != size_ || (!data_ && error_.ok())) {
    have_stat_ = true;
    mtime_ns_ = mtime_ns;
    size_ = size;
    std::ifstream in(config_.path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::vector<Series> series;
    Status parsed = in ? Parse(buffer.str(), config_.path, config_, &series)
                       : Unavailable("cannot read {}", config_.path);
    if (!parsed.ok()) {
      spdlog::warn("csv source {}: {}", name_, parsed.message());
      data_.reset();
      error_ = parsed;
      return error_;
    }
    auto data = std::make_shared<MemorySource>(name_);
    size_t points = 0;
    for (auto& s : series) {
      points += s.size();
      data->AddSeries(std::move(s));
    }
    spdlog::info("csv source {}: read {} series ({} points) from {}", name_, series.size(), points,
                 config_.path);
    data_ = std::move(data);
    error_ = Status::OK();
  }
  if (!error_.ok()) return error_;
  return data_;
}

Status CsvSource::ListNames(std::vector<std::string>* out) {
  SLUICE_ASSIGN_OR_RETURN(auto data, Current());
  return data->ListNames(out);
}

Status CsvSource::TagKeys(const std::vector<TagFilter>& filters, std::vector<std::string>* out) {
  SLUICE_ASSIGN_OR_RETURN(auto data, Current());
  return data->TagKeys(filters, out);
}

Status CsvSource::TagValues(std::string_view key, const std::vector<TagFilter>& filters,
                            std::vector<std::string>* out) {
  SLUICE_ASSIGN_OR_RETURN(auto data, Current());
  return data->TagValues(key, filters, out);
}

Status CsvSource::Fetch(const FetchRequest& request, FetchResult* out) {
  SLUICE_ASSIGN_OR_RETURN(auto data, Current());
  return data->Fetch(request, out);
}

}  // namespace sluice::sql
