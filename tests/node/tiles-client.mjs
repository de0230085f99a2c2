// A 3D Tiles client twin was not written against: loaders.gl (@loaders.gl/3d-tiles) loads every
// tileset.json under the given directories over HTTP (a local server this script starts), expands
// implicit tilesets as the specification says (each tile's volume halved from the root region,
// whatever tile metadata says), loads every content and checks:
//   - every content loads (glb and b3dm, Draco, meshopt, quantised);
//   - every vertex lies inside the volume the client derived for its tile (and inside the
//     content's own bounding volume when one is given), within 5 cm;
//   - every feature id is below its property table's row count (b3dm: BATCH_LENGTH), and every
//     property of a table has a value per row.
// It also counts what loaders.gl hands an application for a missing value (the class noData):
// the sentinel itself, which is what README.md documents.
// Prints one line per problem and a JSON summary; exits 1 on any problem or when nothing was found.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { load } from '@loaders.gl/core';
import { Tiles3DLoader } from '@loaders.gl/3d-tiles';
import { tilesetFiles } from './tilesets.mjs';

const require = createRequire(import.meta.url);
const draco3d = require('draco3d');

const TOL = 0.05;  // metres
const A = 6378137.0, F = 1 / 298.257223563, E2 = F * (2 - F);

function toGeodetic([x, y, z]) {
  const lon = Math.atan2(y, x);
  const p = Math.hypot(x, y);
  let lat = Math.atan2(z, p * (1 - E2)), h = 0;
  for (let i = 0; i < 8; ++i) {
    const s = Math.sin(lat), n = A / Math.sqrt(1 - E2 * s * s);
    h = p / Math.cos(lat) - n;
    lat = Math.atan2(z, p * (1 - E2 * n / (n + h)));
  }
  return [lon, lat, h];
}

// 4x4 column-major helpers
const ident = () => [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
function mul(a, b) {
  const r = new Array(16).fill(0);
  for (let c = 0; c < 4; ++c) for (let rr = 0; rr < 4; ++rr) for (let k = 0; k < 4; ++k) r[c * 4 + rr] += a[k * 4 + rr] * b[c * 4 + k];
  return r;
}
function trs(node) {
  if (node.matrix) return Array.from(node.matrix);
  const [tx, ty, tz] = node.translation || [0, 0, 0];
  const [qx, qy, qz, qw] = node.rotation || [0, 0, 0, 1];
  const [sx, sy, sz] = node.scale || [1, 1, 1];
  return [
    (1 - 2 * (qy * qy + qz * qz)) * sx, 2 * (qx * qy + qz * qw) * sx, 2 * (qx * qz - qy * qw) * sx, 0,
    2 * (qx * qy - qz * qw) * sy, (1 - 2 * (qx * qx + qz * qz)) * sy, 2 * (qy * qz + qx * qw) * sy, 0,
    2 * (qx * qz + qy * qw) * sz, 2 * (qy * qz - qx * qw) * sz, (1 - 2 * (qx * qx + qy * qy)) * sz, 0,
    tx, ty, tz, 1];
}
const apply = (m, [x, y, z]) => [m[0] * x + m[4] * y + m[8] * z + m[12], m[1] * x + m[5] * y + m[9] * z + m[13], m[2] * x + m[6] * y + m[10] * z + m[14]];
const Y_UP_TO_Z_UP = [1, 0, 0, 0, 0, 0, 1, 0, 0, -1, 0, 0, 0, 0, 0, 1];

function inside(bv, p) {
  if (bv.region) {
    const [w, s, e, n, h0, h1] = bv.region;
    const [lon, lat, h] = toGeodetic(p);
    const dLat = TOL / A, dLon = TOL / (A * Math.max(1e-9, Math.cos(lat)));
    return lon >= w - dLon && lon <= e + dLon && lat >= s - dLat && lat <= n + dLat && h >= h0 - TOL && h <= h1 + TOL;
  }
  if (bv.box) {
    const b = bv.box, d = [p[0] - b[0], p[1] - b[1], p[2] - b[2]];
    for (let a = 0; a < 3; ++a) {
      const h = [b[3 + 3 * a], b[4 + 3 * a], b[5 + 3 * a]], len = Math.hypot(...h);
      const proj = len > 0 ? (d[0] * h[0] + d[1] * h[1] + d[2] * h[2]) / len : Math.hypot(...d);
      if (Math.abs(proj) > len + TOL) return false;
    }
    return true;
  }
  if (bv.sphere) {
    const s = bv.sphere;
    return Math.hypot(p[0] - s[0], p[1] - s[1], p[2] - s[2]) <= s[3] + TOL;
  }
  return false;
}

function positionsOf(accessor) {
  const v = accessor.value;
  const comps = accessor.components || 3;
  let scale = 1;
  if (accessor.normalized) {
    scale = v instanceof Int8Array ? 1 / 127 : v instanceof Uint8Array ? 1 / 255 : v instanceof Int16Array ? 1 / 32767 : v instanceof Uint16Array ? 1 / 65535 : 1;
  }
  const out = [];
  for (let i = 0; i + 2 < v.length; i += comps) {
    out.push(accessor.normalized && scale !== 1
      ? [Math.max(v[i] * scale, -1), Math.max(v[i + 1] * scale, -1), Math.max(v[i + 2] * scale, -1)]
      : [v[i], v[i + 1], v[i + 2]]);
  }
  return out;
}

const problems = [];
const summary = { tilesets: 0, tiles: 0, contents: 0, vertices: 0, features: 0, noDataSeen: {} };
const problem = (msg) => { if (problems.length < 200) problems.push(msg); };

async function checkTileset(file) {
  const dir = path.dirname(file);
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const p = path.join(dir, rel);
    if (!p.startsWith(dir) || !fs.existsSync(p) || !fs.statSync(p).isFile()) { res.statusCode = 404; res.end(); return; }
    res.end(fs.readFileSync(p));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}/`;
  // Images are not decoded (this checks geometry and features): Node has no WebP decoder, so the
  // EXT_texture_webp pre-check, which only asks whether the host could decode one, is skipped
  // (loaders.gl excludes an extension whose excludeExtensions entry is false).
  const options = {
    worker: false, modules: { draco3d },
    gltf: { loadImages: false, decompressMeshes: true, excludeExtensions: { EXT_texture_webp: false } },
    '3d-tiles': { loadGLTF: true },
  };
  try {
    const ts = await load(base + 'tileset.json', Tiles3DLoader, { ...options, '3d-tiles': { loadGLTF: false } });
    summary.tilesets++;
    const tiles = [];
    const walk = (t, parentTransform) => {
      const m = t.transform ? mul(parentTransform, Array.from(t.transform)) : parentTransform;
      tiles.push({ t, m });
      for (const c of t.children || []) walk(c, m);
    };
    walk(ts.root, ident());
    for (const { t, m } of tiles) {
      summary.tiles++;
      if (!t.contentUrl) continue;
      const name = path.relative(dir, file) + ' ' + t.contentUrl.slice(base.length);
      let c;
      try {
        c = await load(t.contentUrl, Tiles3DLoader, options);
      } catch (e) {
        problem(`${name}: content does not load: ${e.message}`);
        continue;
      }
      summary.contents++;
      const gltf = c.gltf;
      if (!gltf) { problem(`${name}: no glTF in the content`); continue; }
      // b3dm RTC_CENTER
      let base3 = m;
      if (c.rtcCenter) base3 = mul(m, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, c.rtcCenter[0], c.rtcCenter[1], c.rtcCenter[2], 1]);
      const root = mul(base3, Y_UP_TO_Z_UP);
      // loaders.gl moves the decoded extension (schema, tables with their values) to gltf.extensions.
      const meta = gltf.extensions?.EXT_structural_metadata || gltf.json?.extensions?.EXT_structural_metadata;
      const tables = meta?.propertyTables || [];
      const classes = meta?.schema?.classes || {};
      if (gltf.json?.extensionsUsed?.includes('EXT_structural_metadata') && !meta?.schema)
        problem(`${name}: EXT_structural_metadata without a schema`);
      for (const table of tables) {
        summary.features += table.count;
        const cls = classes[table.class]?.properties || {};
        for (const [id, prop] of Object.entries(table.properties || {})) {
          const data = prop.data;
          const n = data ? (Array.isArray(data) ? data.length : Object.keys(data).length) : -1;
          if (n !== table.count) problem(`${name}: property ${id} holds ${n} values for ${table.count} rows`);
          const nd = cls[id]?.noData;
          if (nd !== undefined && data) {
            const vals = Array.isArray(data) ? data : Object.values(data);
            const k = vals.filter((v) => v === nd).length;
            if (k) {
              const key = `${cls[id].componentType || cls[id].type}:${nd}`;
              summary.noDataSeen[key] = (summary.noDataSeen[key] || 0) + k;
            }
          }
        }
        for (const id of Object.keys(cls))
          if (!(id in (table.properties || {}))) problem(`${name}: class property ${id} missing from its property table`);
      }
      const batchLength = c.featureTableJson?.BATCH_LENGTH ?? c.featuresLength;
      const visit = (node, parent) => {
        const nm = mul(parent, trs(node));
        const mesh = node.mesh;
        for (const prim of mesh?.primitives || []) {
          const pos = prim.attributes?.POSITION;
          if (!pos?.value) { problem(`${name}: a primitive without positions`); continue; }
          for (const p of positionsOf(pos)) {
            const q = apply(nm, p);
            summary.vertices++;
            if (!inside(t.boundingVolume, q)) {
              problem(`${name}: vertex ${q.map((v) => v.toFixed(2)).join(',')} outside the tile's volume ${JSON.stringify(t.boundingVolume)}`);
              return;
            }
            if (t.content?.boundingVolume && !inside(t.content.boundingVolume, q)) {
              problem(`${name}: vertex outside the content's bounding volume`);
              return;
            }
          }
          const fx = prim.extensions?.EXT_mesh_features?.featureIds || [];
          for (const f of fx) {
            const ids = f.attribute !== undefined ? prim.attributes[`_FEATURE_ID_${f.attribute}`]?.value : null;
            const limit = f.propertyTable !== undefined ? tables[f.propertyTable]?.count : f.featureCount;
            if (f.propertyTable !== undefined && !tables[f.propertyTable]) problem(`${name}: feature ids refer to a missing property table`);
            if (ids) for (const id of ids) if (!(id >= 0 && (limit === undefined || id < limit))) { problem(`${name}: feature id ${id} beyond ${limit}`); break; }
          }
          const batch = prim.attributes?._BATCHID?.value;
          if (batch && batchLength !== undefined)
            for (const id of batch) if (!(id >= 0 && id < batchLength)) { problem(`${name}: batch id ${id} beyond ${batchLength}`); break; }
        }
        for (const child of node.children || []) visit(typeof child === 'object' ? child : gltf.nodes[child], nm);
      };
      const scene = gltf.scene ?? gltf.scenes?.[0];
      for (const node of scene?.nodes || gltf.nodes || []) visit(node, root);
    }
  } catch (e) {
    problem(`${file}: the tileset does not load: ${e.stack || e.message}`);
  } finally {
    server.close();
  }
}

for (const arg of process.argv.slice(2)) {
  for (const f of tilesetFiles(arg)) await checkTileset(path.resolve(f));
}
for (const p of problems) console.log('PROBLEM ' + p);
console.log(JSON.stringify({ ...summary, problems: problems.length }));
process.exit(problems.length > 0 || summary.tilesets === 0 || summary.contents === 0 ? 1 : 0);
