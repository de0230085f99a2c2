#!/usr/bin/env python3
"""Writes a relief (dem:TINRelief, CityGML 2.0, JGD2011 + T.P. heights) under the buildings of a
PLATEAU building file, made from the buildings' own ground heights: each building's lowest point
(in T.P., as PLATEAU gives it) is a ground sample; a 40 x 40 grid over the buildings' extent takes
heights interpolated from the samples (inverse distance, power 4) and is split into triangles.

The sample data holds no relief that overlaps its buildings; this one does, so a test can check
that buildings and relief, converted separately, meet (both through the same geoid).

usage: make_ground.py BUILDINGS.gml OUT.gml
"""
import math
import re
import sys


def main():
    src, out = sys.argv[1], sys.argv[2]
    text = open(src, encoding="utf-8").read()
    lows = []  # (lat, lon, h) lowest point of each building
    for b in re.finditer(r"<bldg:Building\b.*?</bldg:Building>", text, re.S):
        best = None
        for m in re.finditer(r"<gml:(?:posList|pos)[^>]*>([^<]*)<", b.group(0)):
            v = [float(x) for x in m.group(1).split()]
            for i in range(0, len(v) - 2, 3):
                if best is None or v[i + 2] < best[2]:
                    best = (v[i], v[i + 1], v[i + 2])
        if best:
            lows.append(best)
    if not lows:
        sys.exit("no buildings in " + src)
    lat0 = min(p[0] for p in lows)
    lat1 = max(p[0] for p in lows)
    lon0 = min(p[1] for p in lows)
    lon1 = max(p[1] for p in lows)
    m = 0.0015  # ~150 m around
    lat0, lat1, lon0, lon1 = lat0 - m, lat1 + m, lon0 - m, lon1 + m
    n = 40

    def height(lat, lon):
        num = den = 0.0
        for (a, b, h) in lows:
            d = math.hypot((a - lat) * 110574.0, (b - lon) * 111320.0 * math.cos(math.radians(lat)))
            if d < 0.01:
                return h
            w = 1.0 / d ** 4
            num += w * h
            den += w
        return num / den

    grid = [[(lat0 + (lat1 - lat0) * i / n, lon0 + (lon1 - lon0) * j / n) for j in range(n + 1)] for i in range(n + 1)]
    hs = [[height(*grid[i][j]) for j in range(n + 1)] for i in range(n + 1)]

    def pt(i, j):
        return "%.12f %.12f %.3f" % (grid[i][j][0], grid[i][j][1], hs[i][j])

    tris = []
    for i in range(n):
        for j in range(n):
            for a, b, c in (((i, j), (i, j + 1), (i + 1, j + 1)), ((i, j), (i + 1, j + 1), (i + 1, j))):
                ring = " ".join([pt(*a), pt(*b), pt(*c), pt(*a)])
                tris.append("<gml:Triangle><gml:exterior><gml:LinearRing><gml:posList>%s</gml:posList>"
                            "</gml:LinearRing></gml:exterior></gml:Triangle>" % ring)
    hmin = min(min(r) for r in hs)
    hmax = max(max(r) for r in hs)
    with open(out, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<core:CityModel xmlns:core="http://www.opengis.net/citygml/2.0" '
                'xmlns:dem="http://www.opengis.net/citygml/relief/2.0" xmlns:gml="http://www.opengis.net/gml">\n'
                '<gml:boundedBy><gml:Envelope srsName="http://www.opengis.net/def/crs/EPSG/0/6697" srsDimension="3">'
                '<gml:lowerCorner>%.9f %.9f %.3f</gml:lowerCorner><gml:upperCorner>%.9f %.9f %.3f</gml:upperCorner>'
                '</gml:Envelope></gml:boundedBy>\n'
                '<core:cityObjectMember><dem:ReliefFeature gml:id="ground"><dem:lod>1</dem:lod><dem:reliefComponent>'
                '<dem:TINRelief gml:id="ground_tin"><dem:lod>1</dem:lod><dem:tin><gml:TriangulatedSurface>'
                '<gml:trianglePatches>\n' % (lat0, lon0, hmin, lat1, lon1, hmax))
        f.write("\n".join(tris))
        f.write('\n</gml:trianglePatches></gml:TriangulatedSurface></dem:tin></dem:TINRelief></dem:reliefComponent>'
                '</dem:ReliefFeature></core:cityObjectMember>\n</core:CityModel>\n')


if __name__ == "__main__":
    main()
