// twin web viewer: the city's tilesets in CesiumJS, served locally (no Ion token, no online
// imagery or terrain), and — when `twin serve` has a store — everything the city knows about a
// place: click a building for its attributes, parcels (地番), zoning, rule checks and permits;
// click a parcel for its zoning and buildable envelope; search a 地番; colour buildings by rule
// result, permit status or height; staff sign in to update permits.
/* global Cesium */
window.CESIUM_BASE_URL = 'cesium/';
Cesium.Ion.defaultAccessToken = '';

const params = new URLSearchParams(location.search);
const state = {
  tilesets: [], terrainTilesets: 0, pointTilesets: 0, pointsLoaded: 0, allTilesLoaded: false, featuresLoaded: 0, selected: null, selectedParcel: null,
  panelShown: false, lastSearch: null, lang: params.get('lang') === 'en' ? 'en' : 'ja',
  store: false, verdicts: new Map(), permitStatus: new Map(),
};
window.twin = state;  // for browser tests

// ---- words (Japanese labels with English) ----------------------------------------------------
const words = {
  colour: ['色分け', 'Colour'], colourNone: ['なし', 'none'], colourVerdict: ['法令チェック結果', 'rule result'],
  colourPermit: ['手続の状況', 'permit status'], colourHeight: ['高さ', 'height'],
  parcels: ['筆 (地番)', 'parcels'], zoning: ['用途地域', 'zoning'], signin: ['職員ログイン', 'staff sign-in'],
  signout: ['ログアウト', 'sign out'], building: ['建物', 'Building'], parcel: ['筆', 'Parcel'],
  attributes: ['属性', 'Attributes'], site: ['敷地 (地番)', 'Site (parcels)'], districts: ['用途地域・地域地区', 'Zoning'],
  rules: ['法令チェック', 'Rule checks'], permits: ['手続', 'Permits'], envelope: ['建築可能な範囲', 'Buildable envelope'],
  showEnvelope: ['立体表示', 'show in 3D'], noPermits: ['手続の記録なし', 'no permits on record'],
  buildingArea: ['建築面積', 'building area'], height: ['高さ', 'height'], storeys: ['地上階数', 'storeys'],
  floorArea: ['延べ面積', 'total floor area'], estimated: ['推定', 'estimated'], usage: ['用途', 'usage'],
  siteArea: ['敷地面積', 'site area'], share: ['割合', 'share'], coverage: ['建ぺい率', 'coverage'],
  far: ['容積率', 'floor-area ratio'], maxBuildingArea: ['最大建築面積', 'max building area'],
  maxFloorArea: ['最大延べ面積', 'max floor area'], maxHeight: ['最高高さ', 'max height'], area: ['地積', 'area'],
  pass: ['適合', 'pass'], fail: ['不適合', 'fail'], unknown: ['判定不能', 'unknown'], update: ['更新', 'update'],
  conflict: ['他の職員が更新しました。再読込してください', 'changed by someone else: reload'],
  notFound: ['見つかりません', 'not found'], documents: ['添付書類', 'documents'],
};
const t = (k) => (words[k] ? words[k][state.lang === 'ja' ? 0 : 1] : k);
const both = (k) => (words[k] ? `${words[k][0]} ${words[k][1]}` : k);
function applyLanguage() {
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  document.getElementById('lang').textContent = state.lang === 'ja' ? 'English' : '日本語';
  document.getElementById('search').placeholder = state.lang === 'ja' ? '地番・住所・建物ID' : 'parcel no., address, building id';
  updateSignin();
}

// ---- viewer ----------------------------------------------------------------------------------
const viewer = new Cesium.Viewer('map', {
  baseLayer: false, baseLayerPicker: false, geocoder: false, timeline: false, animation: false,
  homeButton: true, sceneModePicker: false, navigationHelpButton: false, infoBox: false,
  selectionIndicator: false, terrainProvider: new Cesium.EllipsoidTerrainProvider(),
});
viewer.scene.globe.baseColor = Cesium.Color.fromCssColorString('#dfe3d8');
viewer.scene.globe.depthTestAgainstTerrain = false;
const statusEl = document.getElementById('status');
const panel = document.getElementById('panel');
const panelBody = document.getElementById('panelBody');
const legend = document.getElementById('legend');
let buildingTilesets = [];
// Relief tilesets (kind "terrain" in api/config): shown as the ground; parcels and zoning are
// draped on them too, and clicking them is a click on the ground, not on a building.
let terrainTilesets = [];
let pointTilesets = [];  // kind "points": point clouds
const groundClassification = () => (terrainTilesets.length ? Cesium.ClassificationType.BOTH : Cesium.ClassificationType.TERRAIN);

const token = () => sessionStorage.getItem('twinToken') || '';
async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const r = await fetch(path, { ...options, headers });
  const body = r.headers.get('Content-Type')?.includes('json') ? await r.json() : await r.text();
  if (!r.ok) {
    const err = new Error(body?.error?.message || `HTTP ${r.status}`);
    err.status = r.status;
    err.body = body;
    throw err;
  }
  return body;
}
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const fmt = (v, d = 2) => (v === null || v === undefined || Number.isNaN(v) ? '—' : Number(v).toLocaleString('ja-JP', { maximumFractionDigits: d }));
const badge = (v) => `<span class="verdict ${esc(v)}">${esc(t(v))}</span>`;

// ---- highlight -------------------------------------------------------------------------------
let highlighted = null;
let highlightedColor = null;
function highlight(feature) {
  if (highlighted) {
    try { highlighted.color = highlightedColor; } catch (e) { /* tile unloaded */ }
    highlighted = null;
  }
  if (feature) {
    highlighted = feature;
    highlightedColor = Cesium.Color.clone(feature.color);
    feature.color = Cesium.Color.YELLOW;
  }
}
function showPanel(html) {
  panelBody.innerHTML = html;
  panel.style.display = 'block';
  state.panelShown = true;
}
document.getElementById('close').onclick = () => {
  panel.style.display = 'none';
  state.panelShown = false;
  highlight(null);
};

// ---- building panel --------------------------------------------------------------------------
function attributesTable(feature) {
  const rows = [];
  const schema = feature?.content?.metadata?.class?.properties ?? {};
  for (const pid of feature ? feature.getPropertyIds() : []) {
    const value = feature.getProperty(pid);
    if (value === undefined || value === null || value === '') continue;
    rows.push(`<tr><td class="k">${esc(schema[pid]?.name ?? pid)}</td><td>${esc(value)}</td></tr>`);
  }
  return `<table>${rows.join('')}</table>`;
}

function permitsHtml(permits) {
  if (!permits || !permits.length) return `<p class="small">${esc(t('noPermits'))}</p>`;
  const staff = !!token();
  const sorted = [...permits].sort((a, b) => (a.applied_on || '').localeCompare(b.applied_on || ''));
  return sorted.map((p) => {
    const docs = (p.documents || []).map((d) => `<a href="api/permits/${encodeURIComponent(p.id)}/documents/${encodeURIComponent(d.id)}">${esc(d.kind)}: ${esc(d.name)}</a>`).join('<br>');
    const edit = staff ? `<div><select data-permit="${esc(p.id)}" data-version="${p.version}">
        ${['applied', 'under-review', 'granted', 'refused', 'withdrawn', 'closed'].map((s) => `<option ${s === p.status ? 'selected' : ''}>${s}</option>`).join('')}
      </select> <button data-update="${esc(p.id)}">${esc(t('update'))}</button> <span class="small" data-msg="${esc(p.id)}"></span></div>` : '';
    return `<div class="permit"><b>${esc(p.type)}</b> ${esc(p.id)} — ${esc(p.status)}<br>
      <span class="small">${esc(p.applied_on)}${p.decided_on ? ' → ' + esc(p.decided_on) : ''}${p.applicant ? ' · ' + esc(p.applicant) : ''}</span>
      ${p.notes ? `<div class="small">${esc(p.notes)}</div>` : ''}${docs ? `<div>${docs}</div>` : ''}${edit}</div>`;
  }).join('');
}

function districtsHtml(ds) {
  if (!ds || !ds.length) return '<p class="small">—</p>';
  return `<table>${ds.map((d) => `<tr><td class="k">${esc(d.name || d.kind)} <span class="small">${esc(d.kind)} ${esc(d.code)}</span></td>
    <td>${fmt(d.share * 100, 1)} %${d.coverage_rate !== null && d.coverage_rate !== undefined ? ` · ${esc(t('coverage'))} ${fmt(d.coverage_rate * 100, 0)} %` : ''}${d.floor_area_rate !== null && d.floor_area_rate !== undefined ? ` · ${esc(t('far'))} ${fmt(d.floor_area_rate * 100, 0)} %` : ''}${d.height_limit ? ` · ${fmt(d.height_limit)} m` : ''}${d.max_height ? ` · ≤ ${fmt(d.max_height)} m` : ''}</td></tr>`).join('')}</table>`;
}

function resultsHtml(results) {
  return (results || []).map((r) => `<div style="margin:4px 0">${badge(r.verdict)} <b>${esc(r.title)}</b>
      ${r.value !== null && r.value !== undefined ? ` ${fmt(r.value)} ${esc(r.unit)}` : ''}${r.limit !== null && r.limit !== undefined ? ` / ${fmt(r.limit)} ${esc(r.unit)}` : ''}
      <div class="reason">${esc(r.reason)}</div>${r.formula ? `<div class="small">${esc(r.formula)}</div>` : ''}
      <div class="small">${esc(r.article)}</div></div>`).join('');
}

async function showBuilding(id, feature) {
  state.selected = id;
  highlight(feature);
  if (!state.store) {
    showPanel(`<h2>${esc(both('building'))} ${esc(id)}</h2>${attributesTable(feature)}`);
    return;
  }
  showPanel(`<h2>${esc(both('building'))} ${esc(id)}</h2><p class="small">…</p>`);
  let d;
  try {
    d = await api(`api/buildings/${encodeURIComponent(id)}`);
  } catch (e) {
    showPanel(`<h2>${esc(both('building'))} ${esc(id)}</h2><p class="small">${esc(e.message)}</p>${attributesTable(feature)}`);
    return;
  }
  if (state.selected !== id) return;
  const b = d.building;
  state.verdicts.set(id, d.verdict);
  const site = d.site.parcels.map((p) => `<tr><td class="k"><a href="#" data-parcel="${esc(p.id)}">${esc(p.locality)} ${esc(p.chiban)}</a></td><td>${fmt(p.area)} m²</td></tr>`).join('');
  showPanel(`<h2>${esc(both('building'))} <span id="buildingId">${esc(b.id)}</span> ${badge(d.verdict)}</h2>
    <table>
      <tr><td class="k">${esc(both('buildingArea'))}</td><td>${fmt(b.building_area)} m²</td></tr>
      <tr><td class="k">${esc(both('height'))}</td><td>${fmt(b.height)} m <span class="small">${esc(b.height_source)}</span></td></tr>
      <tr><td class="k">${esc(both('storeys'))}</td><td>${fmt(b.storeys_above, 0)}</td></tr>
      <tr><td class="k">${esc(both('floorArea'))}</td><td>${fmt(b.floor_area)} m²${b.floor_area_estimated ? ` (${esc(t('estimated'))})` : ''}</td></tr>
      <tr><td class="k">${esc(both('usage'))}</td><td>${esc(b.usage)}</td></tr>
    </table>
    <h3>${esc(both('site'))}</h3><table>${site || '<tr><td>—</td></tr>'}<tr><td class="k">${esc(both('siteArea'))}</td><td>${fmt(d.site.area)} m²</td></tr></table>
    <h3>${esc(both('districts'))}</h3>${districtsHtml(d.site.districts)}
    <h3>${esc(both('rules'))}</h3><div id="results">${resultsHtml(d.results)}</div>
    <h3>${esc(both('permits'))}</h3><div id="permits">${permitsHtml(d.permits)}</div>
    <h3>${esc(both('attributes'))}</h3>${attributesTable(feature)}`);
}

// ---- parcel panel and envelope ---------------------------------------------------------------
let envelopeTileset = null;
async function showParcel(id) {
  state.selectedParcel = id;
  highlight(null);
  let p;
  try {
    p = await api(`api/parcels/${encodeURIComponent(id)}`);
  } catch (e) {
    showPanel(`<h2>${esc(both('parcel'))} ${esc(id)}</h2><p class="small">${esc(e.message)}</p>`);
    return;
  }
  let env = null;
  try { env = await api(`api/parcels/${encodeURIComponent(id)}/envelope`); } catch (e) { /* no zoning */ }
  const lim = env ? `<table>
      <tr><td class="k">${esc(both('maxBuildingArea'))}</td><td>${fmt(env.max_building_area)} m²</td></tr>
      <tr><td class="k">${esc(both('maxFloorArea'))}</td><td>${fmt(env.max_floor_area)} m²</td></tr>
      <tr><td class="k">${esc(both('maxHeight'))}</td><td>${fmt(env.max_height)} m</td></tr></table>
      ${env.limits.map((l) => `<div class="small">${esc(l.title)}: ${esc(l.formula || l.reason)}</div>`).join('')}
      ${env.notes.map((n) => `<div class="small">${esc(n)}</div>`).join('')}
      <button id="envBtn">${esc(t('showEnvelope'))}</button>` : '';
  showPanel(`<h2>${esc(both('parcel'))} <span id="parcelChiban">${esc(p.locality)} ${esc(p.chiban)}</span></h2>
    <table><tr><td class="k">${esc(both('area'))}</td><td>${fmt(p.area)} m²</td></tr>
      ${p.realestate_no ? `<tr><td class="k">不動産番号</td><td>${esc(p.realestate_no)}</td></tr>` : ''}</table>
    <h3>${esc(both('districts'))}</h3>${districtsHtml(p.districts)}
    <h3>${esc(both('envelope'))}</h3>${lim}
    <h3>${esc(both('permits'))}</h3>${permitsHtml(p.permits)}`);
  const btn = document.getElementById('envBtn');
  if (btn) {
    btn.onclick = () => showEnvelope(id);
    showEnvelope(id).catch((e) => { statusEl.textContent = e.message; });
  }
}
async function showEnvelope(id) {
  if (envelopeTileset) viewer.scene.primitives.remove(envelopeTileset);
  envelopeTileset = await Cesium.Cesium3DTileset.fromUrl(`api/parcels/${encodeURIComponent(id)}/envelope/tileset.json`);
  viewer.scene.primitives.add(envelopeTileset);
  state.envelopeShown = id;
}

panelBody.addEventListener('click', async (e) => {
  const a = e.target.closest('[data-parcel]');
  if (a) {
    e.preventDefault();
    showParcel(a.dataset.parcel);
    return;
  }
  const u = e.target.closest('[data-update]');
  if (u) {
    const id = u.dataset.update;
    const sel = panelBody.querySelector(`select[data-permit="${CSS.escape(id)}"]`);
    const msg = panelBody.querySelector(`[data-msg="${CSS.escape(id)}"]`);
    try {
      const p = await api(`api/permits/${encodeURIComponent(id)}`, {
        method: 'PUT', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ version: Number(sel.dataset.version), status: sel.value }),
      });
      sel.dataset.version = p.version;
      msg.textContent = `v${p.version} ✓`;
    } catch (err) {
      msg.textContent = err.status === 409 ? t('conflict') : err.message;
    }
  }
});

// ---- picking ---------------------------------------------------------------------------------
viewer.screenSpaceEventHandler.setInputAction((e) => {
  const picked = viewer.scene.pick(e.position);
  if (picked instanceof Cesium.Cesium3DTileFeature && !terrainTilesets.includes(picked.tileset) &&
      !pointTilesets.includes(picked.tileset)) {
    const id = picked.getProperty('gml_id');
    if (id) showBuilding(id, picked);
    return;
  }
  // A parcel under the click (on a relief tileset the pick may be the ground before the parcel).
  const hits = picked instanceof Cesium.Cesium3DTileFeature ? viewer.scene.drillPick(e.position, 4) : [picked];
  const parcelHit = hits.find((h) => h && h.id instanceof Cesium.Entity && h.id.properties?.twinParcel);
  if (parcelHit) {
    showParcel(parcelHit.id.properties.twinParcel.getValue());
    return;
  }
  panel.style.display = 'none';
  state.panelShown = false;
  state.selected = null;
  highlight(null);
}, Cesium.ScreenSpaceEventType.LEFT_CLICK);

// ---- layers: parcels on the ground, zoning with a legend -------------------------------------
const zoningColours = {
  1: '#00b050', 2: '#66cc66', 3: '#99dd55', 4: '#ccee66', 5: '#ffee66', 6: '#ffcc66', 7: '#ffaa55', 8: '#bbdd99',
  9: '#ff99cc', 10: '#ff5599', 11: '#bb99ff', 12: '#99ccff', 13: '#6699ff',
};
let parcelSource = null;
let zoningSource = null;
function areaBox() {
  const r = viewer.scene.primitives.length ? buildingTilesets[0]?.boundingSphere : null;
  if (!r) return null;
  const c = Cesium.Cartographic.fromCartesian(r.center);
  const d = Math.max(0.002, (r.radius * 3) / 111000);
  const lon = Cesium.Math.toDegrees(c.longitude);
  const lat = Cesium.Math.toDegrees(c.latitude);
  return [lon - d, lat - d, lon + d, lat + d].map((v) => v.toFixed(6)).join(',');
}
// Parcels of what the camera sees (at most 5,000 per view: the API caps it), reloaded when the
// camera stops on a different area; none when the view is wider than a few kilometres.
let parcelBox = null;
function viewBox() {
  const r = viewer.camera.computeViewRectangle(viewer.scene.globe.ellipsoid);
  if (!r) return null;
  const w = Cesium.Math.toDegrees(r.west), s = Cesium.Math.toDegrees(r.south);
  const e = Cesium.Math.toDegrees(r.east), n = Cesium.Math.toDegrees(r.north);
  if (e - w > 0.05 || n - s > 0.05) return null;  // too wide: parcels would be unreadable
  return [w, s, e, n];
}
async function loadParcels(box) {
  box = box || viewBox() || areaBox()?.split(',').map(Number);
  if (!box || !state.store) return;
  if (parcelBox && box[0] >= parcelBox[0] && box[1] >= parcelBox[1] && box[2] <= parcelBox[2] && box[3] <= parcelBox[3]) return;
  // Load a margin around the view so small moves need nothing new.
  const mx = (box[2] - box[0]) * 0.5, my = (box[3] - box[1]) * 0.5;
  const want = [box[0] - mx, box[1] - my, box[2] + mx, box[3] + my];
  const fc = await api(`api/parcels?bbox=${want.map((v) => v.toFixed(6)).join(',')}`);
  const source = new Cesium.CustomDataSource('parcels');
  for (const f of fc.features) {
    for (const poly of f.geometry.coordinates) {
      source.entities.add({
        polygon: {
          hierarchy: Cesium.Cartesian3.fromDegreesArray(poly[0].flat()),
          material: Cesium.Color.fromCssColorString('#ffffff').withAlpha(0.25),
          classificationType: groundClassification(),
        },
        polyline: {
          positions: Cesium.Cartesian3.fromDegreesArray(poly[0].flat()), width: 1.5,
          material: Cesium.Color.fromCssColorString('#7a4b00'), clampToGround: true,
        },
        properties: { twinParcel: f.properties.id, chiban: f.properties.chiban },
      });
    }
  }
  await viewer.dataSources.add(source);
  source.show = document.getElementById('showParcels').checked;
  if (parcelSource) viewer.dataSources.remove(parcelSource, true);
  parcelSource = source;
  parcelBox = want;
  state.parcelsShown = fc.features.length;
  state.parcelsTruncated = !!fc.truncated;
}
viewer.camera.moveEnd.addEventListener(() => {
  if (state.layersLoaded && document.getElementById('showParcels').checked) loadParcels().catch(() => {});
});
async function loadZoning() {
  const box = areaBox();
  if (!box || !state.store) return;
  const fc = await api(`api/districts?bbox=${box}&kind=UseDistrict`);
  zoningSource = new Cesium.CustomDataSource('zoning');
  const seen = new Map();
  for (const f of fc.features) {
    const colour = zoningColours[f.properties.code] || '#cccccc';
    seen.set(f.properties.code, [colour, f.properties.name || f.properties.code, f.properties]);
    for (const poly of f.geometry.coordinates)
      zoningSource.entities.add({ polygon: { hierarchy: Cesium.Cartesian3.fromDegreesArray(poly[0].flat()),
        material: Cesium.Color.fromCssColorString(colour).withAlpha(0.35), classificationType: groundClassification() } });
  }
  state.zoningLegend = [...seen.values()].map((v) => v[1]);
  zoningSource.show = false;
  await viewer.dataSources.add(zoningSource);
  state.zoningEntries = seen;
}
function showLegend(items, title) {
  if (!items.length) { legend.style.display = 'none'; return; }
  legend.innerHTML = `<b>${esc(title)}</b><br>` + items.map(([c, label]) => `<span class="sw" style="background:${c}"></span>${esc(label)}`).join('<br>');
  legend.style.display = 'block';
}
function refreshLegend() {
  const mode = document.getElementById('colour').value;
  if (document.getElementById('showZoning').checked && state.zoningEntries) {
    showLegend([...state.zoningEntries.values()].map(([c, name, p]) => [c, `${name} ${p.coverage_rate !== null ? fmt(p.coverage_rate * 100, 0) + '/' : ''}${p.floor_area_rate !== null ? fmt(p.floor_area_rate * 100, 0) + ' %' : ''}`]), both('zoning'));
  } else if (mode === 'verdict') {
    showLegend([['#4caf50', both('pass')], ['#e53935', both('fail')], ['#fbc02d', both('unknown')], ['#ffffff', '—']], both('colourVerdict'));
  } else if (mode === 'permit') {
    showLegend([['#1e88e5', 'applied / under-review'], ['#43a047', 'granted'], ['#757575', 'closed / other'], ['#ffffff', '—']], both('colourPermit'));
  } else if (mode === 'height') {
    showLegend([['#2c7bb6', '< 10 m'], ['#abd9e9', '10–20 m'], ['#fdae61', '20–40 m'], ['#d7191c', '≥ 40 m']], both('colourHeight'));
  } else if (mode.startsWith('attr:') && state.ramp) {
    const r = state.ramp;
    showLegend([['#2c7bb6', `< ${fmt(r[1])}`], ['#abd9e9', `${fmt(r[1])} – ${fmt(r[2])}`], ['#fdae61', `${fmt(r[2])} – ${fmt(r[3])}`],
      ['#d7191c', `≥ ${fmt(r[3])}`]], state.numeric.get(mode.slice(5)).name);
  } else {
    legend.style.display = 'none';
  }
}
document.getElementById('showParcels').onchange = (e) => { if (parcelSource) parcelSource.show = e.target.checked; };
document.getElementById('showZoning').onchange = (e) => { if (zoningSource) zoningSource.show = e.target.checked; refreshLegend(); };

// ---- colouring -------------------------------------------------------------------------------
const verdictColours = { pass: Cesium.Color.fromCssColorString('#4caf50'), fail: Cesium.Color.fromCssColorString('#e53935'), unknown: Cesium.Color.fromCssColorString('#fbc02d') };
function featureIds(tile) {
  const ids = [];
  const content = tile.content;
  for (let i = 0; i < (content?.featuresLength ?? 0); ++i) {
    const id = content.getFeature(i).getProperty('gml_id');
    if (id) ids.push(id);
  }
  return ids;
}
async function fetchVerdicts(ids) {
  const missing = ids.filter((id) => !state.verdicts.has(id));
  for (let i = 0; i < missing.length; i += 500) {
    const r = await api('api/buildings/verdicts', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ids: missing.slice(i, i + 500) }) });
    for (const [id, v] of Object.entries(r.verdicts)) state.verdicts.set(id, v);
  }
}
async function fetchPermits() {
  const r = await api('api/permits');
  for (const p of r.permits) if (p.building_id) state.permitStatus.set(p.building_id, p.status);
}
async function applyColouring() {
  const mode = document.getElementById('colour').value;
  for (const ts of buildingTilesets) {
    if (mode === 'none') ts.style = undefined;
    else if (mode === 'height') {
      ts.style = new Cesium.Cesium3DTileStyle({ color: { conditions: [
        ['${bldg_measuredHeight} === undefined', "color('white')"],
        ['${bldg_measuredHeight} >= 40', "color('#d7191c')"], ['${bldg_measuredHeight} >= 20', "color('#fdae61')"],
        ['${bldg_measuredHeight} >= 10', "color('#abd9e9')"], ['true', "color('#2c7bb6')"]] } });
    } else if (mode.startsWith('attr:')) {
      // Any numeric attribute: four equal steps between the smallest and largest loaded value.
      const pid = mode.slice(5);
      const r = state.numeric.get(pid);
      const step = (r.max - r.min) / 4 || 1;
      const v = '${' + pid + '}';
      state.ramp = [0, 1, 2, 3].map((i) => r.min + step * i);
      ts.style = new Cesium.Cesium3DTileStyle({ color: { conditions: [
        [`${v} === undefined || ${v} === null`, "color('white')"],
        [`${v} >= ${state.ramp[3]}`, "color('#d7191c')"], [`${v} >= ${state.ramp[2]}`, "color('#fdae61')"],
        [`${v} >= ${state.ramp[1]}`, "color('#abd9e9')"], ['true', "color('#2c7bb6')"]] } });
    } else {
      if (mode === 'verdict') {
        const ids = [];
        ts.root && (function walk(tile) { if (tile.content) ids.push(...featureIds(tile)); for (const c of tile.children) walk(c); })(ts.root);
        await fetchVerdicts(ids);
      } else {
        await fetchPermits();
      }
      const style = new Cesium.Cesium3DTileStyle();
      style.color = {
        evaluateColor(feature, result) {
          const id = feature.getProperty('gml_id');
          let c = Cesium.Color.WHITE;
          if (mode === 'verdict') c = verdictColours[state.verdicts.get(id)] ?? Cesium.Color.WHITE;
          else {
            const s = state.permitStatus.get(id);
            c = !s ? Cesium.Color.WHITE : (s === 'applied' || s === 'under-review') ? Cesium.Color.fromCssColorString('#1e88e5')
              : s === 'granted' ? Cesium.Color.fromCssColorString('#43a047') : Cesium.Color.fromCssColorString('#757575');
          }
          return Cesium.Color.clone(c, result);
        },
      };
      ts.style = style;
    }
  }
  state.colouring = mode;
  refreshLegend();
}
document.getElementById('colour').onchange = () => applyColouring().catch((e) => { statusEl.textContent = e.message; });

// Numeric attributes of the loaded buildings, offered in the colour menu.
state.numeric = new Map();  // property id -> {name, min, max}
function collectNumeric(tile) {
  const content = tile.content;
  const schema = content?.metadata?.class?.properties ?? {};
  const select = document.getElementById('colour');
  for (let i = 0; i < (content?.featuresLength ?? 0); ++i) {
    const f = content.getFeature(i);
    for (const pid of f.getPropertyIds()) {
      const v = f.getProperty(pid);
      if (typeof v !== 'number' || !Number.isFinite(v) || pid === 'bldg_measuredHeight') continue;
      let r = state.numeric.get(pid);
      if (!r) {
        r = { name: schema[pid]?.name ?? pid, min: v, max: v };
        state.numeric.set(pid, r);
        const o = document.createElement('option');
        o.value = `attr:${pid}`;
        o.textContent = r.name;
        select.append(o);
      }
      r.min = Math.min(r.min, v);
      r.max = Math.max(r.max, v);
    }
  }
}

// ---- search ----------------------------------------------------------------------------------
async function search(q) {
  if (!q || !state.store) return;
  const r = await api(`api/search?q=${encodeURIComponent(q)}`);
  if (!r.results.length) { statusEl.textContent = `${q}: ${t('notFound')}`; return; }
  const hit = r.results[0];
  state.lastSearch = hit;
  const height = (hit.ground_height ?? 0) + (hit.height ?? 0) + 250;
  viewer.camera.flyTo({ destination: Cesium.Cartesian3.fromDegrees(hit.center.lon, hit.center.lat, height), duration: 1.0 });
  if (hit.type === 'parcel') showParcel(hit.id);
  else showBuilding(hit.id, null);
}
document.getElementById('search').addEventListener('keydown', (e) => {
  if (e.key === 'Enter') search(e.target.value.trim()).catch((err) => { statusEl.textContent = err.message; });
});

// ---- sign in ---------------------------------------------------------------------------------
async function updateSignin() {
  const b = document.getElementById('signin');
  b.textContent = token() ? `${t('signout')} (${state.user || ''})` : t('signin');
}
document.getElementById('signin').onclick = async () => {
  if (token()) { sessionStorage.removeItem('twinToken'); state.user = ''; updateSignin(); return; }
  const tok = prompt(state.lang === 'ja' ? 'アクセストークン' : 'Access token');
  if (!tok) return;
  sessionStorage.setItem('twinToken', tok.trim());
  try {
    const s = await api('api/status');
    if (s.role === 'public') throw new Error('invalid token');
    state.user = s.user;
  } catch (e) {
    sessionStorage.removeItem('twinToken');
    statusEl.textContent = e.message;
  }
  updateSignin();
};
document.getElementById('lang').onclick = () => { state.lang = state.lang === 'ja' ? 'en' : 'ja'; applyLanguage(); refreshLegend(); };

// Helpers for browser tests: where a place is on screen, where the camera is.
state.screenPositionOf = (lon, lat, h) => {
  const p = Cesium.SceneTransforms.worldToWindowCoordinates(viewer.scene, Cesium.Cartesian3.fromDegrees(lon, lat, h));
  return p ? { x: p.x, y: p.y } : null;
};
state.cameraLonLat = () => {
  const c = viewer.camera.positionCartographic;
  return { lon: Cesium.Math.toDegrees(c.longitude), lat: Cesium.Math.toDegrees(c.latitude), height: c.height };
};
state.tilesLoaded = () => buildingTilesets.concat(terrainTilesets, pointTilesets).every((ts) => ts.tilesLoaded);
state.pickId = (x, y) => {
  const f = viewer.scene.pick(new Cesium.Cartesian2(x, y));
  return f instanceof Cesium.Cesium3DTileFeature ? f.getProperty('gml_id') : null;
};
state.lookDownAt = (lon, lat, h) => viewer.camera.setView({ destination: Cesium.Cartesian3.fromDegrees(lon, lat, h), orientation: { heading: 0, pitch: -Cesium.Math.PI_OVER_TWO, roll: 0 } });

// ---- start -----------------------------------------------------------------------------------
async function main() {
  applyLanguage();
  const config = await (await fetch('api/config')).json();
  state.store = config.store;
  if (!config.store) for (const id of ['colour', 'showParcels', 'showZoning', 'signin', 'search']) document.getElementById(id).disabled = true;
  if (config.basemap) viewer.imageryLayers.addImageryProvider(new Cesium.UrlTemplateImageryProvider({ url: config.basemap }));
  let pending = config.tilesets.length;
  for (const entry of config.tilesets) {
    const tileset = await Cesium.Cesium3DTileset.fromUrl(entry.url, { maximumScreenSpaceError: 8 });
    viewer.scene.primitives.add(tileset);
    if (entry.kind === 'terrain') terrainTilesets.push(tileset);
    else if (entry.kind === 'points') {
      // Point clouds: points grow when near (eye-dome lighting for depth), no building panels or colouring.
      tileset.pointCloudShading = new Cesium.PointCloudShading({ attenuation: true, maximumAttenuation: 4, eyeDomeLighting: true });
      pointTilesets.push(tileset);
    } else buildingTilesets.push(tileset);
    state.tilesets.push(entry.name);
    state.terrainTilesets = terrainTilesets.length;
    state.pointTilesets = pointTilesets.length;
    tileset.allTilesLoaded.addEventListener(() => {
      pending = Math.max(0, pending - 1);
      state.allTilesLoaded = pending === 0;
      statusEl.textContent = `${entry.name}: all tiles loaded`;
    });
    tileset.tileLoad.addEventListener((tile) => {
      state.featuresLoaded += tile.content?.featuresLength ?? 0;
      state.pointsLoaded += tile.content?.pointsLength ?? 0;
      collectNumeric(tile);
      if (state.colouring === 'verdict' && entry.kind === 'buildings') fetchVerdicts(featureIds(tile)).then(() => tileset.makeStyleDirty()).catch(() => {});
    });
    tileset.tileUnload.addEventListener((tile) => {
      state.featuresLoaded -= tile.content?.featuresLength ?? 0;
      state.pointsLoaded -= tile.content?.pointsLength ?? 0;
    });
    tileset.tileFailed.addEventListener((e) => { statusEl.textContent = `tile failed: ${e.url}: ${e.message}`; });
  }
  if (buildingTilesets.length > 0 || pointTilesets.length > 0) {
    const first = buildingTilesets[0] ?? pointTilesets[0];
    await viewer.zoomTo(first, new Cesium.HeadingPitchRange(0.3, -0.6, first.boundingSphere.radius * 2.5));
  }
  statusEl.textContent = config.tilesets.length ? 'loading tiles…' : 'no tilesets';
  if (config.store) {
    if (token()) { try { state.user = (await api('api/status')).user; } catch (e) { sessionStorage.removeItem('twinToken'); } }
    updateSignin();
    await loadParcels();
    await loadZoning();
    state.layersLoaded = true;
  }
}
main().catch((e) => { statusEl.textContent = 'error: ' + e.message; console.error(e); });
