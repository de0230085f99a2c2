#pragma once
// The sun's position: the NOAA solar position algorithm (after Meeus, "Astronomical Algorithms",
// ch. 25 and 28; accurate to about 0.01° in declination and a few seconds in the equation of time
// for 1800–2100), and the true-solar-time form the shadow rules use (建築基準法第56条の2 counts
// hours of 真太陽時 on the winter solstice). Angles in degrees; azimuth from true north,
// clockwise (east = 90°); altitude without refraction unless a function says otherwise. The
// viewer's sun and the land-use shadow checks use these same functions.

#include <optional>

namespace twin::sun {

struct Position {
  double altitude = 0;        // degrees above the horizon (geometric, no refraction)
  double azimuth = 0;         // degrees from true north, clockwise
  double declination = 0;     // degrees
  double equationOfTime = 0;  // minutes: true solar time − mean solar time
};

// Julian day of a Unix time (seconds since 1970-01-01 UTC). Universal time stands in for
// terrestrial time (ΔT ≈ 70 s moves the sun by 0.001°).
double julianDay(double unixSeconds);

// The sun at a UTC instant seen from (latitude, longitude).
Position at(double unixSeconds, double latitude, double longitude);

// The sun's apparent ecliptic longitude (degrees, 0..360) at a UTC instant: 270° at the
// December solstice (冬至).
double apparentLongitude(double unixSeconds);

// The instant (Unix seconds) of the December solstice of `year`: apparent longitude 270°.
double decemberSolstice(int year);

// The sun at `hours` of true solar time (12 = culmination, 南中) for a declination.
Position atTrueSolarTime(double hours, double latitude, double declination);

// Atmospheric refraction (degrees) to add to a geometric altitude (NOAA's formula).
double refraction(double altitude);

// Local time (hours on the clock of time zone `utcOffsetHours`) of sunrise or sunset on a civil
// date: the sun's centre 50′ below the horizon (34′ refraction + 16′ semi-diameter), as the
// almanacs count it. Empty in polar day or night.
std::optional<double> riseOrSet(int year, int month, int day, double latitude, double longitude, double utcOffsetHours,
                                bool rise);

// Unix seconds of a civil date and time in UTC.
double unixTime(int year, int month, int day, double hoursUtc = 0);

}  // namespace twin::sun
