#pragma once
// Text helpers of the HTTP layer shared by http.cpp (Beast) and http_message.cpp (not installed).
#include <string>

namespace twin::viewer::http::detail {

std::string lower(std::string s);
// Case-insensitive equality with an ASCII literal.
bool iequals(const std::string& a, const char* b);
// True when the comma-separated header value holds `token` (any case).
bool hasToken(const std::string& value, const char* token);
// The reason phrase of a status ("Not Found").
const char* reason(int status);
// Now as an HTTP date (RFC 9110 IMF-fixdate), recomputed once a second.
const std::string& httpDate();
bool isTokenChar(char c);
// A request target of printable ASCII only.
bool validTarget(const std::string& t);
// A field value without NUL, CR, LF or other controls (tab allowed).
bool validFieldValue(const std::string& v);

}  // namespace twin::viewer::http::detail
