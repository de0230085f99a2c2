#pragma once
// `twin parcels|zoning|buildings|roads|permits import`, `twin check`, `twin envelope`,
// `twin procedures`: flags and wiring for the land-use commands (the logic is libtwin's planning
// module and the converters).
#include <CLI/CLI.hpp>
#include <atomic>
#include <memory>

namespace twincli {

class LandUseCommands {
 public:
  LandUseCommands(CLI::App& app, std::atomic<bool>& cancel);
  ~LandUseCommands();
  // The exit code of the chosen land-use command, or -1 when none was chosen.
  int run();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace twincli
