// The `sluice` command line: `sluice serve …`. Exit codes: 0 success, 2 usage or config errors.
#pragma once

namespace sluice {

int RunCli(int argc, char** argv);

}  // namespace sluice
