#!/usr/bin/env python3
"""Synthetic land-use data for the bundled sample's buildings (demo and tests only).

The PLATEAU sample has buildings but no cadastre or zoning for its area, so this makes them:
parcels = a 15 m grid (plane rectangular zone IX, EPSG:6677) of the cells the buildings stand on
(地番 "<row>-<col>", locality 試験町 — plainly not a real address), one use district
(近隣商業地域, 80 % / 300 %, as a real designation would give) and a 準防火地域 over all of it, a
front road width per parcel, and a few permits. Everything is derived from the buildings'
footprints in STORE (a GeoPackage made by `twin buildings import`), so it is deterministic.

    make_landuse.py STORE OUTDIR
"""
import json
import os
import sqlite3
import struct
import sys

CELL = 15.0


def envelopes(store):
    db = sqlite3.connect(store)
    crs = db.execute("SELECT value FROM twin_meta WHERE key='crs'").fetchone()[0]
    if crs != "EPSG:6677":
        sys.exit(f"make_landuse.py: the store is in {crs}; import the buildings with --store-crs EPSG:6677")
    out = []
    for bid, blob in db.execute("SELECT id, geom FROM buildings ORDER BY id"):
        # GeoPackage header: 'GP', version, flags, srs_id, envelope [minx, maxx, miny, maxy].
        assert blob[:2] == b"GP" and (blob[3] >> 1) & 7 == 1
        minx, maxx, miny, maxy = struct.unpack("<4d", blob[8:40])
        out.append((bid, minx, maxx, miny, maxy))
    return out


def feature_collection(features):
    return {"type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::6677"}},
            "features": features}


def rect(x0, y0, x1, y1):
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def main():
    store, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    envs = envelopes(store)
    cells = set()
    for _, minx, maxx, miny, maxy in envs:
        for i in range(int(minx // CELL), int(maxx // CELL) + 1):
            for j in range(int(miny // CELL), int(maxy // CELL) + 1):
                cells.add((i, j))
    i0 = min(i for i, _ in cells)
    j0 = min(j for _, j in cells)
    parcels = []
    for (i, j) in sorted(cells):
        chiban = f"{j - j0 + 1}-{i - i0 + 1}"
        parcels.append({"type": "Feature",
                        "properties": {"id": f"demo-{chiban}", "地番": chiban, "大字名": "試験町",
                                       "前面道路幅員": 4.0 + 2.0 * ((i + j) % 3)},
                        "geometry": rect(i * CELL, j * CELL, (i + 1) * CELL, (j + 1) * CELL)})
    xs = [i for i, _ in cells]
    ys = [j for _, j in cells]
    box = (min(xs) * CELL - 100, min(ys) * CELL - 100, (max(xs) + 1) * CELL + 100, (max(ys) + 1) * CELL + 100)
    use = [{"type": "Feature",
            "properties": {"id": "demo-use-1", "function": "9", "buildingCoverageRate": 0.8, "floorAreaRate": 3.0},
            "geometry": rect(*box)}]
    fire = [{"type": "Feature", "properties": {"id": "demo-fire-1", "function": "25"}, "geometry": rect(*box)}]
    with open(os.path.join(outdir, "parcels.geojson"), "w", encoding="utf-8") as f:
        json.dump(feature_collection(parcels), f, ensure_ascii=False)
    with open(os.path.join(outdir, "use-districts.geojson"), "w", encoding="utf-8") as f:
        json.dump(feature_collection(use), f, ensure_ascii=False)
    with open(os.path.join(outdir, "fire-districts.geojson"), "w", encoding="utf-8") as f:
        json.dump(feature_collection(fire), f, ensure_ascii=False)
    first = envs[0][0]
    first_parcel = parcels[0]["properties"]["地番"]
    with open(os.path.join(outdir, "permits.csv"), "w", encoding="utf-8") as f:
        f.write("id,type,status,applied_on,decided_on,parcels,building_id,applicant,notes\n")
        f.write(f"DEMO-001,建築確認,granted,2023-04-03,2023-05-12,{first_parcel},{first},申請者 太郎,demo permit\n")
        f.write(f"DEMO-002,完了検査,applied,2024-02-01,,{first_parcel},{first},申請者 太郎,\n")
    print(f"{len(parcels)} parcels, 1 use district, 1 fire district, 2 permits -> {outdir}")


if __name__ == "__main__":
    main()
