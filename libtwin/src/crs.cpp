#include "twin/crs.h"

#include <proj.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <regex>
#include <vector>

#include "twin/fsutil.h"

namespace twin {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Extracts the EPSG code of a single-CRS reference, or empty.
std::string epsgCodeOf(std::string_view ref) {
  static const std::regex patterns[] = {
      std::regex(R"(^epsg:(\d+)$)"),
      std::regex(R"(^urn:ogc:def:crs:epsg:[0-9.]*:(\d+)$)"),
      std::regex(R"(^crs:epsg:[0-9.]*:(\d+)$)"),
      std::regex(R"(^https?://www\.opengis\.net/def/crs/epsg/[0-9.]+/(\d+)$)"),
      std::regex(R"(^https?://www\.opengis\.net/gml/srs/epsg\.xml#(\d+)$)"),
  };
  std::string s = lower(ref);
  std::smatch m;
  for (auto& re : patterns)
    if (std::regex_match(s, m, re)) return m[1].str();
  return {};
}

}  // namespace

std::optional<std::string> canonicalSrs(std::string_view srsNameIn) {
  std::string srsName(srsNameIn);
  // trim
  while (!srsName.empty() && std::isspace(static_cast<unsigned char>(srsName.back()))) srsName.pop_back();
  size_t b = 0;
  while (b < srsName.size() && std::isspace(static_cast<unsigned char>(srsName[b]))) ++b;
  srsName = srsName.substr(b);
  if (srsName.empty()) return std::nullopt;
  std::string s = lower(srsName);

  if (s.find_first_not_of("0123456789") == std::string::npos) return "EPSG:" + s;  // a bare code (--crs 6697)
  if (auto code = epsgCodeOf(s); !code.empty()) return "EPSG:" + code;

  // EPSG:a+b (PROJ's compound shorthand)
  {
    static const std::regex re(R"(^epsg:(\d+)\+(\d+)$)");
    std::smatch m;
    if (std::regex_match(s, m, re)) return "EPSG:" + m[1].str() + "+" + m[2].str();
  }
  // urn:ogc:def:crs,crs:EPSG::25832,crs:EPSG::5783
  if (s.rfind("urn:ogc:def:crs,", 0) == 0) {
    std::vector<std::string> codes;
    size_t pos = std::string("urn:ogc:def:crs,").size();
    while (pos < s.size()) {
      size_t comma = s.find(',', pos);
      std::string part = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      auto code = epsgCodeOf(part);
      if (code.empty()) return std::nullopt;
      codes.push_back(code);
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
    if (codes.size() == 1) return "EPSG:" + codes[0];
    if (codes.size() == 2) return "EPSG:" + codes[0] + "+" + codes[1];
    return std::nullopt;
  }
  // http://www.opengis.net/def/crs-compound?1=...&2=...
  if (s.find("opengis.net/def/crs-compound?") != std::string::npos) {
    static const std::regex re(R"(\d=([^&]+))");
    std::vector<std::string> codes;
    for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator(); ++it) {
      auto code = epsgCodeOf((*it)[1].str());
      if (code.empty()) return std::nullopt;
      codes.push_back(code);
    }
    if (codes.size() == 2) return "EPSG:" + codes[0] + "+" + codes[1];
    if (codes.size() == 1) return "EPSG:" + codes[0];
    return std::nullopt;
  }
  // German AdV: urn:adv:crs:ETRS89_UTM32*DE_DHHN92_NH, ETRS89_UTM33*DE_DHHN2016_NH, ETRS89_UTM32,
  // DE_DHDN_3GK4*DE_DHHN92_NH (Gauss-Krueger zones 2-5: EPSG:31466-31469)
  if (s.rfind("urn:adv:crs:", 0) == 0) {
    static const std::regex re(
        R"(^urn:adv:crs:(etrs89_utm(3[123])|de_dhdn_3gk([2-5]))(\*de_(dhhn92|dhhn2016|dhhn12|dhhn85)_nh)?$)");
    std::smatch m;
    if (std::regex_match(s, m, re)) {
      std::string horiz = m[2].matched ? "258" + m[2].str() : std::to_string(31464 + std::stoi(m[3].str()));
      if (!m[4].matched) return "EPSG:" + horiz;
      std::string h = m[5].str();
      std::string vert = h == "dhhn92" ? "5783" : h == "dhhn2016" ? "7837" : "5784";
      return "EPSG:" + horiz + "+" + vert;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

struct CrsTransform::Impl {
  PJ_CONTEXT* ctx = nullptr;
  PJ* horizontal = nullptr;                    // source (horizontal part) -> lon/lat degrees, normalised
  PJ* geoid = nullptr;                         // vgridshift, radians in, H -> h (may be null: ellipsoidal heights)
  PJ* geoidOutside = nullptr;                  // vgridshift for points outside `geoid`'s grid (may be null)
  double a = 6378137.0, e2 = 0.0066943800229;  // the datum's ellipsoid, for lon/lat/h -> ECEF
  bool swapInput = false;                      // source's first axis is northing/latitude
  bool direct3d = false;                       // `horizontal` carries the height too (3D geographic source)

  ~Impl() {
    if (geoid) proj_destroy(geoid);
    if (geoidOutside) proj_destroy(geoidOutside);
    if (horizontal) proj_destroy(horizontal);
    if (ctx) proj_context_destroy(ctx);
  }
};

CrsTransform::~CrsTransform() = default;

namespace {

// True when the CRS's first axis points north (latitude or northing first).
bool firstAxisNorth(PJ_CONTEXT* ctx, PJ* crs) {
  PJ* cs = proj_crs_get_coordinate_system(ctx, crs);
  if (!cs) return false;
  const char* direction = nullptr;
  bool north = false;
  if (proj_cs_get_axis_info(ctx, cs, 0, nullptr, nullptr, &direction, nullptr, nullptr, nullptr, nullptr) && direction)
    north = lower(direction) == "north";
  proj_destroy(cs);
  return north;
}

constexpr const char* kEgm96 = "egm96_15.gtx";
constexpr const char* kGsigeo2011 = "geoid/jp_gsi_gsigeo2011.tif";

// JGD2000 and JGD2011 (the datums of Japan's plane rectangular, geographic and PLATEAU CRSs).
bool isJapaneseDatum(PJ_CONTEXT* ctx, PJ* geodeticCrs) {
  PJ* datum = proj_crs_get_datum_forced(ctx, geodeticCrs);
  if (!datum) return false;
  const char* name = proj_get_name(datum);
  bool jgd = name && (std::string_view(name) == "Japanese Geodetic Datum 2011" ||
                      std::string_view(name) == "Japanese Geodetic Datum 2000");
  proj_destroy(datum);
  return jgd;
}

}  // namespace

Result<std::unique_ptr<CrsTransform>> CrsTransform::create(const std::string& srsIn, const GeoidOptions& geoidOptions) {
  using R = Result<std::unique_ptr<CrsTransform>>;
  std::string srs = canonicalSrs(srsIn).value_or(srsIn);
  std::unique_ptr<CrsTransform> t(new CrsTransform());
  t->impl_ = std::make_unique<Impl>();
  t->srs_ = srs;
  t->geoidOptions_ = geoidOptions;
  auto& im = *t->impl_;
  im.ctx = proj_context_create();
  proj_log_level(im.ctx, PJ_LOG_NONE);

  PJ* crs = proj_create(im.ctx, srs.c_str());
  if (!crs || !proj_is_crs(crs)) {
    if (crs) proj_destroy(crs);
    return R::failure("crs-unknown", "unknown coordinate reference system '" + srsIn +
                                         "'; give one with --crs EPSG:n (for PLATEAU: EPSG:6697)");
  }
  PJ_TYPE type = proj_get_type(crs);
  PJ* horiz = nullptr;
  bool ellipsoidal3d = false;
  if (type == PJ_TYPE_COMPOUND_CRS) {
    horiz = proj_crs_get_sub_crs(im.ctx, crs, 0);
  } else if (type == PJ_TYPE_GEOGRAPHIC_3D_CRS) {
    horiz = proj_clone(im.ctx, crs);
    ellipsoidal3d = true;
  } else if (type == PJ_TYPE_GEOGRAPHIC_2D_CRS || type == PJ_TYPE_PROJECTED_CRS) {
    horiz = proj_clone(im.ctx, crs);
    t->heightAssumed_ = true;
  } else if (type == PJ_TYPE_GEOCENTRIC_CRS) {
    proj_destroy(crs);
    return R::failure("crs-unsupported",
                      "source CRS '" + srsIn + "' is geocentric; twin expects geographic or projected");
  } else {
    proj_destroy(crs);
    return R::failure(
        "crs-unsupported",
        "source CRS '" + srsIn + "' is of a kind twin cannot place (not geographic, projected or compound)");
  }
  proj_destroy(crs);
  if (!horiz) return R::failure("crs-unknown", "cannot take the horizontal part of '" + srsIn + "'");

  PJ* geod = proj_crs_get_geodetic_crs(im.ctx, horiz);
  if (!geod) {
    proj_destroy(horiz);
    return R::failure("crs-unknown", "'" + srsIn + "' has no geodetic datum");
  }
  im.swapInput = firstAxisNorth(im.ctx, horiz);

  if (ellipsoidal3d) {
    PJ* ecef = proj_create(im.ctx, "EPSG:4978");
    PJ* op = proj_create_crs_to_crs_from_pj(im.ctx, horiz, ecef, nullptr, nullptr);
    proj_destroy(ecef);
    if (op) {
      im.horizontal = proj_normalize_for_visualization(im.ctx, op);
      proj_destroy(op);
    }
    im.direct3d = true;
  } else {
    PJ* op = proj_create_crs_to_crs_from_pj(im.ctx, horiz, geod, nullptr, nullptr);
    if (op) {
      im.horizontal = proj_normalize_for_visualization(im.ctx, op);
      proj_destroy(op);
    }
    // Ellipsoid of the datum for the geocentric step.
    PJ* ell = proj_get_ellipsoid(im.ctx, geod);
    double a = 6378137.0, invf = 298.257222101;
    if (ell) {
      proj_ellipsoid_get_parameters(im.ctx, ell, &a, nullptr, nullptr, &invf);
      proj_destroy(ell);
    }
    im.a = a;
    double f = invf > 0 ? 1.0 / invf : 0.0;
    im.e2 = f * (2.0 - f);
    // The geoid: the one given; else for the Japanese datums GSIGEO2011, to which T.P. heights
    // (PLATEAU's EPSG:6697) are referred, inside its grid and EGM96 outside; else EGM96.
    std::string grid = geoidOptions.gridFile, outside;
    if (grid.empty() && isJapaneseDatum(im.ctx, geod)) {
      grid = fs::dataFile(kGsigeo2011, geoidOptions.dataDir);
      if (grid.empty()) {
        proj_destroy(geod);
        proj_destroy(horiz);
        return R::failure("geoid-missing", std::string("the GSIGEO2011 geoid grid twin ships (") + kGsigeo2011 +
                                               ") is neither beside the twin program (share/twin) nor in "
                                               "the data directory ($TWIN_DATA_DIR); reinstall twin or pass --geoid FILE");
      }
      outside = kEgm96;
    }
    if (grid.empty()) grid = kEgm96;
    auto open = [&](const std::string& g) {
      std::string gdef = "+proj=vgridshift +grids=" + g + " +multiplier=1";
      return proj_create(im.ctx, gdef.c_str());
    };
    im.geoid = open(grid);
    if (im.geoid && !outside.empty()) im.geoidOutside = open(outside);
    if (!im.geoid || (!outside.empty() && !im.geoidOutside)) {
      std::string missing = im.geoid ? outside : grid;
      proj_destroy(geod);
      proj_destroy(horiz);
      return R::failure("geoid-missing", "geoid grid '" + missing + "' cannot be opened (" +
                                             proj_context_errno_string(im.ctx, proj_context_errno(im.ctx)) +
                                             "); install proj-data or pass --geoid FILE");
    }
    t->geoid_ = geoidOptions.gridFile.empty() ? std::filesystem::path(grid).filename().string() : grid;
    if (!outside.empty()) t->geoid_ += " (" + outside + " outside its extent)";
  }
  proj_destroy(geod);
  proj_destroy(horiz);
  if (!im.horizontal) return R::failure("crs-unknown", "PROJ found no transformation from '" + srsIn + "' to ECEF");
  R r;
  r.value = std::move(t);
  return r;
}

std::unique_ptr<CrsTransform> CrsTransform::clone() const {
  auto r = create(srs_, geoidOptions_);
  return r.ok() ? std::move(*r) : nullptr;
}

std::string CrsTransform::description() const {
  std::string d = srs_ + " -> EPSG:4978";
  if (!geoid_.empty()) d += " with geoid " + geoid_;
  if (heightAssumed_) d += " (source CRS has no vertical axis: heights taken as orthometric)";
  return d;
}

size_t CrsTransform::toLonLatHeight(Vec3* p, size_t n) {
  auto& im = *impl_;
  if (n == 0) return 0;
  if (im.swapInput)
    for (size_t i = 0; i < n; ++i) std::swap(p[i][0], p[i][1]);
  size_t failed = 0;
  if (im.direct3d) {
    // source (3D geographic, ellipsoidal) -> ECEF directly, then back to lon/lat/h
    proj_trans_generic(im.horizontal, PJ_FWD, &p[0][0], sizeof(Vec3), n, &p[0][1], sizeof(Vec3), n, &p[0][2],
                       sizeof(Vec3), n, nullptr, 0, 0);
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(p[i][0]) || !std::isfinite(p[i][1]) || !std::isfinite(p[i][2])) {
        p[i] = {NAN, NAN, NAN};
        ++failed;
      } else {
        p[i] = ecefToLonLatHeight(p[i]);
      }
    }
    return failed;
  }
  proj_trans_generic(im.horizontal, PJ_FWD, &p[0][0], sizeof(Vec3), n, &p[0][1], sizeof(Vec3), n, nullptr, 0, 0,
                     nullptr, 0, 0);
  constexpr double kDeg = M_PI / 180.0;
  // Points PROJ could not place, or that are off the Earth, fail here.
  double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(p[i][0]) || !std::isfinite(p[i][1]) || !std::isfinite(p[i][2]) || std::abs(p[i][1]) > 90.0 ||
        std::abs(p[i][0]) > 360.0 || std::abs(p[i][2]) > 1e6) {
      p[i] = {NAN, NAN, NAN};
      ++failed;
      continue;
    }
    for (int k = 0; k < 2; ++k) lo[k] = std::min(lo[k], p[i][k]), hi[k] = std::max(hi[k], p[i][k]);
  }
  if (failed == n) return failed;
  // Geoid undulation N. For a small batch (one building: under 0.01 degrees, ~1 km) the grid is
  // sampled at the four corners of its extent and interpolated bilinearly, which is what the
  // grid's own bilinear interpolation gives inside one cell (grid cells are 15' = ~28 km for
  // EGM96, 1' x 1.5' for GSIGEO2011); larger batches, and batches at the edge of the grid, are
  // looked up point by point.
  if (n > 4 && hi[0] - lo[0] < 0.01 && hi[1] - lo[1] < 0.01) {
    Vec3 c[4] = {{lo[0] * kDeg, lo[1] * kDeg, 0},
                 {hi[0] * kDeg, lo[1] * kDeg, 0},
                 {lo[0] * kDeg, hi[1] * kDeg, 0},
                 {hi[0] * kDeg, hi[1] * kDeg, 0}};
    proj_trans_generic(im.geoid, PJ_FWD, &c[0][0], sizeof(Vec3), 4, &c[0][1], sizeof(Vec3), 4, &c[0][2], sizeof(Vec3),
                       4, nullptr, 0, 0);
    bool ok = true;
    for (auto& q : c) ok = ok && std::isfinite(q[2]) && std::abs(q[2]) < 1000;
    if (ok) {
      const double sx = hi[0] > lo[0] ? 1.0 / (hi[0] - lo[0]) : 0.0, sy = hi[1] > lo[1] ? 1.0 / (hi[1] - lo[1]) : 0.0;
      for (size_t i = 0; i < n; ++i) {
        if (std::isnan(p[i][0])) continue;
        double u = (p[i][0] - lo[0]) * sx, v = (p[i][1] - lo[1]) * sy;
        double nn = (1 - u) * (1 - v) * c[0][2] + u * (1 - v) * c[1][2] + (1 - u) * v * c[2][2] + u * v * c[3][2];
        p[i][2] += nn;
      }
      return failed;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    p[i][0] *= kDeg;
    p[i][1] *= kDeg;
  }
  std::vector<Vec3> before;
  if (im.geoidOutside) before.assign(p, p + n);
  proj_trans_generic(im.geoid, PJ_FWD, &p[0][0], sizeof(Vec3), n, &p[0][1], sizeof(Vec3), n, &p[0][2], sizeof(Vec3), n,
                     nullptr, 0, 0);
  if (im.geoidOutside) {
    // Points outside the first grid (beyond its extent, or in its no-data cells at sea): through
    // the second (EGM96 beyond GSIGEO2011). A small batch (one building) goes through one geoid
    // as a whole, so that no building is bent by the step between the two models.
    std::vector<size_t> out;
    for (size_t i = 0; i < n; ++i)
      if (!std::isnan(before[i][0]) && (!std::isfinite(p[i][2]) || std::abs(p[i][2]) > 1e6)) out.push_back(i);
    if (!out.empty() && hi[0] - lo[0] < 0.01 && hi[1] - lo[1] < 0.01) {
      out.clear();
      for (size_t i = 0; i < n; ++i)
        if (!std::isnan(before[i][0])) out.push_back(i);
    }
    for (size_t i : out) {
      p[i] = before[i];
      proj_trans_generic(im.geoidOutside, PJ_FWD, &p[i][0], sizeof(Vec3), 1, &p[i][1], sizeof(Vec3), 1, &p[i][2],
                         sizeof(Vec3), 1, nullptr, 0, 0);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    p[i][0] /= kDeg;
    p[i][1] /= kDeg;
    if (!std::isnan(p[i][0]) && (!std::isfinite(p[i][2]) || std::abs(p[i][2]) > 1e6)) {
      p[i] = {NAN, NAN, NAN};
      ++failed;
    }
  }
  return failed;
}

size_t CrsTransform::toEcef(Vec3* p, size_t n) {
  auto& im = *impl_;
  if (n == 0) return 0;
  if (im.direct3d) {
    if (im.swapInput)
      for (size_t i = 0; i < n; ++i) std::swap(p[i][0], p[i][1]);
    proj_trans_generic(im.horizontal, PJ_FWD, &p[0][0], sizeof(Vec3), n, &p[0][1], sizeof(Vec3), n, &p[0][2],
                       sizeof(Vec3), n, nullptr, 0, 0);
    size_t failed = 0;
    for (size_t i = 0; i < n; ++i)
      if (!std::isfinite(p[i][0]) || !std::isfinite(p[i][1]) || !std::isfinite(p[i][2])) {
        p[i] = {NAN, NAN, NAN};
        ++failed;
      }
    return failed;
  }
  size_t failed = toLonLatHeight(p, n);
  // Geodetic -> geocentric on the datum's ellipsoid (the closed form PROJ's cart uses).
  constexpr double kDeg = M_PI / 180.0;
  const double a = im.a, e2 = im.e2;
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(p[i][0])) continue;
    double sl, cl, sp, cp;
    sincos(p[i][0] * kDeg, &sl, &cl);
    sincos(p[i][1] * kDeg, &sp, &cp);
    double nr = a / std::sqrt(1.0 - e2 * sp * sp);
    double h = p[i][2];
    p[i] = {(nr + h) * cp * cl, (nr + h) * cp * sl, (nr * (1.0 - e2) + h) * sp};
  }
  return failed;
}

// ---- geodesy on WGS84 ----
namespace {
constexpr double kA = 6378137.0;
constexpr double kF = 1.0 / 298.257223563;
constexpr double kE2 = kF * (2 - kF);
}  // namespace

Vec3 lonLatHeightToEcef(const Vec3& llh) {
  double lon = llh[0] * M_PI / 180.0, lat = llh[1] * M_PI / 180.0, h = llh[2];
  double s = std::sin(lat), c = std::cos(lat);
  double n = kA / std::sqrt(1 - kE2 * s * s);
  return {(n + h) * c * std::cos(lon), (n + h) * c * std::sin(lon), (n * (1 - kE2) + h) * s};
}

Vec3 ecefToLonLatHeight(const Vec3& p) {
  double x = p[0], y = p[1], z = p[2];
  double lon = std::atan2(y, x);
  double r = std::hypot(x, y);
  double lat = std::atan2(z, r * (1 - kE2));
  double h = 0;
  for (int i = 0; i < 6; ++i) {
    double s = std::sin(lat);
    double n = kA / std::sqrt(1 - kE2 * s * s);
    h = r / std::cos(lat) - n;
    lat = std::atan2(z, r * (1 - kE2 * n / (n + h)));
  }
  return {lon * 180.0 / M_PI, lat * 180.0 / M_PI, h};
}

void enuFrame(const Vec3& ecef, Vec3& east, Vec3& north, Vec3& up) {
  Vec3 llh = ecefToLonLatHeight(ecef);
  double lon = llh[0] * M_PI / 180.0, lat = llh[1] * M_PI / 180.0;
  east = {-std::sin(lon), std::cos(lon), 0};
  north = {-std::sin(lat) * std::cos(lon), -std::sin(lat) * std::sin(lon), std::cos(lat)};
  up = {std::cos(lat) * std::cos(lon), std::cos(lat) * std::sin(lon), std::sin(lat)};
}

LocalFrame LocalFrame::at(const Vec3& originEcef) {
  LocalFrame f;
  f.origin = originEcef;
  enuFrame(originEcef, f.east, f.north, f.up);
  return f;
}

Vec3 LocalFrame::dirToEnu(const Vec3& d) const {
  return {d[0] * east[0] + d[1] * east[1] + d[2] * east[2], d[0] * north[0] + d[1] * north[1] + d[2] * north[2],
          d[0] * up[0] + d[1] * up[1] + d[2] * up[2]};
}

Vec3 LocalFrame::toEnu(const Vec3& p) const { return dirToEnu({p[0] - origin[0], p[1] - origin[1], p[2] - origin[2]}); }

Vec3 LocalFrame::toEcef(const Vec3& e) const {
  return {origin[0] + e[0] * east[0] + e[1] * north[0] + e[2] * up[0],
          origin[1] + e[0] * east[1] + e[1] * north[1] + e[2] * up[1],
          origin[2] + e[0] * east[2] + e[1] * north[2] + e[2] * up[2]};
}

}  // namespace twin

namespace twin {

struct PlaneTransform::Impl {
  PJ_CONTEXT* ctx = nullptr;
  PJ* fwd = nullptr;     // source horizontal -> projected, normalised axis order
  PJ* lonlat = nullptr;  // projected -> its geographic CRS, normalised
  bool swapInput = false;
  ~Impl() {
    if (fwd) proj_destroy(fwd);
    if (lonlat) proj_destroy(lonlat);
    if (ctx) proj_context_destroy(ctx);
  }
};

PlaneTransform::~PlaneTransform() = default;

Result<std::unique_ptr<PlaneTransform>> PlaneTransform::create(const std::string& srcIn, const std::string& dstIn) {
  using R = Result<std::unique_ptr<PlaneTransform>>;
  std::unique_ptr<PlaneTransform> t(new PlaneTransform());
  t->impl_ = std::make_unique<Impl>();
  auto& im = *t->impl_;
  im.ctx = proj_context_create();
  proj_log_level(im.ctx, PJ_LOG_NONE);
  std::string src = canonicalSrs(srcIn).value_or(srcIn), dst = canonicalSrs(dstIn).value_or(dstIn);
  PJ* s = proj_create(im.ctx, src.c_str());
  if (!s || !proj_is_crs(s)) {
    if (s) proj_destroy(s);
    return R::failure("crs-unknown", "unknown coordinate reference system '" + srcIn + "'");
  }
  PJ* horiz = proj_get_type(s) == PJ_TYPE_COMPOUND_CRS ? proj_crs_get_sub_crs(im.ctx, s, 0) : proj_clone(im.ctx, s);
  proj_destroy(s);
  PJ* d = proj_create(im.ctx, dst.c_str());
  if (!d || proj_get_type(d) != PJ_TYPE_PROJECTED_CRS) {
    if (d) proj_destroy(d);
    proj_destroy(horiz);
    return R::failure("crs-unsupported", "'" + dstIn + "' is not a projected CRS (areas need metres)");
  }
  im.swapInput = firstAxisNorth(im.ctx, horiz);
  PJ* op = proj_create_crs_to_crs_from_pj(im.ctx, horiz, d, nullptr, nullptr);
  if (op) {
    im.fwd = proj_normalize_for_visualization(im.ctx, op);
    proj_destroy(op);
  }
  PJ* geod = proj_crs_get_geodetic_crs(im.ctx, d);
  if (geod) {
    PJ* op2 = proj_create_crs_to_crs_from_pj(im.ctx, d, geod, nullptr, nullptr);
    if (op2) {
      im.lonlat = proj_normalize_for_visualization(im.ctx, op2);
      proj_destroy(op2);
    }
    proj_destroy(geod);
  }
  proj_destroy(horiz);
  proj_destroy(d);
  if (!im.fwd || !im.lonlat)
    return R::failure("crs-unknown", "PROJ found no transformation from '" + srcIn + "' to '" + dstIn + "'");
  R r;
  r.value = std::move(t);
  return r;
}

size_t PlaneTransform::forward(Vec3* p, size_t n) {
  auto& im = *impl_;
  if (n == 0) return 0;
  std::vector<double> z(n);
  for (size_t i = 0; i < n; ++i) {
    z[i] = p[i][2];
    if (im.swapInput) std::swap(p[i][0], p[i][1]);
  }
  proj_trans_generic(im.fwd, PJ_FWD, &p[0][0], sizeof(Vec3), n, &p[0][1], sizeof(Vec3), n, nullptr, 0, 0, nullptr, 0,
                     0);
  size_t failed = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(p[i][0]) || !std::isfinite(p[i][1]) || std::abs(p[i][0]) > 1e8 || std::abs(p[i][1]) > 1e8) {
      p[i] = {NAN, NAN, NAN};
      ++failed;
    } else {
      p[i][2] = z[i];
    }
  }
  return failed;
}

size_t PlaneTransform::toLonLat(Vec3* p, size_t n) {
  auto& im = *impl_;
  if (n == 0) return 0;
  std::vector<double> z(n);
  for (size_t i = 0; i < n; ++i) z[i] = p[i][2];
  proj_trans_generic(im.lonlat, PJ_FWD, &p[0][0], sizeof(Vec3), n, &p[0][1], sizeof(Vec3), n, nullptr, 0, 0, nullptr, 0,
                     0);
  size_t failed = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(p[i][0]) || !std::isfinite(p[i][1])) {
      p[i] = {NAN, NAN, NAN};
      ++failed;
    } else {
      p[i][2] = z[i];
    }
  }
  return failed;
}

std::string chooseProjectedCrs(double lon, double lat) {
  // Central meridians and origin latitudes of the 19 zones of the Japanese plane rectangular
  // coordinate system (国土交通省告示第九号), EPSG:6669 (I) .. 6687 (XIX) on JGD2011.
  static const double zones[19][2] = {{129.5, 33},         {131.0, 33},         {132 + 1 / 6.0, 36}, {133.5, 33},
                                      {134 + 1 / 3.0, 36}, {136.0, 36},         {137 + 1 / 6.0, 36}, {138.5, 36},
                                      {139 + 5 / 6.0, 36}, {140 + 5 / 6.0, 40}, {140.25, 44},        {142.25, 44},
                                      {144.25, 44},        {142.0, 26},         {127.5, 26},         {124.0, 26},
                                      {131.0, 26},         {136.0, 20},         {154.0, 26}};
  if (lon >= 122 && lon <= 154.5 && lat >= 20 && lat <= 46) {
    int best = 0;
    double bestScore = INFINITY;
    for (int i = 0; i < 19; ++i) {
      // Transverse Mercator distortion grows with the distance from the central meridian; the
      // latitude term only breaks ties between zones far apart north-south (e.g. IX vs XIV).
      double score = std::abs(lon - zones[i][0]) + 0.1 * std::abs(lat - zones[i][1]);
      if (score < bestScore) bestScore = score, best = i;
    }
    return "EPSG:" + std::to_string(6669 + best);
  }
  int zone = std::clamp(int(std::floor((lon + 180.0) / 6.0)) + 1, 1, 60);
  return "EPSG:" + std::to_string((lat >= 0 ? 32600 : 32700) + zone);
}

std::string crsWkt1(const std::string& crsIn) {
  PJ_CONTEXT* c = proj_context_create();
  proj_log_level(c, PJ_LOG_NONE);
  std::string crs = canonicalSrs(crsIn).value_or(crsIn);
  PJ* p = proj_create(c, crs.c_str());
  std::string out;
  if (p) {
    const char* w = proj_as_wkt(c, p, PJ_WKT1_GDAL, nullptr);
    if (w) out = w;
    proj_destroy(p);
  }
  proj_context_destroy(c);
  return out;
}

namespace {
// Calls fn(context, horizontal CRS) for `crsIn` (the first part of a compound CRS); false when
// PROJ does not know it.
template <class F>
bool withHorizontalCrs(const std::string& crsIn, F fn) {
  PJ_CONTEXT* c = proj_context_create();
  proj_log_level(c, PJ_LOG_NONE);
  std::string crs = canonicalSrs(crsIn).value_or(crsIn);
  bool ok = false;
  if (PJ* p = proj_create(c, crs.c_str())) {
    PJ* horizontal = proj_get_type(p) == PJ_TYPE_COMPOUND_CRS ? proj_crs_get_sub_crs(c, p, 0) : nullptr;
    fn(c, horizontal ? horizontal : p);
    ok = true;
    if (horizontal) proj_destroy(horizontal);
    proj_destroy(p);
  }
  proj_context_destroy(c);
  return ok;
}
}  // namespace

bool crsNorthFirst(const std::string& crs) {
  bool north = false;
  withHorizontalCrs(crs, [&](PJ_CONTEXT* c, PJ* h) { north = firstAxisNorth(c, h); });
  return north;
}

bool crsIsGeographic(const std::string& crs) {
  bool geographic = false;
  withHorizontalCrs(crs, [&](PJ_CONTEXT*, PJ* h) {
    PJ_TYPE t = proj_get_type(h);
    geographic = t == PJ_TYPE_GEOGRAPHIC_2D_CRS || t == PJ_TYPE_GEOGRAPHIC_3D_CRS;
  });
  return geographic;
}

}  // namespace twin
