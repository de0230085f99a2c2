// The viewer-server's HTTP/1.1 server on Boost.Beast and Asio: event-loop threads (one
// io_context each) for connections and cheap requests, a worker pool for the API (see http.h).
// Beast parses requests (request line, fields, Content-Length, limits); what HTTP allows but a
// server behind a proxy must not (two Hosts, bytes past ASCII in the target, control characters
// in values, Transfer-Encoding) is refused here on top of it.
#include "http.h"

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "http_util.h"

namespace twin::viewer::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr size_t kMaxHead = 16 * 1024;
constexpr size_t kMaxHeaders = 100;
constexpr size_t kMaxBuffered = 1u << 20;  // bytes read ahead of the parser (pipelined requests)
constexpr auto kRequestTimeout = std::chrono::seconds(10);
constexpr auto kIdleTimeout = std::chrono::seconds(5);
constexpr auto kWriteTimeout = std::chrono::seconds(60);
constexpr auto kDrainTimeout = std::chrono::seconds(10);
constexpr auto kLingerTimeout = std::chrono::seconds(5);
// Bodies up to this size are read before the request is looked at; larger ones only once
// Handlers::admit (authentication) has let the request in.
constexpr size_t kAdmitAbove = 64 * 1024;

using Clock = std::chrono::steady_clock;

}  // namespace

using namespace detail;

namespace {

// The status to refuse a request with for an error of Beast's parser. `start` is the beginning
// of what was received (to tell an HTTP version we do not speak from garbage).
int statusFor(const error_code& ec, std::string_view start) {
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) return 431;
  if (ec == bhttp::error::body_limit) return 413;
  if (ec == bhttp::error::bad_version) {
    std::string_view line = start.substr(0, start.find("\r\n"));
    size_t sp = line.rfind(' ');
    std::string_view v = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    if (v.size() == 8 && v.substr(0, 5) == "HTTP/" && std::isdigit(static_cast<unsigned char>(v[5])) && v[6] == '.' &&
        std::isdigit(static_cast<unsigned char>(v[7])))
      return 505;
  }
  return 400;
}

// Our request from a head Beast has parsed, with the checks Beast leaves to the server: 0, or
// the status to refuse the request with.
int fromBeast(const bhttp::request_header<>& h, Request& req) {
  req.method = std::string(h.method_string());
  if (req.method.empty() || !std::all_of(req.method.begin(), req.method.end(), isTokenChar)) return 400;
  if (h.version() == 11)
    req.version = "HTTP/1.1";
  else if (h.version() == 10)
    req.version = "HTTP/1.0";
  else
    return 505;
  std::string target(h.target());
  if (target.empty() || target[0] != '/' || !validTarget(target)) return 400;
  size_t q = target.find('?');
  if (!decode(target.substr(0, q), req.path, false) || req.path.find('\0') != std::string::npos || !validUtf8(req.path))
    return 400;
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
  for (const auto& f : h) {
    if (req.headers.size() >= kMaxHeaders) return 431;
    std::string value(f.value());
    if (!validFieldValue(value)) return 400;  // NUL, CR, LF or other controls: smuggling attempts
    req.headers.emplace_back(lower(std::string(f.name_string())), std::move(value));
  }
  // Exactly one Host in HTTP/1.1, at most one in 1.0 (RFC 9112 3.2).
  size_t hosts = std::count_if(req.headers.begin(), req.headers.end(), [](auto& x) { return x.first == "host"; });
  if (hosts > 1 || (hosts == 0 && req.version == "HTTP/1.1")) return 400;
  return 0;
}

}  // namespace

int parseRequestHead(const std::string& head, Request& req) {
  bhttp::request_parser<bhttp::empty_body> p;
  p.eager(false);
  p.header_limit(kMaxHead);
  p.body_limit(std::numeric_limits<std::uint64_t>::max());
  std::string bytes = head + "\r\n\r\n";
  error_code ec;
  p.put(asio::buffer(bytes), ec);
  if (ec) return statusFor(ec, bytes);
  if (!p.is_header_done()) return 400;
  return fromBeast(p.get().base(), req);
}

namespace {

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

class Session;

// One event-loop thread: an io_context and the connections it serves. The registry comes
// before the io_context so that connections destroyed with the io_context's pending handlers
// can still leave it.
struct Loop {
  std::mutex mutex;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  asio::io_context ioc{1};
};

struct Server {
  const ServerOptions* options = nullptr;
  const Handlers* handlers = nullptr;
  Pool* pool = nullptr;
  std::atomic<int> connections{0};
  int maxConnections = 1000;
  std::atomic<bool> stopping{false};
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
  // Destroyed first: the acceptor, then the loops (with the connections they still hold).
  std::vector<std::unique_ptr<Loop>> loops;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> acceptRetry;
  size_t nextLoop = 0;

  void accept();
};

const std::string kUnavailable = "{\"error\":{\"status\":503,\"code\":\"unavailable\",\"message\":\"try again\"}}";

// One connection. Lives on its loop's thread; a worker holding a request keeps it alive (a
// shared_ptr) and posts the answer back to the loop.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server& sv, Loop& loop, tcp::socket socket, std::string remote)
      : sv_(sv),
        loop_(loop),
        socket_(std::move(socket)),
        timer_(loop.ioc),
        remote_(std::move(remote)),
        buffer_(kMaxBuffered) {}
  ~Session() {
    close();
    std::lock_guard<std::mutex> lock(loop_.mutex);
    loop_.sessions.erase(this);
  }

  void start() {
    {
      std::lock_guard<std::mutex> lock(loop_.mutex);
      loop_.sessions.emplace(this, weak_from_this());
    }
    if (sv_.stopping) return close();
    readHead();
  }

  // The server stops: a connection waiting for a request goes now; one with a request in
  // progress answers it first (with Connection: close).
  void stop() {
    stopping_ = true;
    if (phase_ == Phase::Idle || phase_ == Phase::Linger) close();
  }

 private:
  enum class Phase { Idle, Head, Body, Admit, Work, Write, Linger, Closed };

  // ---- reading a request ----

  void readHead() {
    if (stopping_ || sv_.stopping) return close();
    phase_ = Phase::Idle;
    admitted_ = false;
    parser_.emplace();
    parser_->eager(false);
    parser_->header_limit(kMaxHead);
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());  // checked against the head below
    readSomeHead();
  }

  void skipEmptyLines() {
    // A server SHOULD ignore empty lines before a request line (RFC 9112 2.2).
    while (buffer_.size() >= 2) {
      auto* p = static_cast<const char*>(buffer_.data().data());
      if (p[0] != '\r' || p[1] != '\n') break;
      buffer_.consume(2);
    }
  }

  void readSomeHead() {
    if (phase_ == Phase::Idle) skipEmptyLines();
    if (phase_ == Phase::Idle && buffer_.size() > 0) startRequest();
    if (phase_ == Phase::Idle) deadline(Clock::now() + kIdleTimeout);
    bhttp::async_read_some(socket_, buffer_, *parser_,
                           [self = shared_from_this()](error_code ec, size_t) { self->onHead(ec); });
  }

  void startRequest() {
    phase_ = Phase::Head;
    deadline(Clock::now() + kRequestTimeout);
  }

  void onHead(error_code ec) {
    if (phase_ == Phase::Closed) return;
    if (ec) return readFailed(ec, "incomplete request");
    if (phase_ == Phase::Idle) startRequest();  // a head arrived (Beast completes a read once it has one)
    if (!parser_->is_header_done()) return readSomeHead();
    Request req;
    req.remoteAddr = remote_;
    int bad = fromBeast(parser_->get().base(), req);
    if (bad)
      return refuse(bad, bad == 505 ? "HTTP/1.0 or 1.1 only" : bad == 431 ? "too many headers" : "malformed request");
    if (req.hasHeader("transfer-encoding"))
      return refuse(411, "chunked request bodies are not accepted: send Content-Length", &req);
    uint64_t length = parser_->content_length().value_or(0);
    if (length > sv_.options->maxBodyBytes) return refuse(413, "request too large", &req);
    if (length > kAdmitAbove && sv_.handlers->admit) return admit(std::move(req));
    readBody(std::move(req));
  }

  // Authentication before a large body is read: the head goes to a worker (the check may ask the
  // store); nothing more is read until it answers.
  void admit(Request req) {
    phase_ = Phase::Admit;
    cancelDeadline();
    auto self = shared_from_this();
    auto guard = asio::make_work_guard(loop_.ioc);
    const Handlers& h = *sv_.handlers;
    sv_.pool->post([self, guard, req = std::move(req), &h]() mutable {
      auto res = std::make_shared<Response>();
      res->status = 0;
      try {
        if (!h.admit(req, *res) && res->status == 0) res->status = 401;
      } catch (const std::exception&) {
        *res = Response{};
        res->status = 503;
        res->setContent(kUnavailable, "application/json");
      }
      asio::post(self->loop_.ioc,
                 [self, req = std::move(req), res]() mutable { self->onAdmitted(std::move(req), *res); });
    });
  }

  void onAdmitted(Request req, Response& res) {
    if (phase_ == Phase::Closed) return;
    if (res.status == 0 && stopping_) {  // the server began to stop meanwhile
      res = Response{};
      res.status = 503;
      res.setContent("{\"error\":{\"status\":503,\"code\":\"unavailable\",\"message\":\"the server is stopping\"}}",
                     "application/json");
    }
    if (res.status != 0) {  // refused before its body was read: the rest is drained, not kept
      closeAfter_ = true;
      return respond(req, res);
    }
    admitted_ = true;
    phase_ = Phase::Head;
    deadline(Clock::now() + kRequestTimeout);
    readBody(std::move(req));
  }

  void readBody(Request req) {
    if (parser_->is_done()) return onBody(std::move(req), {});
    phase_ = Phase::Body;
    uint64_t length = parser_->content_length().value_or(0);
    parser_->body_limit(length);
    parser_->eager(true);
    auto self = shared_from_this();
    auto read = [self, req = std::move(req)]() mutable {
      bhttp::async_read(
          self->socket_, self->buffer_, *self->parser_,
          [self, req = std::move(req)](error_code ec, size_t) mutable { self->onBody(std::move(req), ec); });
    };
    if (hasToken(req.header("expect"), "100-continue") && buffer_.size() < length) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(socket_, asio::buffer(kContinue),
                        [self, read = std::move(read)](error_code ec, size_t) mutable {
                          if (ec || self->phase_ == Phase::Closed) return self->close();
                          read();
                        });
      return;
    }
    read();
  }

  void onBody(Request req, error_code ec) {
    if (phase_ == Phase::Closed) return;
    if (ec) return readFailed(ec, "incomplete request body", &req);
    cancelDeadline();
    req.body = std::move(parser_->get().body());
    handle(std::move(req));
  }

  void readFailed(error_code ec, const char* incomplete, const Request* about = nullptr) {
    if (ec == asio::error::operation_aborted && timedOut_) {
      timedOut_ = false;
      if (phase_ == Phase::Idle) return close();  // an idle keep-alive connection
      return refuse(408, "the request took too long to arrive", about);
    }
    if (ec == bhttp::error::end_of_stream && phase_ == Phase::Idle) return close();  // the client is done
    if (ec == bhttp::error::partial_message || ec == bhttp::error::end_of_stream) return refuse(400, incomplete, about);
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
      auto d = buffer_.data();
      int status = statusFor(ec, std::string_view(static_cast<const char*>(d.data()), d.size()));
      return refuse(status,
                    status == 505   ? "HTTP/1.0 or 1.1 only"
                    : status == 431 ? "request line and headers over 16 KB"
                                    : "malformed request",
                    about);
    }
    close();  // the connection failed
  }

  // ---- answering ----

  void handle(Request req) {
    const Handlers& h = *sv_.handlers;
    Response res;
    if (h.fast && h.fast(req, res)) return respond(req, res);
    phase_ = Phase::Work;
    auto self = shared_from_this();
    auto guard = asio::make_work_guard(loop_.ioc);
    sv_.pool->post([self, guard, req = std::move(req), &h]() mutable {
      auto res = std::make_shared<Response>();
      try {
        h.slow(req, *res);
      } catch (const std::exception& e) {
        *res = Response{};
        res->status = 500;
        res->setContent("{\"error\":{\"status\":500,\"code\":\"internal\",\"message\":\"internal error\"}}",
                        "application/json");
        std::fprintf(stderr, "twin serve: %s %s: %s\n", escapeForLog(req.method).c_str(),
                     escapeForLog(req.path).c_str(), escapeForLog(e.what()).c_str());
      }
      if (res->compressible && !res->shared && res->body.size() > 1024) {
        std::string enc = acceptedEncoding(req);
        if (!enc.empty()) {
          std::string z = compress(res->body, enc, true);
          if (!z.empty()) {
            res->body = std::move(z);
            res->setHeader("Content-Encoding", enc);
          }
        }
        res->setHeader("Vary", "Accept-Encoding");
      }
      asio::post(self->loop_.ioc, [self, req = std::move(req), res]() mutable { self->respond(req, *res); });
    });
  }

  void refuse(int status, const std::string& message, const Request* about = nullptr) {
    Request req;
    if (about) req.method = about->method, req.path = about->path;
    req.version = "HTTP/1.1";
    req.remoteAddr = remote_;
    Response res;
    res.status = status;
    res.setContent("{\"error\":{\"status\":" + std::to_string(status) + ",\"code\":\"" +
                       (status == 413   ? "too-large"
                        : status == 408 ? "timeout"
                                        : "bad-request") +
                       "\",\"message\":\"" + message + "\"}}",
                   "application/json; charset=utf-8");
    closeAfter_ = true;
    respond(req, res);
  }

  void respond(const Request& req, Response& res) {
    if (phase_ == Phase::Closed) return;
    if (sv_.handlers->finish) sv_.handlers->finish(req, res);
    bool keep = !closeAfter_ && !stopping_;
    std::string connection = req.header("connection");
    if (req.version == "HTTP/1.0")
      keep = keep && hasToken(connection, "keep-alive");
    else
      keep = keep && !hasToken(connection, "close");
    closeAfter_ = !keep;

    out_.emplace();
    res_ = std::move(res);
    auto& m = *out_;
    m.version(11);
    m.result(static_cast<unsigned>(res_.status));
    m.reason(reason(res_.status));
    m.set(bhttp::field::date, httpDate());
    for (auto& [k, v] : res_.headers) m.insert(k, v);
    bool bodyless = res_.status == 204 || res_.status == 304 || res_.status < 200;
    size_t n = res_.bodySize();
    if (!bodyless) m.content_length(n);
    if (!keep)
      m.set(bhttp::field::connection, "close");
    else if (req.version == "HTTP/1.0")
      m.set(bhttp::field::connection, "keep-alive");
    const char* data = res_.shared ? res_.shared->data() + res_.sharedOffset : res_.body.data();
    bool withBody = !bodyless && req.method != "HEAD" && n > 0;
    m.body() = boost::beast::span<const char>(data, withBody ? n : 0);
    if (sv_.handlers->log) sv_.handlers->log(req, res_, req.method == "HEAD" || bodyless ? 0 : n);

    phase_ = Phase::Write;
    deadline(Clock::now() + kWriteTimeout);
    sr_.emplace(m);
    auto self = shared_from_this();
    auto done = [self](error_code ec, size_t) { self->onWritten(ec); };
    if (withBody)
      bhttp::async_write(socket_, *sr_, std::move(done));
    else
      bhttp::async_write_header(socket_, *sr_, std::move(done));
  }

  void onWritten(error_code ec) {
    if (phase_ == Phase::Closed) return;
    cancelDeadline();
    sr_.reset();
    out_.reset();
    res_ = Response{};
    if (ec) return close();
    if (!closeAfter_) return readHead();
    // Closing with unread input would reset the connection and could destroy the response
    // before the client reads it (a refused upload still being sent): shut our side and read
    // until the client closes, for a few seconds at most.
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    phase_ = Phase::Linger;
    deadline(Clock::now() + kLingerTimeout);
    linger();
  }

  void linger() {
    socket_.async_read_some(asio::buffer(drain_), [self = shared_from_this()](error_code ec, size_t) {
      if (ec || self->phase_ == Phase::Closed) return self->close();
      self->linger();
    });
  }

  // ---- time limits ----

  void deadline(Clock::time_point at) {
    ++timerGeneration_;
    timedOut_ = false;
    timer_.expires_at(at);
    timer_.async_wait([self = shared_from_this(), gen = timerGeneration_](error_code ec) {
      if (ec || gen != self->timerGeneration_ || self->phase_ == Phase::Closed) return;
      if (self->phase_ == Phase::Idle && (self->buffer_.size() > 0 || self->parser_->got_some())) {
        // Not idle: a request began to arrive (Beast's read waits for the whole head). It gets
        // the rest of its 10 s, counted from when the connection became idle.
        self->phase_ = Phase::Head;
        self->deadline(Clock::now() + (kRequestTimeout - kIdleTimeout));
        return;
      }
      if (self->phase_ == Phase::Idle || self->phase_ == Phase::Head || self->phase_ == Phase::Body) {
        self->timedOut_ = true;  // the read ends with operation_aborted: 408 or a quiet close
        error_code ignored;
        self->socket_.cancel(ignored);
      } else {
        self->close();  // a client that does not take its response, or a lingering one
      }
    });
  }

  void cancelDeadline() {
    ++timerGeneration_;
    timedOut_ = false;
    timer_.cancel();
  }

  void close() {
    if (phase_ == Phase::Closed) return;
    phase_ = Phase::Closed;
    error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
    --sv_.connections;
    sv_.releaseAddress(remote_);
  }

  Server& sv_;
  Loop& loop_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  uint64_t timerGeneration_ = 0;
  std::string remote_;
  boost::beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Response res_;
  std::optional<bhttp::response<bhttp::span_body<const char>>> out_;
  std::optional<bhttp::response_serializer<bhttp::span_body<const char>>> sr_;
  std::array<char, 4096> drain_{};
  Phase phase_ = Phase::Idle;
  bool closeAfter_ = false, stopping_ = false, timedOut_ = false, admitted_ = false;
};

void Server::accept() {
  Loop& loop = *loops[nextLoop++ % loops.size()];
  acceptor->async_accept(loop.ioc, [this, &loop](error_code ec, tcp::socket socket) {
    if (stopping || !acceptor->is_open()) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      // Out of descriptors or memory: wait a little rather than spin.
      acceptRetry->expires_after(std::chrono::milliseconds(50));
      acceptRetry->async_wait([this](error_code e) {
        if (!e) accept();
      });
      return;
    }
    error_code e;
    auto ep = socket.remote_endpoint(e);
    std::string remote = e ? std::string() : ep.address().to_string();
    if (connections.load() >= maxConnections) {
      socket.close(e);  // over the limit: refused rather than starving the others
    } else if (!takeAddress(remote)) {
      socket.close(e);  // this address holds its share already: one client cannot take them all
    } else {
      ++connections;
      socket.set_option(tcp::no_delay(true), e);
      auto s = std::make_shared<Session>(*this, loop, std::move(socket), std::move(remote));
      asio::post(loop.ioc, [s] { s->start(); });
    }
    accept();
  });
}

}  // namespace

// ---- run ----------------------------------------------------------------------------------------

Status run(const ServerOptions& options, const Handlers& handlers) {
  int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  int nloops = options.loops > 0 ? options.loops : std::min(cores, 8);
  int workers = options.workers > 0 ? options.workers : std::max(4, 2 * cores);
  Server sv;
  sv.options = &options;
  sv.handlers = &handlers;
  for (int i = 0; i < nloops; ++i) sv.loops.push_back(std::make_unique<Loop>());
  asio::io_context& first = sv.loops[0]->ioc;
  std::string service = std::to_string(options.port);
  {
    error_code ec;
    tcp::resolver resolver(first);
    auto endpoints = resolver.resolve(options.host.empty() ? "0.0.0.0" : options.host, service,
                                      tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || endpoints.empty()) {
      return Status::failure("serve-address", "cannot resolve " + options.host);
    }
    for (const auto& entry : endpoints) {
      tcp::acceptor a(first);
      a.open(entry.endpoint().protocol(), ec);
      if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) a.bind(entry.endpoint(), ec);
      if (!ec) a.listen(1024, ec);
      if (ec) continue;
      sv.acceptor.emplace(std::move(a));
      break;
    }
    if (!sv.acceptor) {
      return Status::failure("serve-listen", "cannot listen on " + options.host + ":" + service + ": " + ec.message());
    }
  }
  sv.acceptRetry.emplace(first);
  // As many connections as the descriptor limit allows (raised to the hard limit), less a reserve
  // for files and the store.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    if (rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, 65536);
      setrlimit(RLIMIT_NOFILE, &rl);
      getrlimit(RLIMIT_NOFILE, &rl);
    }
    sv.maxConnections = int(std::max<rlim_t>(16, std::min<rlim_t>(rl.rlim_cur, 65536) - 64));
  }
  int port = sv.acceptor->local_endpoint().port();
  {
    // The pool goes before the loops: a worker's answer holds its loop's io_context.
    Pool pool(workers);
    sv.pool = &pool;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
    for (auto& l : sv.loops) guards.push_back(asio::make_work_guard(l->ioc));
    if (options.onListening) options.onListening(port);
    sv.accept();
    std::atomic<int> running{nloops};
    std::vector<std::thread> threads;
    for (auto& l : sv.loops)
      threads.emplace_back([&l, &running] {
        for (;;) {
          try {
            l->ioc.run();
            break;
          } catch (const std::exception& e) {
            std::fprintf(stderr, "twin serve: %s\n", escapeForLog(e.what()).c_str());
          }
        }
        --running;
      });
    if (options.stop) {
      while (!options.stop->load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      // Stop accepting; idle connections go now, requests in progress are answered first.
      sv.stopping = true;
      asio::post(first, [&sv] {
        error_code ignored;
        sv.acceptor->close(ignored);
        sv.acceptRetry->cancel();
      });
      for (auto& l : sv.loops)
        asio::post(l->ioc, [&l] {
          std::vector<std::shared_ptr<Session>> open;
          {
            std::lock_guard<std::mutex> lock(l->mutex);
            for (auto& [p, w] : l->sessions)
              if (auto s = w.lock()) open.push_back(std::move(s));
          }
          for (auto& s : open) s->stop();
        });
      guards.clear();
      auto until = Clock::now() + kDrainTimeout;
      while (running.load() > 0 && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      for (auto& l : sv.loops) l->ioc.stop();
    }
    for (auto& t : threads) t.join();
  }
  return done();
}

}  // namespace twin::viewer::http
