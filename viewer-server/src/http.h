#pragma once
// The viewer-server's HTTP/1.1 server (not installed), on Boost.Beast and Asio: a few event-loop
// threads (one io_context each) read requests with Beast's parser, answer the cheap ones (static
// files from memory) on the loop itself and hand the rest (the API, which waits on the store) to
// a pool of worker threads. A connection holds no thread while it waits, so hundreds of
// keep-alive clients cost memory, not threads. Beast stays inside http.cpp: this header is all
// the rest of the server sees.
//
// Requests: GET, HEAD, POST, PUT, OPTIONS, DELETE with Content-Length bodies (chunked request
// bodies are refused with 411), pipelining answered in order, Expect: 100-continue, HTTP/1.0 and
// 1.1 keep-alive. Limits: 16 KB of request line + headers (431), 100 headers, the body limit
// (413, checked before the body is read), 10 s to send a whole request (408, slow clients
// cannot hold the server), 5 s idle keep-alive, 60 s for a client to take a response.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "twin/diagnostics.h"

namespace twin::viewer::http {

struct Request {
  std::string method, path, query, version, body, remoteAddr;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::multimap<std::string, std::string> params;            // query parameters, decoded
  std::smatch matches;                                       // the route's groups over `path`

  // First value of a header (name in any case), or "".
  std::string header(const std::string& name) const;
  bool hasHeader(const std::string& name) const;
  std::string param(const std::string& key) const;
  bool hasParam(const std::string& key) const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // A body shared with a cache instead of `body` (not copied per request): bytes
  // [sharedOffset, sharedOffset + sharedLength) of *shared.
  std::shared_ptr<const std::string> shared;
  size_t sharedOffset = 0, sharedLength = 0;
  bool compressible = false;  // text the server may gzip/brotli when the client accepts it

  void setHeader(const std::string& name, const std::string& value);
  void setContent(std::string content, const std::string& type);
  size_t bodySize() const { return shared ? sharedLength : body.size(); }
};

using Handler = std::function<void(const Request&, Response&)>;

// Routes matched in the order they were added; the whole path must match the pattern.
class Router {
 public:
  void get(const std::string& pattern, Handler h) { add("GET", pattern, std::move(h)); }
  void post(const std::string& pattern, Handler h) { add("POST", pattern, std::move(h)); }
  void put(const std::string& pattern, Handler h) { add("PUT", pattern, std::move(h)); }
  void add(const std::string& method, const std::string& pattern, Handler h);
  // True when a route took the request (HEAD uses the GET routes).
  bool dispatch(Request& req, Response& res) const;

 private:
  struct Route {
    std::string method;
    std::regex pattern;
    Handler handler;
  };
  std::vector<Route> routes_;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;     // 0: any free port
  int loops = 0;    // event-loop threads (0: one per core, at most 8)
  int workers = 0;  // threads for slow requests (0: 2 per core, at least 4)
  size_t maxBodyBytes = 20u << 20;
  int maxPerAddress = 0;  // open connections one client address may hold (0: no limit)
  const std::atomic<bool>* stop = nullptr;
  std::function<void(int port)> onListening;
};

struct Handlers {
  // On the event loop: answers cheap requests (returns true) or declines (false: sent to a
  // worker). Must not block.
  std::function<bool(Request&, Response&)> fast;
  // On a worker thread; exceptions become 500 JSON errors.
  Handler slow;
  // Every response, on the thread that made it, before it is sent (CORS, JSON error bodies).
  std::function<void(const Request&, Response&)> finish;
  // On a worker thread, for a request whose body is larger than 64 KB, before the body is read:
  // true lets it in; false refuses it with `res` (401 when left without a status), without
  // reading the body. Empty: every request is let in.
  std::function<bool(const Request&, Response&)> admit;
  // After a response is queued; bytes = body bytes sent.
  std::function<void(const Request&, const Response&, size_t bytes)> log;
};

// Runs until options.stop is set (requests in progress are finished and sent). Fails
// (serve-address, serve-listen) when it cannot listen.
Status run(const ServerOptions& options, const Handlers& handlers);

// The encoding to send a compressible body in ("br", "gzip" or "" for none), from Accept-Encoding.
std::string acceptedEncoding(const Request& req);
// `data` compressed as "br" or "gzip"; empty when compression failed.
std::string compress(const std::string& data, const std::string& encoding, bool fast);

// Percent-decoding ('+' as space when `plus`); false on a malformed escape.
bool decode(const std::string& in, std::string& out, bool plus);
// Parses a request line and headers (without the final blank line) into `req`: 0, or the status
// to refuse the request with (400, 431, 505, ...). What the event loop uses; exposed for tests
// and fuzzing.
int parseRequestHead(const std::string& head, Request& req);
std::string encodeComponent(const std::string& s);
// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool validUtf8(const std::string& s);
// `s` safe for one line of a log: control characters (and every byte of invalid UTF-8) as
// \xNN, backslashes and quotes escaped. Every log line that carries request data goes through it.
std::string escapeForLog(const std::string& s);

}  // namespace twin::viewer::http
