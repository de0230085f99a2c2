#include "twin/viewer/server.h"

#include <httplib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

namespace twin::viewer {

int serve(const ServeOptions& o, std::string& error) {
  namespace sfs = std::filesystem;
  httplib::Server server;
  server.set_file_extension_and_mimetype_mapping("glb", "model/gltf-binary");
  server.set_file_extension_and_mimetype_mapping("json", "application/json");
  server.set_file_extension_and_mimetype_mapping("subtree", "application/octet-stream");
  server.set_file_extension_and_mimetype_mapping("wasm", "application/wasm");
  server.set_payload_max_length(1 << 20);
  server.set_read_timeout(10, 0);
  server.set_write_timeout(30, 0);

  // Nothing hidden is served: a tileset's .twin/ state (converted features, tile hashes) and
  // staging directories stay private.
  server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.path.find("/.") != std::string::npos) {
      res.status = 404;
      res.set_content("not found", "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < o.tiles.size(); ++i) {
    std::error_code ec;
    if (!sfs::exists(sfs::path(o.tiles[i]) / "tileset.json", ec)) {
      error = o.tiles[i] + " holds no tileset.json";
      return 1;
    }
    std::string mount = "/tiles/" + std::to_string(i);
    // cpp-httplib's mount points refuse paths that leave the directory.
    if (!server.set_mount_point(mount, o.tiles[i])) {
      error = "cannot serve " + o.tiles[i];
      return 1;
    }
    list.push_back({{"name", sfs::path(o.tiles[i]).filename().string()}, {"url", mount + "/tileset.json"}});
  }
  server.Get("/api/tilesets", [list](const httplib::Request&, httplib::Response& res) {
    res.set_content(list.dump(), "application/json");
  });
  if (!o.webDir.empty() && !server.set_mount_point("/", o.webDir)) {
    error = "viewer files not found in " + o.webDir + " (build the project first)";
    return 1;
  }
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    std::fprintf(stderr, "%s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
  });
  if (!server.bind_to_port(o.host, o.port)) {
    error = "cannot listen on " + o.host + ":" + std::to_string(o.port);
    return 1;
  }
  std::thread watcher;
  std::atomic<bool> finished{false};
  if (o.stop)
    watcher = std::thread([&] {
      while (!finished.load() && !o.stop->load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      server.stop();
    });
  server.listen_after_bind();
  finished = true;
  if (watcher.joinable()) watcher.join();
  return 0;
}

}  // namespace twin::viewer
