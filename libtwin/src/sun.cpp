#include "twin/sun.h"

#include <cmath>

namespace twin::sun {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDeg = kPi / 180;

double wrap360(double a) {
  a = std::fmod(a, 360.0);
  return a < 0 ? a + 360 : a;
}

// The quantities of the NOAA spreadsheet at a Julian century from J2000.0.
struct Solar {
  double declination, equationOfTime, apparentLongitude;
};

Solar solar(double jd) {
  double T = (jd - 2451545.0) / 36525.0;
  double L0 = wrap360(280.46646 + T * (36000.76983 + T * 0.0003032));
  double M = 357.52911 + T * (35999.05029 - 0.0001537 * T);
  double e = 0.016708634 - T * (0.000042037 + 0.0000001267 * T);
  double C = std::sin(M * kDeg) * (1.914602 - T * (0.004817 + 0.000014 * T)) +
             std::sin(2 * M * kDeg) * (0.019993 - 0.000101 * T) + std::sin(3 * M * kDeg) * 0.000289;
  double trueLong = L0 + C;
  double omega = 125.04 - 1934.136 * T;
  double lambda = trueLong - 0.00569 - 0.00478 * std::sin(omega * kDeg);
  double eps0 = 23 + (26 + (21.448 - T * (46.815 + T * (0.00059 - T * 0.001813))) / 60) / 60;
  double eps = eps0 + 0.00256 * std::cos(omega * kDeg);
  double decl = std::asin(std::sin(eps * kDeg) * std::sin(lambda * kDeg)) / kDeg;
  double y = std::tan(eps * kDeg / 2);
  y *= y;
  double l0 = L0 * kDeg, m = M * kDeg;
  double eot = 4 / kDeg *
               (y * std::sin(2 * l0) - 2 * e * std::sin(m) + 4 * e * y * std::sin(m) * std::cos(2 * l0) -
                0.5 * y * y * std::sin(4 * l0) - 1.25 * e * e * std::sin(2 * m));
  return {decl, eot, wrap360(lambda)};
}

Position fromHourAngle(double hourAngle, double latitude, double declination) {
  double phi = latitude * kDeg, d = declination * kDeg, h = hourAngle * kDeg;
  double sinAlt = std::sin(phi) * std::sin(d) + std::cos(phi) * std::cos(d) * std::cos(h);
  sinAlt = std::fmax(-1.0, std::fmin(1.0, sinAlt));
  Position p;
  p.altitude = std::asin(sinAlt) / kDeg;
  p.declination = declination;
  // Azimuth from north, clockwise: atan2 of the east and north components of the direction.
  double east = -std::cos(d) * std::sin(h);
  double north = std::cos(phi) * std::sin(d) - std::sin(phi) * std::cos(d) * std::cos(h);
  p.azimuth = wrap360(std::atan2(east, north) / kDeg);
  return p;
}

}  // namespace

double julianDay(double unixSeconds) { return unixSeconds / 86400.0 + 2440587.5; }

double unixTime(int year, int month, int day, double hoursUtc) {
  // Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
  int y = year - (month <= 2);
  int era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = unsigned(y - era * 400);
  unsigned doy = unsigned((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1);
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  double days = double(era) * 146097 + double(doe) - 719468;
  return days * 86400.0 + hoursUtc * 3600.0;
}

Position at(double unixSeconds, double latitude, double longitude) {
  Solar s = solar(julianDay(unixSeconds));
  double utcMinutes = std::fmod(unixSeconds, 86400.0);
  if (utcMinutes < 0) utcMinutes += 86400;
  utcMinutes /= 60;
  double trueSolarMinutes = std::fmod(utcMinutes + s.equationOfTime + 4 * longitude, 1440.0);
  if (trueSolarMinutes < 0) trueSolarMinutes += 1440;
  Position p = fromHourAngle(trueSolarMinutes / 4 - 180, latitude, s.declination);
  p.equationOfTime = s.equationOfTime;
  return p;
}

double apparentLongitude(double unixSeconds) { return solar(julianDay(unixSeconds)).apparentLongitude; }

double decemberSolstice(int year) {
  // The longitude grows by ~0.9856° a day: Newton steps from 21 December, 12:00 UTC.
  double t = unixTime(year, 12, 21, 12);
  for (int i = 0; i < 8; ++i) {
    double diff = apparentLongitude(t) - 270;
    if (diff > 180) diff -= 360;
    if (diff < -180) diff += 360;
    t -= diff / 0.98565 * 86400;
  }
  return t;
}

Position atTrueSolarTime(double hours, double latitude, double declination) {
  return fromHourAngle((hours - 12) * 15, latitude, declination);
}

double refraction(double altitude) {
  // NOAA: piecewise fit (Saemundsson-like above 5°), in arc seconds.
  if (altitude > 85) return 0;
  double te = std::tan(altitude * kDeg);
  double r;
  if (altitude > 5)
    r = 58.1 / te - 0.07 / (te * te * te) + 0.000086 / std::pow(te, 5);
  else if (altitude > -0.575)
    r = 1735 + altitude * (-518.2 + altitude * (103.4 + altitude * (-12.79 + altitude * 0.711)));
  else
    r = -20.772 / te;
  return r / 3600;
}

std::optional<double> riseOrSet(int year, int month, int day, double latitude, double longitude, double utcOffsetHours,
                                bool rise) {
  const double h0 = -50.0 / 60;  // the centre's altitude at rise and set
  // Iterate on the instant: the hour angle where the altitude is h0, at that instant's declination
  // and equation of time. Minutes are counted from 0:00 UTC of the civil date.
  const double midnightUtc = unixTime(year, month, day, 0);
  double eventUtcMinutes = 720 - utcOffsetHours * 60;
  for (int i = 0; i < 4; ++i) {
    Solar s = solar(julianDay(midnightUtc + eventUtcMinutes * 60));
    double phi = latitude * kDeg, d = s.declination * kDeg;
    double c = (std::sin(h0 * kDeg) - std::sin(phi) * std::sin(d)) / (std::cos(phi) * std::cos(d));
    if (c < -1 || c > 1) return std::nullopt;
    double H = std::acos(c) / kDeg;  // degrees of hour angle either side of culmination
    double transitUtcMinutes = 720 - 4 * longitude - s.equationOfTime;
    eventUtcMinutes = transitUtcMinutes + (rise ? -4 * H : 4 * H);
  }
  return (eventUtcMinutes + utcOffsetHours * 60) / 60;
}

}  // namespace twin::sun
