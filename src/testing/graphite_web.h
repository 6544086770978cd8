// graphite-web 1.1.8 (Debian's `graphite-web` package) as a peer for side-by-side tests.
//
// GraphiteWeb drives the scripts in tools/graphite/ (see its README.md): MakeWhisper() turns a
// line-protocol file into whisper files named as Sluice's /write names the series
// (make_whisper.py --influx: `<measurement>.<field>;tag=value...`, tagged ones registered in
// graphite-web's tag database), and Start() runs graphite-web on an ephemeral 127.0.0.1 port over
// them (serve.sh: gunicorn, sqlite tag database, no memcache, no carbonlink). Every step is
// bounded in time. The server is stopped by Stop() or the destructor; a watchdog process, started
// before the server and sent SIGTERM when the starting thread exits (PR_SET_PDEATHSIG), stops it
// too, so a test killed mid-way (a ctest timeout, SIGKILL) does not leave graphite-web running.
// Start servers from the test's main thread for that reason (gtest runs SetUpTestSuite and tests
// there).
//
// Whisper answers nothing older than now - retention: requests for data that does not end near
// the wall clock need `&now=<epoch seconds>` (graphite-web passes it to whisper).
//
// Not thread-safe; the port may be used from any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "testing/server_process.h"

namespace sluice::testing {

// Runs `args` (args[0] an absolute path) with stdin from /dev/null, in its own process group,
// collecting stdout and stderr, for at most `timeout_ms`; on timeout the whole process group is
// killed (SIGKILL) and `timed_out` is set.
ProcessResult RunCommand(const std::vector<std::string>& args, int timeout_ms);

class GraphiteWeb {
 public:
  // True when graphite-web, Django and whisper import under /usr/bin/python3 and the scripts are
  // in `tools_dir` (the repository's tools/graphite). Otherwise false with *why saying what is
  // missing and that `scripts/install-deps.sh test` installs it.
  static bool Available(const std::string& tools_dir, std::string* why);

  // Writes whisper files for the line protocol in `lp_path` (timestamps in seconds) into
  // `whisper_dir` (created if needed) with make_whisper.py --influx, at most 120 s. On failure
  // returns false with *error holding the script's output; files already written stay.
  static bool MakeWhisper(const std::string& tools_dir, const std::string& whisper_dir,
                          const std::string& lp_path, std::string* error);

  // Starts graphite-web over `whisper_dir` with `workers` gunicorn workers, its state (settings,
  // sqlite database, logs) in `state_dir` (created; removed by Stop()). Waits until /version/
  // answers, at most 90 s. On failure returns null with *error holding the script's output and
  // the server log; nothing is left running.
  static std::unique_ptr<GraphiteWeb> Start(const std::string& tools_dir,
                                            const std::string& whisper_dir,
                                            const std::string& state_dir, int workers,
                                            std::string* error);

  ~GraphiteWeb();
  GraphiteWeb(const GraphiteWeb&) = delete;
  GraphiteWeb& operator=(const GraphiteWeb&) = delete;

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // The server's log (gunicorn's output and graphite-web's exception.log), for failure messages;
  // "" once stopped.
  std::string LogText() const;

  // Stops the server (SIGTERM, SIGKILL after 10 s) and removes its state directory. Idempotent.
  void Stop();

 private:
  GraphiteWeb() = default;
  void KillWatchdog();

  std::string tools_dir_;
  std::string state_dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  pid_t watchdog_pid_ = -1;
  bool stopped_ = false;
};

}  // namespace sluice::testing
