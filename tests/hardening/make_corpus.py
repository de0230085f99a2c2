#!/usr/bin/env python3
"""Writes the malformed-input corpus: broken and hostile files of every input format, and
corpus.tsv saying, for each, the arguments `twin convert` gets, the diagnostic code it must print
and the exit code it must end with (1: nothing written, 3: written with errors, 0: written with
warnings). Deterministic; run again after changing it, and commit the result:

    python3 tests/hardening/make_corpus.py ../shared/samples tests/hardening/corpus
"""
import io
import json
import os
import struct
import sys
import zipfile

samples, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
for f in os.listdir(out):
    os.remove(os.path.join(out, f))
rows = []


def case(name, data, code, exit_code, args=""):
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(os.path.join(out, name), mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as f:
        f.write(data)
    rows.append((name, args, code, str(exit_code)))


# ---------------------------------------------------------------- CityGML 2.0
NS = ('xmlns:core="http://www.opengis.net/citygml/2.0" xmlns:bldg="http://www.opengis.net/citygml/building/2.0" '
      'xmlns:gml="http://www.opengis.net/gml" xmlns:gen="http://www.opengis.net/citygml/generics/2.0" '
      'xmlns:app="http://www.opengis.net/citygml/appearance/2.0" xmlns:xlink="http://www.w3.org/1999/xlink"')


def box(bid, lat=35.26, lon=139.74, z0=3.0, h=10.0, extra="", coords=None):
    dl, dn = 10 / 111000.0, 10 / 91000.0
    la0, la1, lo0, lo1, z1 = lat, lat + dl, lon, lon + dn, z0 + h

    def P(a, o, z):
        return "%.9f %.9f %.3f " % (a, o, z)

    faces = [[P(la0, lo0, z0), P(la1, lo0, z0), P(la1, lo1, z0), P(la0, lo1, z0)],
             [P(la0, lo0, z1), P(la0, lo1, z1), P(la1, lo1, z1), P(la1, lo0, z1)],
             [P(la0, lo0, z0), P(la0, lo1, z0), P(la0, lo1, z1), P(la0, lo0, z1)],
             [P(la0, lo1, z0), P(la1, lo1, z0), P(la1, lo1, z1), P(la0, lo1, z1)],
             [P(la1, lo1, z0), P(la1, lo0, z0), P(la1, lo0, z1), P(la1, lo1, z1)],
             [P(la1, lo0, z0), P(la0, lo0, z0), P(la0, lo0, z1), P(la1, lo0, z1)]]
    polys = ""
    for i, f in enumerate(faces):
        pl = coords if (coords and i == 0) else "".join(f) + f[0]
        polys += ('<gml:surfaceMember><gml:Polygon gml:id="%s_p%d"><gml:exterior><gml:LinearRing gml:id="%s_r%d">'
                  '<gml:posList>%s</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>\n'
                  % (bid, i, bid, i, pl))
    return ('<core:cityObjectMember><bldg:Building gml:id="%s">%s<bldg:measuredHeight uom="m">%g</bldg:measuredHeight>'
            '<bldg:lod1Solid><gml:Solid><gml:exterior><gml:CompositeSurface>\n%s</gml:CompositeSurface></gml:exterior>'
            '</gml:Solid></bldg:lod1Solid></bldg:Building></core:cityObjectMember>\n' % (bid, extra, h, polys))


def model(members, srs="http://www.opengis.net/def/crs/EPSG/0/6697", doctype=""):
    env = ('<gml:boundedBy><gml:Envelope srsName="%s" srsDimension="3"><gml:lowerCorner>35 139 0</gml:lowerCorner>'
           '<gml:upperCorner>36 140 100</gml:upperCorner></gml:Envelope></gml:boundedBy>\n' % srs) if srs else ""
    return '<?xml version="1.0" encoding="UTF-8"?>\n%s<core:CityModel %s>\n%s%s</core:CityModel>\n' % (doctype, NS, env, members)


good = model(box("b1") + box("b2", lon=139.7402) + box("b3", lon=139.7404))
case("gml-truncated-10.gml", good[: len(good) // 10], "xml-malformed", 1)
case("gml-truncated-60.gml", good[: len(good) * 6 // 10], "xml-malformed", 3)
case("gml-truncated-95.gml", good[: len(good) * 95 // 100], "xml-malformed", 3)
case("gml-empty.gml", "", "xml-malformed", 1)
case("gml-binary.gml", bytes(range(256)) * 8, "xml-malformed", 1)
case("gml-html.gml", "<html><body><p>not a city</p></body></html>\n", "citygml-not", 1)
case("gml-bad-utf8.gml", good.replace("b2", "b\xff2").encode("latin-1", "replace").replace(b"b?2", b"b\xff\xfe2"),
     "xml-malformed", 3)
laughs = '<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
for i in range(1, 10):
    laughs += ' <!ENTITY lol%d "%s">\n' % (i, ("&lol%s;" % (i - 1 if i > 1 else "")) * 10)
laughs += "]>\n"
case("gml-billion-laughs.gml", model(box("b1", extra='<gen:stringAttribute name="x"><gen:value>&lol9;</gen:value>'
                                                    '</gen:stringAttribute>'), doctype=laughs), "xml-entity-declared", 1)
case("gml-xxe.gml", model(box("b1", extra='<gen:stringAttribute name="x"><gen:value>&x;</gen:value></gen:stringAttribute>'),
                          doctype='<!DOCTYPE x [ <!ENTITY x SYSTEM "file:///etc/passwd"> ]>\n'), "xml-entity-declared", 1)
case("gml-deep-nesting.gml", model("<a>" * 5000 + "</a>" * 5000 + box("b1")), "xml-too-deep", 1)
case("gml-huge-attribute.gml", model(box("b1", extra='<gen:stringAttribute name="big"><gen:value>' + "x" * (2 << 20) +
                                           '</gen:value></gen:stringAttribute>')), "attribute-too-large", 3)
case("gml-unknown-crs.gml", model(box("b1"), srs="urn:example:crs:nowhere"), "crs-unknown", 1)
case("gml-no-crs.gml", model(box("b1"), srs=""), "crs-missing", 1)
case("gml-nan-coordinate.gml", model(box("b1", coords="35.26 139.74 nan 35.2601 139.74 3 35.2601 139.7401 3 35.26 139.74 nan")
                                     + box("b2", lon=139.7402)), "coordinate-invalid", 0)
case("gml-text-coordinate.gml", model(box("b1", coords="35.26 139.74 three 35.2601 139.74 3 35.26 139.74 3")),
     "coordinate-invalid", 0)
case("gml-coordinate-count.gml", model(box("b1", coords="35.26 139.74 3 35.2601 139.74")), "coordinate-count", 0)
case("gml-absurd-coordinates.gml", model(box("b1", lat=1000.0) + box("b2")), "coordinate-out-of-range", 0)
case("gml-degenerate-polygon.gml", model(box("b1", coords="35.26 139.74 3 35.26 139.74 3 35.26 139.74 3 35.26 139.74 3")),
     "polygon-degenerate", 0)
case("gml-broken-href.gml", model(box("b1").replace(
    "</gml:CompositeSurface>", '<gml:surfaceMember xlink:href="#nowhere"/></gml:CompositeSurface>')), "xlink-unresolved", 0)
case("gml-missing-texture.gml", model(box("b1") + '<app:appearanceMember><app:Appearance><app:surfaceDataMember>'
                                      '<app:ParameterizedTexture><app:imageURI>missing/none.jpg</app:imageURI>'
                                      '<app:target uri="#b1_p0"><app:TexCoordList><app:textureCoordinates ring="#b1_r0">'
                                      '0 0 1 0 1 1 0 1 0 0</app:textureCoordinates></app:TexCoordList></app:target>'
                                      '</app:ParameterizedTexture></app:surfaceDataMember></app:Appearance>'
                                      '</app:appearanceMember>\n'), "texture-missing", 0)
case("gml-texture-coords-mismatch.gml", model(box("b1") + '<app:appearanceMember><app:Appearance><app:surfaceDataMember>'
                                              '<app:ParameterizedTexture><app:imageURI>x.jpg</app:imageURI>'
                                              '<app:target uri="#b1_p0"><app:TexCoordList><app:textureCoordinates '
                                              'ring="#b1_r0">0 0 1 0</app:textureCoordinates></app:TexCoordList></app:target>'
                                              '</app:ParameterizedTexture></app:surfaceDataMember></app:Appearance>'
                                              '</app:appearanceMember>\n'), "texture-coords-mismatch", 0)
case("gml-no-geometry.gml", model('<core:cityObjectMember><bldg:Building gml:id="empty"/></core:cityObjectMember>\n' +
                                  box("b1")), "object-no-geometry", 0)
case("gml-unclosed-tag.gml", model(box("b1")).replace("</bldg:lod1Solid>", "", 1), "xml-malformed", 1)
case("gml-mismatched-namespace.gml", good.replace('xmlns:gml="http://www.opengis.net/gml"', ''), "xml-error", 1)
gml3 = open(os.path.join(samples, "citygml3-ogc-examples/from-citygml2-sample-building/CityGMLv3/"
                                  "Building_LOD2-EPSG25832.gml"), encoding="utf-8").read()
case("gml3-truncated.gml", gml3[: len(gml3) * 3 // 4], "xml-malformed", 1)
case("gml3-local-crs.gml", gml3.replace("urn:ogc:def:crs,crs:EPSG::25832,crs:EPSG::5783", "#local-CRS-1"), "crs-unknown", 1)

# ---------------------------------------------------------------- CityJSON
cube = json.load(open(os.path.join(samples, "cityjson-cjio/cube.json")))
cube_txt = json.dumps(cube, indent=1)
case("cj-truncated.json", cube_txt[: len(cube_txt) // 2], "json-malformed", 1, "--crs EPSG:28992")
case("cj-array.json", "[1, 2, 3]\n", "cityjson-malformed", 1, "--crs EPSG:28992")
case("cj-not-cityjson.json", '{"type": "CityJSON", "version": "2.0", "vertices": []}\n', "cityjson-malformed", 1,
     "--crs EPSG:28992")
c = json.loads(cube_txt); c["CityObjects"]["id-1"]["geometry"][0]["boundaries"][0][0][0][0] = 99999
case("cj-bad-index.json", json.dumps(c), "cityjson-bad-vertex", 3, "--crs EPSG:28992")
case("cj-no-crs.json", cube_txt, "crs-missing", 1)
c = json.loads(cube_txt); c["transform"] = {"scale": [1, 1]}
case("cj-bad-transform.json", json.dumps(c), "cityjson-malformed", 1, "--crs EPSG:28992")
case("cj-deep-nesting.json", '{"type":"CityJSON","version":"2.0","CityObjects":{"a":{"type":"Building","attributes":{"x":' +
     "[" * 100000 + "]" * 100000 + "}}},\"vertices\":[]}", "json-too-deep", 1, "--crs EPSG:28992")
c = json.loads(cube_txt); c["CityObjects"]["id-1"]["geometry"][0]["lod"] = {"x": 1}
case("cj-bad-lod.json", json.dumps(c), "cityjson-bad-lod", 1, "--crs EPSG:28992")
c = json.loads(cube_txt); c["version"] = "9.9"
case("cj-unknown-version.json", json.dumps(c), "cityjson-version", 0, "--crs EPSG:28992")
c = json.loads(cube_txt); c["CityObjects"]["id-1"]["type"] = "Building"
c["CityObjects"]["id-1"]["children"] = ["id-2"]
c["CityObjects"]["id-2"] = {"type": "BuildingPart", "parents": ["id-1"], "children": ["id-1"], "geometry": []}
case("cj-cycle.json", json.dumps(c), "cityjson-broken-reference", 0, "--crs EPSG:28992")
c = json.loads(cube_txt); c["CityObjects"]["id-1"]["geometry"] = [{"type": "GeometryInstance", "template": 5,
                                                                    "boundaries": [0], "transformationMatrix": [1] * 16}]
c["CityObjects"]["id-2"] = json.loads(cube_txt)["CityObjects"]["id-1"]
case("cj-bad-template.json", json.dumps(c), "cityjson-bad-template", 3, "--crs EPSG:28992")
header = json.dumps({"type": "CityJSON", "version": "2.0", "transform": cube["transform"], "CityObjects": {}, "vertices": [],
                     "metadata": {"referenceSystem": "https://www.opengis.net/def/crs/EPSG/0/28992"}})
feat = json.dumps({"type": "CityJSONFeature", "id": "id-1", "CityObjects": cube["CityObjects"], "vertices": cube["vertices"]})
case("cjseq-no-header.city.jsonl", feat + "\n", "cityjson-seq-header", 1)
case("cjseq-broken-line.city.jsonl", header + "\n" + feat + "\n" + feat[: len(feat) // 2] + "\n", "json-malformed", 3)
case("cjseq-wrong-type.city.jsonl", header + "\n" + '{"type":"Feature","properties":{}}\n' + feat + "\n",
     "cityjson-malformed", 3)

# ---------------------------------------------------------------- 地図XML (cadastral)
moj = open(os.path.join(samples, "moj-cadastral/mojxml-py/12103-0400-76/12103-0400-76.xml"), encoding="utf-8").read()
case("moj-truncated.xml", moj[: len(moj) // 3], "xml-malformed", 1, "--types parcel")
case("moj-not-map.xml", '<?xml version="1.0"?>\n<root><x/></root>\n', "citygml-not", 1, "--types parcel")
case("moj-entity.xml", moj.replace('<?xml version="1.0" encoding="UTF-8"?>',
                                   '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE 地図 [ <!ENTITY x "y"> ]>', 1),
     "xml-entity-declared", 1, "--types parcel")

# ---------------------------------------------------------------- OGR vectors
fc = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"id": "a", "height": 10},
     "geometry": {"type": "Polygon", "coordinates": [[[139.74, 35.26], [139.7401, 35.26], [139.7401, 35.2601],
                                                      [139.74, 35.2601], [139.74, 35.26]]]}},
    {"type": "Feature", "properties": {"id": "b"}, "geometry": None}]}
fct = json.dumps(fc)
case("ogr-truncated.geojson", fct[: len(fct) // 2], "ogr-unreadable", 1)
case("ogr-null-geometry.geojson", fct, "ogr-no-geometry", 0)
fc2 = json.loads(fct); fc2["features"][0]["properties"].pop("height")
case("ogr-no-height.geojson", json.dumps(fc2), "footprint-no-height", 0)
case("ogr-garbage.gpkg", b"SQLite format 3\x00" + bytes(4000), "ogr-unreadable", 1)
case("ogr-lonely.shp", struct.pack(">I", 9994) + bytes(96), "ogr-unreadable", 1)

# ---------------------------------------------------------------- meshes and point clouds
case("mesh-bad-face.obj", "o x\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\nf 1 2 3\n", "obj-bad-face", 0,
     "--crs EPSG:6677 --origin -8600,-82100,0")
case("mesh-nan-vertex.obj", "o x\nv 0 0 nan\nv 1 0 0\nv 0 1 0\nv 1 1 0\nf 1 2 3\nf 2 4 3\n", "obj-malformed", 3,
     "--crs EPSG:6677 --origin -8600,-82100,0")
case("mesh-missing-mtl.obj", "mtllib nowhere.mtl\no x\nv 0 0 0\nv 1 0 0\nv 0 1 0\nusemtl red\nf 1 2 3\n", "mtl-missing", 0,
     "--crs EPSG:6677 --origin -8600,-82100,0")
case("mesh-no-crs.obj", "o x\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "crs-missing", 1)
case("mesh-bad-origin.obj", "o x\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "mesh-origin", 1, "--crs EPSG:6677 --origin 1,2")
case("mesh-truncated.glb", b"glTF\x02\x00\x00\x00\xff\xff\x00\x00\x10\x00\x00\x00JSON{\"asset\"", "gltf-malformed", 1,
     "--crs EPSG:6677")
case("mesh-draco.gltf", json.dumps({"asset": {"version": "2.0"}, "extensionsRequired": ["KHR_draco_mesh_compression"],
                                    "extensionsUsed": ["KHR_draco_mesh_compression"]}), "gltf-malformed", 1,
     "--crs EPSG:6677")
case("mesh-missing-buffer.gltf", json.dumps({
    "asset": {"version": "2.0"}, "buffers": [{"uri": "nowhere.bin", "byteLength": 36}],
    "bufferViews": [{"buffer": 0, "byteLength": 36}],
    "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3"}],
    "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}], "nodes": [{"mesh": 0}], "scenes": [{"nodes": [0]}]}),
    "gltf-buffer-missing", 1, "--crs EPSG:6677")
case("mesh-lying-header.ply", "ply\nformat ascii 1.0\nelement vertex 100\nproperty float x\nproperty float y\n"
     "property float z\nelement face 50\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n",
     "mesh-unreadable", 1, "--crs EPSG:6677")
case("mesh-empty.stl", "", "mesh-unreadable", 1, "--crs EPSG:6677")
case("cloud-garbage.pcd", "# .PCD v0.7\nVERSION 0.7\nFIELDS x y\nDATA ascii\nhello\n", "pointcloud-unreadable", 1,
     "--crs EPSG:6677")
case("cloud-empty.ply", "ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\nproperty float y\nproperty float z\n"
     "end_header\n", "pointcloud-unreadable", 1, "--crs EPSG:6677")
case("cloud-absurd.xyz", "1e30 1e30 1e30\n2e30 2e30 2e30\n3e30 1e30 1e30\n", "nothing-converted", 1, "--crs EPSG:6677")

# ---------------------------------------------------------------- zip archives
def zipped(entries, compress=zipfile.ZIP_DEFLATED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", compress) as z:
        for name, data in entries:
            z.writestr(name, data)
    return b.getvalue()


case("zip-traversal.zip", zipped([("../../evil.gml", good), ("ok/a.gml", good)]), "zip-entry-unsafe", 0)
case("zip-absolute.zip", zipped([("/etc/evil.gml", good), ("ok/a.gml", good)]), "zip-entry-unsafe", 0)
case("zip-corrupt.zip", b"PK\x03\x04" + bytes(200), "zip-unreadable", 1)
# A zip bomb: one entry of 300 MB of spaces after a CityGML start (deflate: about 300 KB).
bomb = io.BytesIO()
with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
    with z.open("bomb/a.gml", "w", force_zip64=True) as w:
        w.write(good[:200].encode())
        chunk = b" " * (1 << 20)
        for _ in range(300):
            w.write(chunk)
case("zip-bomb.zip", bomb.getvalue(), "zip-bomb", 1)

with open(os.path.join(out, "corpus.tsv"), "w", encoding="utf-8") as f:
    f.write("# file\targuments\texpected code\texpected exit\n")
    for r in rows:
        f.write("\t".join(r) + "\n")
print("%d files in %s" % (len(rows), out))
