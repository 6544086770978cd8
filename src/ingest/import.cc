#include "ingest/import.h"

#include <algorithm>
#include <charconv>
#include <fstream>

#include "common/time.h"
#include "ingest/write_api.h"

namespace sluice::ingest {
namespace {

// Splits one CSV record (RFC 4180 quoting) into fields.
void SplitCsv(std::string_view line, std::vector<std::string>* fields) {
  fields->clear();
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields->push_back(std::move(field));
      field.clear();
    } else if (c != '\r') {
      field.push_back(c);
    }
  }
  fields->push_back(std::move(field));
}

Result<int64_t> CsvTime(std::string_view text) {
  bool digits = !text.empty();
  for (char c : text) digits &= (c >= '0' && c <= '9') || c == '-';
  if (!digits) return ParseTimestampMs(text);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return InvalidArgument("bad time \"{}\"", text);
  size_t n = text.size() - (text.front() == '-' ? 1 : 0);
  if (n <= 11) return v * 1000;
  if (n <= 14) return v;
  if (n <= 17) return v / 1000;
  return v / 1'000'000;
}

// Writes the batch, records what the store rejected, and reports progress.
Status CommitBatch(store::TimeSeriesStore* store, store::WriteBatch* batch,
                   const ImportOptions& options, ImportProgress* progress,
                   std::vector<std::string>* messages) {
  store::WriteResult result;
  if (!batch->empty()) SLUICE_RETURN_IF_ERROR(store->Write(batch, &result));
  for (const auto& e : result.errors) {
    if (messages->size() < 10) messages->push_back(e);
  }
  progress->points += result.written;
  if (options.on_progress) options.on_progress(*progress);
  return Status::OK();
}

Status ImportCsv(std::ifstream& in, store::TimeSeriesStore* store,
                 const ImportOptions& options, ImportProgress* progress,
                 std::vector<std::string>* messages) {
  std::string line;
  std::vector<std::string> fields;
  if (!std::getline(in, line)) return InvalidArgument("empty CSV file");
  progress->bytes_read += line.size() + 1;
  SplitCsv(line, &fields);
  if (fields.size() < 2) return InvalidArgument("CSV header: expected time and at least one series");
  std::vector<std::string> keys;
  for (size_t i = 1; i < fields.size(); ++i) {
    std::string_view header = fields[i];
    size_t semi = header.find(';');
    Tags tags;
    std::string_view name = header.substr(0, semi);
    while (semi != std::string_view::npos) {
      header.remove_prefix(semi + 1);
      semi = header.find(';');
      std::string_view pair = header.substr(0, semi);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        return InvalidArgument("CSV header column {}: tag \"{}\" is not key=value", i + 1, pair);
      }
      tags.Set(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1)));
    }
    if (name.empty()) return InvalidArgument("CSV header column {}: empty series name", i + 1);
    keys.push_back(store::SeriesKey(name, tags));
  }
  store::WriteBatch batch;
  std::vector<uint32_t> index;
  auto reset_batch = [&] {
    batch.Clear();
    index.clear();
    for (const auto& k : keys) {
      index.push_back(batch.AddSeries(k, store::ValueType::kFloat, 1));
    }
  };
  reset_batch();
  size_t line_number = 1;
  uint64_t block_bytes = 0;
  auto commit = [&]() -> Status {
    SLUICE_RETURN_IF_ERROR(CommitBatch(store, &batch, options, progress, messages));
    reset_batch();
    block_bytes = 0;
    return Status::OK();
  };
  while (std::getline(in, line)) {
    ++line_number;
    progress->bytes_read += line.size() + 1;
    block_bytes += line.size() + 1;
    if (line.empty() || line == "\r") continue;
    SplitCsv(line, &fields);
    auto bad = [&](std::string what) {
      ++progress->bad_lines;
      if (messages->size() < 10) messages->push_back(fmt::format("line {}: {}", line_number, what));
    };
    auto t = CsvTime(fields[0]);
    if (!t.ok()) {
      bad(t.status().message());
      continue;
    }
    for (size_t i = 1; i < fields.size() && i <= keys.size(); ++i) {
      if (fields[i].empty()) continue;
      double v;
      auto [p, ec] = std::from_chars(fields[i].data(), fields[i].data() + fields[i].size(), v);
      if (ec != std::errc() || p != fields[i].data() + fields[i].size()) {
        bad(fmt::format("column {}: \"{}\" is not a number", i + 1, fields[i]));
        continue;
      }
      batch.Add(index[i - 1], *t, v);
    }
    if (block_bytes >= options.block_bytes) SLUICE_RETURN_IF_ERROR(commit());
  }
  return commit();
}

Status ImportLineProtocol(std::ifstream& in, store::TimeSeriesStore* store,
                          const ImportOptions& options, ImportProgress* progress,
                          std::vector<std::string>* messages) {
  std::string block, carry;
  std::vector<char> buffer(options.block_bytes);
  store::WriteBatch batch;
  size_t lines_before = 0;
  bool eof = false;
  while (!eof) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0));
    eof = !in;
    progress->bytes_read += got;
    block = std::move(carry);
    carry.clear();
    block.append(buffer.data(), got);
    if (!eof) {  // keep a trailing partial line for the next block
      size_t last_newline = block.rfind('\n');
      if (last_newline == std::string::npos) {
        carry = std::move(block);
        continue;
      }
      carry = block.substr(last_newline + 1);
      block.resize(last_newline + 1);
    }
    if (block.empty()) continue;
    batch.Clear();
    size_t bad = 0;
    AppendLineProtocol(block, options.precision, NowMs(), &batch, messages, &bad, lines_before);
    lines_before += static_cast<size_t>(std::count(block.begin(), block.end(), '\n'));
    progress->bad_lines += bad;
    SLUICE_RETURN_IF_ERROR(CommitBatch(store, &batch, options, progress, messages));
  }
  return Status::OK();
}

}  // namespace

Status ImportFile(const std::string& path, store::TimeSeriesStore* store,
                  const ImportOptions& options, ImportProgress* progress,
                  std::vector<std::string>* messages) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read {}", path);
  in.seekg(0, std::ios::end);
  progress->bytes_total = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  bool csv = path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
  return csv ? ImportCsv(in, store, options, progress, messages)
             : ImportLineProtocol(in, store, options, progress, messages);
}

}  // namespace sluice::ingest
