// The HTTP layer's plain parts (no Beast here): requests, responses and routes, percent-coding,
// UTF-8 and log escaping, compression, and the small text helpers the server uses (http_util.h).
#include <brotli/encode.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <mutex>

#include "http.h"
#include "http_util.h"

namespace twin::viewer::http {

namespace detail {

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
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 416:
      return "Range Not Satisfiable";
    case 422:
      return "Unprocessable Content";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return status < 300 ? "OK" : status < 400 ? "Redirect" : status < 500 ? "Client Error" : "Server Error";
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

}  // namespace detail

using namespace detail;

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
      auto hex = [](char h) {
        return h >= '0' && h <= '9'   ? h - '0'
               : h >= 'a' && h <= 'f' ? h - 'a' + 10
               : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                      : -1;
      };
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
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out += char(c);
    else
      out += '%', out += hex[c >> 4], out += hex[c & 15];
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
                               reinterpret_cast<const uint8_t*>(data.data()), &n,
                               reinterpret_cast<uint8_t*>(out.data())))
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

}  // namespace twin::viewer::http
