// The viewer-server's HTTP/1.1 server: epoll event loops for connections and cheap requests, a
// worker pool for the API (see http.h).
#include "http.h"

#include <arpa/inet.h>
#include <brotli/encode.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace twin::viewer::http {

namespace {

constexpr size_t kMaxHead = 16 * 1024;
constexpr size_t kMaxHeaders = 100;
constexpr size_t kMaxPendingOut = 1u << 20;  // stop reading pipelined requests above this
constexpr auto kRequestTimeout = std::chrono::seconds(10);
constexpr auto kIdleTimeout = std::chrono::seconds(5);
constexpr auto kWriteTimeout = std::chrono::seconds(60);
constexpr auto kDrainTimeout = std::chrono::seconds(10);
constexpr auto kLingerTimeout = std::chrono::seconds(5);
// Bodies up to this size are read before the request is looked at; larger ones only once
// Handlers::admit (authentication) has let the request in.
constexpr size_t kAdmitAbove = 64 * 1024;

using Clock = std::chrono::steady_clock;

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool iequals(const std::string& a, const char* b) {
  size_t n = std::strlen(b);
  if (a.size() != n) return false;
  for (size_t i = 0; i < n; ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// Whether a comma-separated header value holds `token` (case-insensitive).
bool hasToken(const std::string& value, const char* token) {
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t e = value.find(',', pos);
    if (e == std::string::npos) e = value.size();
    size_t a = pos, b = e;
    while (a < b && (value[a] == ' ' || value[a] == '\t')) ++a;
    while (b > a && (value[b - 1] == ' ' || value[b - 1] == '\t')) --b;
    if (iequals(value.substr(a, b - a), token)) return true;
    pos = e + 1;
  }
  return false;
}

const char* reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 416: return "Range Not Satisfiable";
    case 422: return "Unprocessable Content";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return status < 300 ? "OK" : status < 400 ? "Redirect" : status < 500 ? "Client Error" : "Server Error";
  }
}

// "Date:" value, formatted once a second per thread.
const std::string& httpDate() {
  thread_local time_t last = 0;
  thread_local std::string value;
  time_t now = time(nullptr);
  if (now != last) {
    last = now;
    std::tm tm{};
    gmtime_r(&now, &tm);
    char b[64];
    std::strftime(b, sizeof b, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    value = b;
  }
  return value;
}

bool isTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// A request target: visible ASCII only (RFC 9112 3.2; bytes above 0x7e come percent-encoded).
bool validTarget(const std::string& t) {
  return std::all_of(t.begin(), t.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// A field value (RFC 9110 5.5): visible characters, spaces, tabs and obs-text; never CR, LF, NUL
// or other control characters, which some front ends read as line ends (request smuggling).
bool validFieldValue(const std::string& v) {
  return std::all_of(v.begin(), v.end(), [](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
  });
}

}  // namespace

bool validUtf8(const std::string& s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (len == 0 || i + len > n) return false;
    uint32_t cp = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
    for (int k = 1; k < len; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    // overlong forms, surrogates, beyond U+10FFFF
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

std::string escapeForLog(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  const bool utf8 = validUtf8(s);
  for (unsigned char c : s) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20 || c == 0x7f || (!utf8 && c >= 0x80)) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else {
      out += char(c);
    }
  }
  return out;
}

int parseRequestHead(const std::string& head, Request& req) {
  size_t eol = head.find("\r\n");
  std::string line = head.substr(0, eol);
  if (line.find('\n') != std::string::npos || line.find('\r') != std::string::npos) return 400;
  size_t s1 = line.find(' '), s2 = line.rfind(' ');
  if (s1 == std::string::npos || s2 == s1) return 400;
  req.method = line.substr(0, s1);
  std::string target = line.substr(s1 + 1, s2 - s1 - 1);
  req.version = line.substr(s2 + 1);
  if (req.method.empty() || !std::all_of(req.method.begin(), req.method.end(), isTokenChar)) return 400;
  if (req.version != "HTTP/1.1" && req.version != "HTTP/1.0") return req.version.rfind("HTTP/", 0) == 0 ? 505 : 400;
  if (target.empty() || target[0] != '/' || !validTarget(target)) return 400;
  size_t q = target.find('?');
  std::string rawPath = target.substr(0, q);
  if (!decode(rawPath, req.path, false) || req.path.find('\0') != std::string::npos || !validUtf8(req.path)) return 400;
  if (q != std::string::npos) {
    req.query = target.substr(q + 1);
    size_t pos = 0;
    while (pos <= req.query.size()) {
      size_t e = req.query.find('&', pos);
      if (e == std::string::npos) e = req.query.size();
      std::string kv = req.query.substr(pos, e - pos);
      pos = e + 1;
      if (kv.empty()) continue;
      size_t eq = kv.find('=');
      std::string k, v;
      if (!decode(kv.substr(0, eq), k, true) || !validUtf8(k)) return 400;
      if (eq != std::string::npos && (!decode(kv.substr(eq + 1), v, true) || !validUtf8(v))) return 400;
      req.params.emplace(std::move(k), std::move(v));
    }
  }
  size_t pos = eol == std::string::npos ? head.size() : eol + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    std::string h = head.substr(pos, e - pos);
    pos = e + 2;
    if (h.empty()) continue;
    if (h[0] == ' ' || h[0] == '\t') return 400;  // obsolete line folding
    size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) return 400;
    std::string name = h.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), isTokenChar)) return 400;
    size_t a = colon + 1, b = h.size();
    while (a < b && (h[a] == ' ' || h[a] == '\t')) ++a;
    while (b > a && (h[b - 1] == ' ' || h[b - 1] == '\t')) --b;
    std::string value = h.substr(a, b - a);
    if (!validFieldValue(value)) return 400;  // a bare LF, CR or NUL inside a line: smuggling
    if (req.headers.size() >= kMaxHeaders) return 431;
    req.headers.emplace_back(lower(std::move(name)), std::move(value));
  }
  // Exactly one Host in HTTP/1.1, at most one in 1.0 (RFC 9112 3.2).
  size_t hosts = std::count_if(req.headers.begin(), req.headers.end(), [](auto& h) { return h.first == "host"; });
  if (hosts > 1 || (hosts == 0 && req.version == "HTTP/1.1")) return 400;
  return 0;
}

namespace {

struct Chunk {
  std::string own;
  std::shared_ptr<const std::string> shared;
  size_t offset = 0, length = 0;
  const char* data() const { return (shared ? shared->data() : own.data()) + offset; }
};

struct Conn {
  uint64_t id = 0;
  int fd = -1;
  std::string remote;
  std::string in;
  std::deque<Chunk> out;
  size_t outBytes = 0;
  bool busy = false;        // a worker has its request
  bool closeAfter = false;  // close once `out` is sent
  bool eof = false;         // the client has finished sending
  bool sent100 = false;
  bool lingering = false;   // response sent and our side shut: reading what the client still sends
  bool admitted = false;    // the request whose body is being read passed Handlers::admit
  uint32_t events = 0;
  Clock::time_point requestStart, lastActive, lastWrite;
};

struct Done {
  uint64_t id;
  Request req;
  Response res;
  bool admission = false;  // the answer of Handlers::admit for a request head (res.status 0: admitted)
};

class Pool {
 public:
  explicit Pool(int n) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { work(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void post(std::function<void()> f) {
    {
      std::lock_guard<std::mutex> lock(m_);
      q_.push_back(std::move(f));
    }
    cv_.notify_one();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> f;
      {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [&] { return stopping_ || !q_.empty(); });
        if (q_.empty()) return;
        f = std::move(q_.front());
        q_.pop_front();
      }
      f();
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

struct Shared {
  const ServerOptions* options;
  const Handlers* handlers;
  int listener = -1;
  std::atomic<uint64_t> nextId{16};
  std::atomic<int> connections{0};
  int maxConnections = 1000;
  // Open connections per client address (all loops), against ServerOptions::maxPerAddress.
  std::mutex perAddressMutex;
  std::unordered_map<std::string, int> perAddress;
  bool takeAddress(const std::string& a) {
    if (options->maxPerAddress <= 0) return true;
    std::lock_guard<std::mutex> lock(perAddressMutex);
    int& n = perAddress[a];
    if (n >= options->maxPerAddress) {
      if (n == 0) perAddress.erase(a);
      return false;
    }
    ++n;
    return true;
  }
  void releaseAddress(const std::string& a) {
    if (options->maxPerAddress <= 0) return;
    std::lock_guard<std::mutex> lock(perAddressMutex);
    auto it = perAddress.find(a);
    if (it != perAddress.end() && --it->second <= 0) perAddress.erase(it);
  }
  Pool* pool = nullptr;
};

class Loop {
 public:
  explicit Loop(Shared& sh) : sh_(sh) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = 1;
    epoll_ctl(ep_, EPOLL_CTL_ADD, wake_, &ev);
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.u64 = 0;
    epoll_ctl(ep_, EPOLL_CTL_ADD, sh_.listener, &ev);
  }
  ~Loop() {
    for (auto& [id, c] : conns_)
      if (c->fd >= 0) ::close(c->fd), --sh_.connections;
    ::close(wake_);
    ::close(ep_);
  }

  void run() {
    epoll_event events[256];
    bool draining = false;
    Clock::time_point drainStart, lastSweep = Clock::now();
    for (;;) {
      int timeout = sh_.options->stop ? 200 : 1000;
      int n = epoll_wait(ep_, events, 256, timeout);
      if (n < 0 && errno != EINTR) break;
      now_ = Clock::now();
      for (int i = 0; i < n; ++i) {
        uint64_t key = events[i].data.u64;
        if (key == 0) {
          if (!draining) accept();
        } else if (key == 1) {
          uint64_t v;
          while (::read(wake_, &v, sizeof v) > 0) {
          }
          finishDone();
        } else {
          auto it = conns_.find(key);
          if (it == conns_.end()) continue;
          onEvent(*it->second, events[i].events);
        }
      }
      if (!draining && sh_.options->stop && sh_.options->stop->load()) {
        draining = true;
        drainStart = now_;
        epoll_ctl(ep_, EPOLL_CTL_DEL, sh_.listener, nullptr);
        // Idle connections go now; those with a request in progress finish it first.
        std::vector<uint64_t> idle;
        for (auto& [id, c] : conns_)
          if (!c->busy && c->out.empty()) idle.push_back(id);
          else c->closeAfter = true;
        for (auto id : idle) close(*conns_[id]);
        reap();
      }
      if (now_ - lastSweep >= std::chrono::seconds(1)) {
        lastSweep = now_;
        sweep();
      }
      reap();
      if (draining && (conns_.empty() || now_ - drainStart > kDrainTimeout)) break;
    }
  }

  // From a worker: the response to connection `id`.
  void post(Done d) {
    {
      std::lock_guard<std::mutex> lock(doneMutex_);
      done_.push_back(std::move(d));
    }
    uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(wake_, &one, sizeof one);
  }

 private:
  void accept() {
    for (int i = 0; i < 64; ++i) {
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      int fd = accept4(sh_.listener, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      if (sh_.connections.load() >= sh_.maxConnections) {
        ::close(fd);  // over the limit: refused rather than starving the others
        continue;
      }
      char host[INET6_ADDRSTRLEN] = "";
      if (addr.ss_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, host, sizeof host);
      else if (addr.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, host, sizeof host);
      if (!sh_.takeAddress(host)) {
        ::close(fd);  // this address holds its share already: one client cannot take them all
        continue;
      }
      ++sh_.connections;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<Conn>();
      c->id = sh_.nextId++;
      c->fd = fd;
      c->remote = host;
      c->lastActive = c->lastWrite = now_;
      epoll_event ev{};
      ev.events = c->events = EPOLLIN | EPOLLRDHUP;
      ev.data.u64 = c->id;
      if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        ::close(fd);
        --sh_.connections;
        sh_.releaseAddress(c->remote);
        continue;
      }
      conns_.emplace(c->id, std::move(c));
    }
  }

  void onEvent(Conn& c, uint32_t ev) {
    if (c.fd < 0) return;  // closed earlier in this round
    if (ev & (EPOLLERR)) return close(c);
    if (ev & EPOLLOUT) {
      if (!flush(c)) return;
    }
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
      if (!readIn(c)) return;
      if (!c.lingering) process(c);
    }
    update(c);
  }

  // Reads what the socket has. False when the connection was closed.
  bool readIn(Conn& c) {
    char buf[65536];
    for (;;) {
      ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
      if (r > 0) {
        if (c.lingering) continue;  // the rest of a refused request: dropped
        if (c.in.empty()) c.requestStart = now_;
        c.in.append(buf, size_t(r));
        c.lastActive = now_;
        if (c.in.size() > kMaxHead + sh_.options->maxBodyBytes + 4) break;  // process() refuses it
        // A large body waits in the kernel until its request was admitted (Handlers::admit).
        if (!c.admitted && c.in.size() > kAdmitAbove && sh_.handlers->admit) {
          size_t he = c.in.find("\r\n\r\n");
          if (he != std::string::npos && c.in.size() > he + 4 + kAdmitAbove) break;
        }
        continue;
      }
      if (r == 0) {
        c.eof = true;
        if (c.lingering || (!c.busy && c.out.empty() && c.in.empty())) {
          close(c);
          return false;
        }
        break;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      close(c);
      return false;
    }
    return true;
  }

  // Answers the complete requests in `c.in`, in order.
  void process(Conn& c) {
    while (c.fd >= 0 && !c.busy && !c.closeAfter && c.outBytes < kMaxPendingOut) {
      while (c.in.size() >= 2 && c.in[0] == '\r' && c.in[1] == '\n') c.in.erase(0, 2);  // stray CRLFs
      size_t he = c.in.find("\r\n\r\n");
      if (he == std::string::npos) {
        if (c.in.size() > kMaxHead) refuse(c, 431, "request line and headers over 16 KB");
        else if (c.eof && !c.in.empty()) refuse(c, 400, "incomplete request");
        else if (c.eof) c.closeAfter = true;
        break;
      }
      if (he + 4 > kMaxHead) {
        refuse(c, 431, "request line and headers over 16 KB");
        break;
      }
      Request req;
      req.remoteAddr = c.remote;
      int bad = parseRequestHead(c.in.substr(0, he), req);
      if (bad) {
        refuse(c, bad, bad == 505 ? "HTTP/1.0 or 1.1 only" : bad == 431 ? "too many headers" : "malformed request");
        break;
      }
      if (req.hasHeader("transfer-encoding")) {
        refuse(c, 411, "chunked request bodies are not accepted: send Content-Length", &req);
        break;
      }
      size_t length = 0;
      std::string cl;
      bool seen = false;
      for (auto& [k, v] : req.headers)
        if (k == "content-length") {
          if (seen && cl != v) {
            refuse(c, 400, "conflicting Content-Length");
            return;
          }
          cl = v, seen = true;
        }
      if (seen) {
        if (cl.empty() || cl.size() > 15 ||
            !std::all_of(cl.begin(), cl.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
          refuse(c, 400, "malformed Content-Length");
          break;
        }
        length = std::stoull(cl);
      }
      if (length > sh_.options->maxBodyBytes) {
        refuse(c, 413, "request too large", &req);
        break;
      }
      if (length > kAdmitAbove && sh_.handlers->admit && !c.admitted) {
        // Authentication before a large body is read: the head goes to a worker (the check may
        // ask the store); reading stops until it answers.
        c.busy = true;
        uint64_t id = c.id;
        const auto& h = *sh_.handlers;
        sh_.pool->post([this, id, req = std::move(req), &h]() mutable {
          Response res;
          res.status = 0;
          try {
            if (!h.admit(req, res) && res.status == 0) res.status = 401;
          } catch (const std::exception&) {
            res = Response{};
            res.status = 503;
            res.setContent("{\"error\":{\"status\":503,\"code\":\"unavailable\",\"message\":\"try again\"}}",
                           "application/json");
          }
          post(Done{id, std::move(req), std::move(res), true});
        });
        break;
      }
      if (c.in.size() < he + 4 + length) {
        if (!c.sent100 && hasToken(req.header("expect"), "100-continue")) {
          c.sent100 = true;
          Chunk k;
          k.own = req.version + " 100 Continue\r\n\r\n";
          k.length = k.own.size();
          queue(c, std::move(k));
        }
        if (c.eof) refuse(c, 400, "incomplete request body");
        break;
      }
      req.body = c.in.substr(he + 4, length);
      c.in.erase(0, he + 4 + length);
      if (!c.in.empty()) c.requestStart = now_;
      c.sent100 = false;
      c.admitted = false;
      handle(c, std::move(req));
    }
  }

  void handle(Conn& c, Request req) {
    const auto& h = *sh_.handlers;
    Response res;
    if (h.fast && h.fast(req, res)) return respond(c, req, res);
    c.busy = true;
    uint64_t id = c.id;
    sh_.pool->post([this, id, req = std::move(req), &h]() mutable {
      Response res;
      try {
        h.slow(req, res);
      } catch (const std::exception& e) {
        res = Response{};
        res.status = 500;
        res.setContent(std::string("{\"error\":{\"status\":500,\"code\":\"internal\",\"message\":") + "\"internal error\"}}",
                       "application/json");
        std::fprintf(stderr, "twin serve: %s %s: %s\n", escapeForLog(req.method).c_str(), escapeForLog(req.path).c_str(),
                     escapeForLog(e.what()).c_str());
      }
      if (res.compressible && !res.shared && res.body.size() > 1024) {
        std::string enc = acceptedEncoding(req);
        if (!enc.empty()) {
          std::string z = compress(res.body, enc, true);
          if (!z.empty()) {
            res.body = std::move(z);
            res.setHeader("Content-Encoding", enc);
          }
        }
        res.setHeader("Vary", "Accept-Encoding");
      }
      post(Done{id, std::move(req), std::move(res)});
    });
  }

  void finishDone() {
    std::vector<Done> done;
    {
      std::lock_guard<std::mutex> lock(doneMutex_);
      done.swap(done_);
    }
    for (auto& d : done) {
      auto it = conns_.find(d.id);
      if (it == conns_.end()) continue;
      Conn& c = *it->second;
      c.busy = false;
      if (c.fd < 0) {  // closed while the worker ran
        dead_.push_back(d.id);
        continue;
      }
      if (d.admission) {
        if (d.res.status == 0 && c.closeAfter) {  // the server began to stop meanwhile
          d.res = Response{};
          d.res.status = 503;
          d.res.setContent("{\"error\":{\"status\":503,\"code\":\"unavailable\",\"message\":\"the server is stopping\"}}",
                           "application/json");
        }
        if (d.res.status == 0) {
          c.admitted = true;  // read the body now
        } else {
          c.closeAfter = true;  // refused before its body was read: the rest is drained, not kept
          c.in.clear();
          respond(c, d.req, d.res);
        }
        process(c);
        update(c);
        continue;
      }
      respond(c, d.req, d.res);
      process(c);
      update(c);
    }
  }

  void refuse(Conn& c, int status, const std::string& message, const Request* about = nullptr) {
    Request req;
    if (about) req.method = about->method, req.path = about->path;
    req.version = "HTTP/1.1";
    req.remoteAddr = c.remote;
    Response res;
    res.status = status;
    res.setContent("{\"error\":{\"status\":" + std::to_string(status) + ",\"code\":\"" +
                       (status == 413 ? "too-large" : status == 408 ? "timeout" : "bad-request") +
                       "\",\"message\":\"" + message + "\"}}",
                   "application/json; charset=utf-8");
    c.closeAfter = true;
    c.in.clear();
    respond(c, req, res);
  }

  void respond(Conn& c, const Request& req, Response& res) {
    if (sh_.handlers->finish) sh_.handlers->finish(req, res);
    bool keep = !c.closeAfter && !c.eof;
    std::string connection = req.header("connection");
    if (req.version == "HTTP/1.0") keep = keep && hasToken(connection, "keep-alive");
    else keep = keep && !hasToken(connection, "close");
    if (!keep) c.closeAfter = true;

    std::string head;
    head.reserve(256);
    head += "HTTP/1.1 ";
    head += std::to_string(res.status);
    head += ' ';
    head += reason(res.status);
    head += "\r\nDate: ";
    head += httpDate();
    head += "\r\n";
    for (auto& [k, v] : res.headers) {
      head += k;
      head += ": ";
      head += v;
      head += "\r\n";
    }
    bool bodyless = res.status == 204 || res.status == 304 || res.status < 200;
    size_t n = res.bodySize();
    if (!bodyless) {
      head += "Content-Length: ";
      head += std::to_string(n);
      head += "\r\n";
    }
    if (!keep) head += "Connection: close\r\n";
    else if (req.version == "HTTP/1.0") head += "Connection: keep-alive\r\n";
    head += "\r\n";
    bool withBody = !bodyless && req.method != "HEAD" && n > 0;
    if (withBody && !res.shared && res.body.size() < 16384) {
      head += res.body;  // one write for small responses
      withBody = false;
    }
    Chunk h;
    h.own = std::move(head);
    h.length = h.own.size();
    queue(c, std::move(h));
    if (withBody) {
      Chunk b;
      if (res.shared) {
        b.shared = res.shared;
        b.offset = res.sharedOffset;
        b.length = res.sharedLength;
      } else {
        b.own = std::move(res.body);
        b.length = b.own.size();
      }
      queue(c, std::move(b));
    }
    if (sh_.handlers->log) sh_.handlers->log(req, res, req.method == "HEAD" || bodyless ? 0 : n);
    flush(c);
  }

  void queue(Conn& c, Chunk k) {
    c.outBytes += k.length;
    c.out.push_back(std::move(k));
  }

  // Writes what the socket takes. False when the connection was closed.
  bool flush(Conn& c) {
    while (!c.out.empty()) {
      iovec iov[16];
      int n = 0;
      for (auto it = c.out.begin(); it != c.out.end() && n < 16; ++it, ++n)
        iov[n].iov_base = const_cast<char*>(it->data()), iov[n].iov_len = it->length;
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = size_t(n);
      ssize_t w = ::sendmsg(c.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
        close(c);
        return false;
      }
      c.lastWrite = c.lastActive = now_;
      size_t left = size_t(w);
      c.outBytes -= left;
      while (left > 0) {
        Chunk& f = c.out.front();
        if (left >= f.length) {
          left -= f.length;
          c.out.pop_front();
        } else {
          f.offset += left;
          f.length -= left;
          left = 0;
        }
      }
    }
    if (c.closeAfter && !c.busy && !c.lingering) {
      if (c.eof) {
        close(c);
        return false;
      }
      // Closing with unread input would reset the connection and could destroy the response
      // before the client reads it (a refused upload still being sent): shut our side and read
      // until the client closes, for a few seconds at most.
      ::shutdown(c.fd, SHUT_WR);
      c.lingering = true;
      c.lastActive = now_;
      c.in.clear();
    }
    return true;
  }

  void update(Conn& c) {
    if (c.fd < 0) return;
    uint32_t want = 0;
    if (c.lingering || (!c.busy && !c.closeAfter && !c.eof && c.outBytes < kMaxPendingOut)) want |= EPOLLIN | EPOLLRDHUP;
    if (!c.out.empty()) want |= EPOLLOUT;
    if (want == c.events) return;
    epoll_event ev{};
    ev.events = c.events = want;
    ev.data.u64 = c.id;
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  // Closes the socket. The connection object lives on until the end of the loop's round (callers
  // up the stack still hold it), or, while a worker has its request, until the answer arrives.
  void close(Conn& c) {
    if (c.fd >= 0) {
      epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
      c.fd = -1;
      --sh_.connections;
      sh_.releaseAddress(c.remote);
    }
    if (!c.busy) dead_.push_back(c.id);
  }

  void reap() {
    for (uint64_t id : dead_) {
      auto it = conns_.find(id);
      if (it != conns_.end() && it->second->fd < 0 && !it->second->busy) conns_.erase(it);
    }
    dead_.clear();
  }

  void sweep() {
    std::vector<uint64_t> expired, slow;
    for (auto& [id, c] : conns_) {
      if (c->fd < 0 || c->busy) continue;
      if (c->lingering) {
        if (now_ - c->lastActive > kLingerTimeout) expired.push_back(id);
      } else if (!c->out.empty()) {
        if (now_ - c->lastWrite > kWriteTimeout) expired.push_back(id);
      } else if (!c->in.empty()) {
        if (now_ - c->requestStart > kRequestTimeout) slow.push_back(id);
      } else if (now_ - c->lastActive > kIdleTimeout) {
        expired.push_back(id);
      }
    }
    for (auto id : expired) close(*conns_[id]);
    for (auto id : slow) {
      Conn& c = *conns_[id];
      refuse(c, 408, "the request took too long to arrive");
      update(c);
    }
  }

  Shared& sh_;
  int ep_ = -1, wake_ = -1;
  Clock::time_point now_ = Clock::now();
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::vector<uint64_t> dead_;  // closed this round: erased by reap()
  std::mutex doneMutex_;
  std::vector<Done> done_;
};

int listenOn(const std::string& host, int port, std::string& error) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  std::string service = std::to_string(port);
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res) != 0 || !res) {
    error = "cannot resolve " + host;
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = res; a; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 1024) == 0) break;
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) error = "cannot listen on " + host + ":" + service + ": " + std::strerror(errno);
  return fd;
}

}  // namespace

// ---- Request, Response, Router ------------------------------------------------------------------

std::string Request::header(const std::string& name) const {
  for (auto& [k, v] : headers)
    if (iequals(name, k.c_str())) return v;
  return {};
}
bool Request::hasHeader(const std::string& name) const {
  for (auto& [k, v] : headers)
    if (iequals(name, k.c_str())) return true;
  return false;
}
std::string Request::param(const std::string& key) const {
  auto it = params.find(key);
  return it == params.end() ? std::string() : it->second;
}
bool Request::hasParam(const std::string& key) const { return params.count(key) > 0; }

void Response::setHeader(const std::string& name, const std::string& value) {
  // Values with line breaks would split the response.
  if (value.find_first_of("\r\n") != std::string::npos || name.find_first_of("\r\n: ") != std::string::npos) return;
  for (auto& [k, v] : headers)
    if (iequals(k, name.c_str())) {
      v = value;
      return;
    }
  headers.emplace_back(name, value);
}

void Response::setContent(std::string content, const std::string& type) {
  body = std::move(content);
  shared.reset();
  setHeader("Content-Type", type);
  compressible = type.rfind("application/json", 0) == 0 || type.rfind("text/", 0) == 0 ||
                 type.rfind("application/geo+json", 0) == 0;
}

void Router::add(const std::string& method, const std::string& pattern, Handler h) {
  routes_.push_back({method, std::regex(pattern), std::move(h)});
}

bool Router::dispatch(Request& req, Response& res) const {
  const std::string& m = req.method == "HEAD" ? std::string("GET") : req.method;
  for (auto& r : routes_) {
    if (r.method != m) continue;
    if (std::regex_match(req.path, req.matches, r.pattern)) {
      r.handler(req, res);
      return true;
    }
  }
  return false;
}

// ---- helpers ------------------------------------------------------------------------------------

bool decode(const std::string& in, std::string& out, bool plus) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      auto hex = [](char h) { return h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1; };
      int a = hex(in[i + 1]), b = hex(in[i + 2]);
      if (a < 0 || b < 0) return false;
      out += char(a * 16 + b);
      i += 2;
    } else if (c == '+' && plus) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return true;
}

std::string encodeComponent(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += char(c);
    else out += '%', out += hex[c >> 4], out += hex[c & 15];
  }
  return out;
}

std::string acceptedEncoding(const Request& req) {
  std::string ae = req.header("accept-encoding");
  if (ae.empty()) return {};
  bool br = false, gzip = false;
  size_t pos = 0;
  while (pos <= ae.size()) {
    size_t e = ae.find(',', pos);
    if (e == std::string::npos) e = ae.size();
    std::string item = ae.substr(pos, e - pos);
    pos = e + 1;
    size_t semi = item.find(';');
    std::string name = item.substr(0, semi);
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    bool zero = false;
    if (semi != std::string::npos) {
      std::string p = item.substr(semi + 1);
      size_t q = p.find("q=");
      if (q != std::string::npos && std::strtod(p.c_str() + q + 2, nullptr) <= 0) zero = true;
    }
    if (zero) continue;
    if (iequals(name, "br")) br = true;
    if (iequals(name, "gzip")) gzip = true;
  }
  return br ? "br" : gzip ? "gzip" : "";
}

std::string compress(const std::string& data, const std::string& encoding, bool fast) {
  if (encoding == "br") {
    size_t n = BrotliEncoderMaxCompressedSize(data.size());
    if (n == 0) return {};
    std::string out(n, '\0');
    if (!BrotliEncoderCompress(fast ? 4 : 6, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, data.size(),
                               reinterpret_cast<const uint8_t*>(data.data()), &n, reinterpret_cast<uint8_t*>(out.data())))
      return {};
    out.resize(n);
    return out;
  }
  if (encoding != "gzip") return {};
  z_stream zs{};
  if (deflateInit2(&zs, fast ? 4 : 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out(deflateBound(&zs, uLong(data.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = uInt(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = uInt(out.size());
  int r = deflate(&zs, Z_FINISH);
  size_t n = zs.total_out;
  deflateEnd(&zs);
  if (r != Z_STREAM_END) return {};
  out.resize(n);
  return out;
}

// ---- run ----------------------------------------------------------------------------------------

int run(const ServerOptions& options, const Handlers& handlers, std::string& error) {
  Shared sh;
  sh.options = &options;
  sh.handlers = &handlers;
  sh.listener = listenOn(options.host, options.port, error);
  if (sh.listener < 0) return 1;
  // As many connections as the descriptor limit allows (raised to the hard limit), less a reserve
  // for files and the store.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    if (rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, 65536);
      setrlimit(RLIMIT_NOFILE, &rl);
      getrlimit(RLIMIT_NOFILE, &rl);
    }
    sh.maxConnections = int(std::max<rlim_t>(16, std::min<rlim_t>(rl.rlim_cur, 65536) - 64));
  }
  int port = options.port;
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(sh.listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  int loops = options.loops > 0 ? options.loops : std::min(cores, 8);
  int workers = options.workers > 0 ? options.workers : std::max(4, 2 * cores);
  {
    // Loops outlive the pool: workers still running when the loops stop post their answers to
    // loops that no longer read them, and the pool's destructor waits for those workers.
    std::vector<std::unique_ptr<Loop>> ls;
    for (int i = 0; i < loops; ++i) ls.push_back(std::make_unique<Loop>(sh));
    Pool pool(workers);
    sh.pool = &pool;
    if (options.onListening) options.onListening(port);
    std::vector<std::thread> threads;
    for (auto& l : ls) threads.emplace_back([&l] { l->run(); });
    for (auto& t : threads) t.join();
  }
  ::close(sh.listener);
  return 0;
}

}  // namespace twin::viewer::http
