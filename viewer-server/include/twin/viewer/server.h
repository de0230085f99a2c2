#pragma once
// viewer-server: serves tilesets, the web viewer (CesiumJS, served locally: no Ion token, no
// online imagery or terrain) and, with a store, the JSON API that links parcels, zoning, rule
// checks, permits and procedures to buildings (documented in openapi.json, served at
// /api/openapi.json).
//
// Access: requests without a token are public (read, no personal data); `Authorization: Bearer
// TOKEN` with a staff token reads everything and writes permits; an admin token also creates
// tokens and reads the audit log. Tokens are kept hashed in the store.

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "twin/diagnostics.h"

namespace twin::landuse {
class Store;
}

namespace twin::viewer {

struct ServeOptions {
  std::vector<std::string> tiles;  // tileset directories; served at /tiles/<index>/
  std::string webDir;              // the built viewer (index.html, app.js, cesium/)
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string store;                          // GeoPackage path or postgresql:// URI; empty: tiles and viewer only
  std::string rulesPath;                      // rules file (default: the installed rules/japan.json)
  std::string dataDir;                        // twin's data (rules, geoid) looked up here first (fs::dataFile)
  std::string basemap;                        // optional base map tile URL template ({z}/{x}/{y}) the operator serves
  std::string corsOrigin;                     // Access-Control-Allow-Origin: empty (none), "*", or one origin
  int cacheSeconds = 300;                     // Cache-Control max-age of tile contents (tileset.json: revalidate)
  size_t maxBodyBytes = 20u << 20;            // largest request body (document uploads); JSON bodies: 1 MB
  int maxConnectionsPerAddress = 512;         // open connections one client address may hold (0: no limit)
  int threads = 0;                            // API worker threads (0: 2 per core, at least 4); connections hold none
  bool accessLog = true;                      // one JSON line per request on stderr (no bodies, no tokens)
  const std::atomic<bool>* stop = nullptr;    // graceful shutdown when set
  std::function<void(int port)> onListening;  // called once listening (port 0: the chosen port)
};

// Runs until stopped. Fails (with the reason) when the server cannot start: rules unreadable, store
// empty or unreachable, a directory without tileset.json, no viewer files, the port taken.
Status serve(const ServeOptions& options);

// A new API token ("twn_" + 64 hex digits) and the hash the store keeps of it.
std::string newToken();
std::string tokenHash(const std::string& token);
// The time `plusDays` days from now, ISO 8601 UTC to the second ("2026-12-03T18:12:03Z"): what
// tokens' expiry is written and compared in.
std::string isoNow(int plusDays);

// Creates a token for `user` with `role` ("staff"/"admin") that expires after `days` (0: never),
// stores its hash (with an audit entry by `actor`) and returns it with its expiry: what
// `twin token create` and POST /api/admin/tokens both do.
struct IssuedToken {
  std::string token, expiresAt;  // expiresAt empty: never expires
};
IssuedToken issueToken(landuse::Store& store, const std::string& user, const std::string& role, int days,
                       const std::string& actor);

}  // namespace twin::viewer
