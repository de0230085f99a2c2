#pragma once
// viewer-server: serves tilesets and the web viewer (CesiumJS, served locally: no Ion token,
// no online imagery or terrain).

#include <atomic>
#include <string>
#include <vector>

namespace twin::viewer {

struct ServeOptions {
  std::vector<std::string> tiles;  // tileset directories; served at /tiles/<index>/
  std::string webDir;              // the built viewer (index.html, app.js, cesium/)
  std::string host = "127.0.0.1";
  int port = 8080;
  const std::atomic<bool>* stop = nullptr;  // graceful shutdown when set
};

// Runs until stopped. Returns 0 on a clean stop, non-zero when the server could not start
// (message in `error`).
int serve(const ServeOptions& options, std::string& error);

}  // namespace twin::viewer
