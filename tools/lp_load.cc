// lp_load: the load generator of bench/store_bench.sh. Standalone (C++20, POSIX sockets, no
// libraries), so the script can compile it by itself when the build did not.
//
//   lp_load write --port P --path '/write?db=bench&precision=s' [--conns K] [--hosts H] [--cpus C]
//                 [--fields F] [--points-per-series N] [--end-s T] [--step-s 10]
//                 [--batch-lines 5000] [--seed 1] [--measurement cpu] [--dump FILE]
//   lp_load query --port P --path PATH [--body-file F] [--n 50] [--warmup 5] [--save FILE]
//
// write: builds every request in memory first (line protocol, one line per series and timestamp,
// time-major: all series at t0, then all at t1, ...; regular `step` seconds ending at T; values are
// per-field random walks in [0, 100] rounded to 2 decimals, written in shortest form like
// Telegraf), then POSTs them over K keep-alive connections (each connection takes the next unsent
// batch). Series: measurement `cpu`, tags host=h0..h{H-1} and, when C > 1, cpu=c0..c{C-1}; fields
// `usage` (F = 1) or usage_user, usage_system, ... (F > 1). Points = lines * F.
// Prints one line of key=value: points, lines, requests, bytes, wall_s (first send to last answer),
// points_per_s, client_cpu_s (this process during the load), errors (non-2xx answers).
//
// query: sends the same request (GET without --body-file, else POST with the file as a JSON body)
// N times after `warmup` unmeasured ones, sequentially on one keep-alive connection, and prints
// requests, median_ms, p90_ms, min_ms, max_ms, bytes (of the last answer), errors. --save writes
// the last answer's body.
//
// Only talks to 127.0.0.1. Exit status 1 on any error or non-2xx answer.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "lp_load: %s\n", message.c_str());
  std::exit(1);
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// One keep-alive HTTP/1.1 connection to 127.0.0.1.
class Connection {
 public:
  explicit Connection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) Die("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      Die("cannot connect to 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno));
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Connection() { ::close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends `request` (complete, headers and body) and reads the answer. Returns the status code.
  int RoundTrip(std::string_view request, std::string* body) {
    size_t sent = 0;
    while (sent < request.size()) {
      ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) Die(std::string("send failed: ") + std::strerror(errno));
      sent += static_cast<size_t>(n);
    }
    return ReadResponse(body);
  }

 private:
  // Makes sure buf_ holds at least `n` unread bytes.
  void Need(size_t n) {
    while (buf_.size() - pos_ < n) Fill();
  }
  void Fill() {
    if (pos_ > 0 && pos_ == buf_.size()) {
      buf_.clear();
      pos_ = 0;
    }
    char tmp[65536];
    ssize_t n;
    do {
      n = ::recv(fd_, tmp, sizeof tmp, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) Die("connection closed by the server");
    buf_.append(tmp, static_cast<size_t>(n));
  }
  std::string ReadLine() {
    for (;;) {
      size_t eol = buf_.find("\r\n", pos_);
      if (eol != std::string::npos) {
        std::string line = buf_.substr(pos_, eol - pos_);
        pos_ = eol + 2;
        return line;
      }
      Fill();
    }
  }
  int ReadResponse(std::string* body) {
    std::string status_line = ReadLine();
    if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) {
      Die("bad status line: " + status_line);
    }
    int status = std::atoi(status_line.c_str() + 9);
    long long length = -1;
    bool chunked = false;
    for (;;) {
      std::string line = ReadLine();
      if (line.empty()) break;
      std::string lower = line;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (lower.rfind("content-length:", 0) == 0) length = std::atoll(line.c_str() + 15);
      if (lower.rfind("transfer-encoding:", 0) == 0 && lower.find("chunked") != std::string::npos) {
        chunked = true;
      }
    }
    body->clear();
    if (chunked) {
      for (;;) {
        std::string size_line = ReadLine();
        size_t size = std::strtoull(size_line.c_str(), nullptr, 16);
        if (size == 0) {
          while (!ReadLine().empty()) {
          }
          break;
        }
        Need(size + 2);
        body->append(buf_, pos_, size);
        pos_ += size + 2;
      }
    } else if (length > 0) {
      Need(static_cast<size_t>(length));
      body->append(buf_, pos_, static_cast<size_t>(length));
      pos_ += static_cast<size_t>(length);
    }
    if (pos_ == buf_.size()) {
      buf_.clear();
      pos_ = 0;
    }
    return status;
  }

  int fd_ = -1;
  std::string buf_;
  size_t pos_ = 0;
};

struct Args {
  std::map<std::string, std::string> values;
  std::string Get(const std::string& key, const std::string& fallback) const {
    auto it = values.find(key);
    return it == values.end() ? fallback : it->second;
  }
  long long Int(const std::string& key, long long fallback) const {
    auto it = values.find(key);
    if (it == values.end()) return fallback;
    long long v = 0;
    auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
    if (ec != std::errc() || p != it->second.data() + it->second.size()) {
      Die("--" + key + ": not an integer: " + it->second);
    }
    return v;
  }
};

Args Parse(int argc, char** argv, int first) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0 || i + 1 >= argc) Die("bad argument: " + k);
    a.values[k.substr(2)] = argv[++i];
  }
  return a;
}

std::string RequestHead(const std::string& method, const std::string& path, size_t body_bytes,
                        const char* content_type) {
  std::string head = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: lp_load\r\n";
  if (content_type) {
    head += "Content-Type: ";
    head += content_type;
    head += "\r\nContent-Length: " + std::to_string(body_bytes) + "\r\n";
  }
  head += "\r\n";
  return head;
}

int Write(const Args& a) {
  const int port = static_cast<int>(a.Int("port", 0));
  const std::string path = a.Get("path", "/write?db=bench&precision=s");
  const int conns = static_cast<int>(a.Int("conns", 4));
  const long long hosts = a.Int("hosts", 10), cpus = a.Int("cpus", 10), fields = a.Int("fields", 1);
  const long long n = a.Int("points-per-series", 5000);
  const long long step = a.Int("step-s", 10);
  const long long end_s = a.Int("end-s", 1'790'000'000);
  const long long batch_lines = a.Int("batch-lines", 5000);
  const std::string measurement = a.Get("measurement", "cpu");
  const std::string dump = a.Get("dump", "");
  if (port <= 0 || conns <= 0 || hosts <= 0 || cpus <= 0 || fields <= 0 || n <= 0 || step <= 0 ||
      batch_lines <= 0) {
    Die("write: --port and positive sizes are required");
  }
  static const char* kFieldNames[] = {"usage_user",   "usage_system", "usage_idle",
                                      "usage_nice",   "usage_iowait", "usage_irq",
                                      "usage_softirq", "usage_steal", "usage_guest",
                                      "usage_guest_nice"};
  std::vector<std::string> field_keys;
  for (long long f = 0; f < fields; ++f) {
    field_keys.push_back(fields == 1 ? std::string("usage")
                         : f < 10   ? std::string(kFieldNames[f])
                                    : "usage_" + std::to_string(f));
  }
  // Line prefixes, tags sorted by key as Telegraf sends them.
  std::vector<std::string> prefixes;
  for (long long h = 0; h < hosts; ++h) {
    for (long long c = 0; c < cpus; ++c) {
      std::string p = measurement;
      if (cpus > 1) p += ",cpu=c" + std::to_string(c);
      p += ",host=h" + std::to_string(h) + " ";
      prefixes.push_back(std::move(p));
    }
  }
  const size_t series = prefixes.size();
  std::mt19937_64 rng(static_cast<uint64_t>(a.Int("seed", 1)));
  std::normal_distribution<double> noise(0, 0.4);
  std::uniform_real_distribution<double> start(5, 95);
  std::vector<double> walk(series * static_cast<size_t>(fields));
  for (auto& w : walk) w = start(rng);

  const double t_gen = Now();
  std::vector<std::string> requests;
  std::string body, dump_text;
  long long lines_in_body = 0, total_lines = 0;
  size_t total_bytes = 0;
  auto flush = [&] {
    if (lines_in_body == 0) return;
    std::string request = RequestHead("POST", path, body.size(), "text/plain; charset=utf-8");
    request += body;
    total_bytes += body.size();
    if (!dump.empty()) dump_text += body;
    requests.push_back(std::move(request));
    body.clear();
    lines_in_body = 0;
  };
  char num[64];
  for (long long i = 0; i < n; ++i) {
    const long long t = end_s - (n - 1 - i) * step;
    auto [tend, tec] = std::to_chars(num, num + sizeof num, t);
    (void)tec;
    const std::string ts(num, tend);
    for (size_t s = 0; s < series; ++s) {
      body += prefixes[s];
      for (long long f = 0; f < fields; ++f) {
        double& w = walk[s * static_cast<size_t>(fields) + static_cast<size_t>(f)];
        w += noise(rng);
        if (w < 0) w = -w;
        if (w > 100) w = 200 - w;
        const double v = std::round(w * 100) / 100;
        if (f) body.push_back(',');
        body += field_keys[static_cast<size_t>(f)];
        body.push_back('=');
        auto [vend, vec] = std::to_chars(num, num + sizeof num, v);
        (void)vec;
        body.append(num, vend);
      }
      body.push_back(' ');
      body += ts;
      body.push_back('\n');
      ++total_lines;
      if (++lines_in_body == batch_lines) flush();
    }
  }
  flush();
  const double gen_s = Now() - t_gen;
  if (!dump.empty()) {
    std::ofstream(dump, std::ios::binary) << dump_text;
    dump_text.clear();
  }

  std::atomic<size_t> next{0};
  std::atomic<long long> errors{0};
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<Connection>> connections;
  for (int c = 0; c < conns; ++c) connections.push_back(std::make_unique<Connection>(port));
  const double cpu0 = CpuSeconds();
  const double t0 = Now();
  for (int c = 0; c < conns; ++c) {
    threads.emplace_back([&, c] {
      std::string answer;
      for (;;) {
        size_t i = next.fetch_add(1);
        if (i >= requests.size()) break;
        int status = connections[c]->RoundTrip(requests[i], &answer);
        if (status < 200 || status > 299) {
          if (errors.fetch_add(1) == 0) {
            std::fprintf(stderr, "lp_load: HTTP %d: %.300s\n", status, answer.c_str());
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double wall = Now() - t0;
  const double cpu = CpuSeconds() - cpu0;
  const long long points = total_lines * fields;
  std::printf(
      "points=%lld lines=%lld series=%zu requests=%zu bytes=%zu wall_s=%.3f points_per_s=%.0f "
      "client_cpu_s=%.3f generate_s=%.2f errors=%lld\n",
      points, total_lines, series * static_cast<size_t>(fields), requests.size(), total_bytes, wall,
      static_cast<double>(points) / wall, cpu, gen_s, errors.load());
  return errors.load() == 0 ? 0 : 1;
}

int Query(const Args& a) {
  const int port = static_cast<int>(a.Int("port", 0));
  const std::string path = a.Get("path", "");
  const std::string body_file = a.Get("body-file", "");
  const long long n = a.Int("n", 50), warmup = a.Int("warmup", 5);
  const std::string save = a.Get("save", "");
  if (port <= 0 || path.empty() || n <= 0 || warmup < 0 || n > 100000) {
    Die("query: --port, --path and 0 < --n <= 100000 are required");
  }
  std::string request;
  if (body_file.empty()) {
    request = RequestHead("GET", path, 0, nullptr);
  } else {
    std::ifstream in(body_file, std::ios::binary);
    if (!in) Die("cannot read " + body_file);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string body = ss.str();
    request = RequestHead("POST", path, body.size(), "application/json") + body;
  }
  Connection conn(port);
  std::string answer;
  std::vector<double> ms;
  long long errors = 0;
  for (long long i = 0; i < warmup + n; ++i) {
    const double t0 = Now();
    int status = conn.RoundTrip(request, &answer);
    const double dt = (Now() - t0) * 1000;
    if (status < 200 || status > 299) {
      if (errors++ == 0) std::fprintf(stderr, "lp_load: HTTP %d: %.300s\n", status, answer.c_str());
    }
    if (i >= warmup) ms.push_back(dt);
  }
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))]; };
  std::printf("requests=%zu median_ms=%.3f p90_ms=%.3f min_ms=%.3f max_ms=%.3f bytes=%zu errors=%lld\n",
              ms.size(), ms.size() % 2 ? ms[ms.size() / 2] : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2,
              at(0.9), ms.front(), ms.back(), answer.size(), errors);
  if (!save.empty()) std::ofstream(save, std::ios::binary) << answer;
  return errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Die("usage: lp_load write|query --port P ... (see the header of tools/lp_load.cc)");
  std::string mode = argv[1];
  Args a = Parse(argc, argv, 2);
  if (mode == "write") return Write(a);
  if (mode == "query") return Query(a);
  Die("unknown mode " + mode);
}
