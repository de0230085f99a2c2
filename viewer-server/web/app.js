// twin web viewer: the city's tilesets in CesiumJS, served locally. No Ion token, no online
// imagery or terrain. Click a building to see its attributes.
/* global Cesium */
window.CESIUM_BASE_URL = 'cesium/';
Cesium.Ion.defaultAccessToken = '';

const state = { tilesets: [], allTilesLoaded: false, featuresLoaded: 0, selected: null };
window.twin = state;  // for browser tests

const viewer = new Cesium.Viewer('map', {
  baseLayer: false,
  baseLayerPicker: false,
  geocoder: false,
  timeline: false,
  animation: false,
  homeButton: true,
  sceneModePicker: false,
  navigationHelpButton: false,
  infoBox: false,
  selectionIndicator: false,
  terrainProvider: new Cesium.EllipsoidTerrainProvider(),
});
viewer.scene.globe.baseColor = Cesium.Color.fromCssColorString('#dfe3d8');
viewer.scene.globe.depthTestAgainstTerrain = false;

const status = document.getElementById('status');
const panel = document.getElementById('panel');
const title = document.getElementById('title');
const props = document.getElementById('props');

let highlighted = null;
let highlightedColor = null;

function showFeature(feature) {
  if (highlighted) {
    highlighted.color = highlightedColor;
    highlighted = null;
  }
  if (!(feature instanceof Cesium.Cesium3DTileFeature)) {
    panel.style.display = 'none';
    state.selected = null;
    return;
  }
  highlighted = feature;
  highlightedColor = Cesium.Color.clone(feature.color);
  feature.color = Cesium.Color.YELLOW;
  const ids = feature.getPropertyIds();
  const id = feature.getProperty('gml_id') ?? '';
  state.selected = id;
  title.textContent = (feature.getProperty('gml_name') || '') + ' ' + id;
  props.innerHTML = '';
  const schema = feature.content?.metadata?.class?.properties ?? {};
  for (const pid of ids) {
    const value = feature.getProperty(pid);
    if (value === undefined || value === null || value === '') continue;
    const tr = document.createElement('tr');
    const k = document.createElement('td');
    const v = document.createElement('td');
    k.textContent = schema[pid]?.name ?? pid;
    v.textContent = String(value);
    tr.append(k, v);
    props.append(tr);
  }
  panel.style.display = 'block';
}

viewer.screenSpaceEventHandler.setInputAction((e) => {
  showFeature(viewer.scene.pick(e.position));
}, Cesium.ScreenSpaceEventType.LEFT_CLICK);

async function main() {
  const list = await (await fetch('api/tilesets')).json();
  let pending = list.length;
  for (const entry of list) {
    const tileset = await Cesium.Cesium3DTileset.fromUrl(entry.url, { maximumScreenSpaceError: 8 });
    viewer.scene.primitives.add(tileset);
    state.tilesets.push(entry.name);
    tileset.allTilesLoaded.addEventListener(() => {
      pending = Math.max(0, pending - 1);
      state.allTilesLoaded = pending === 0;
      status.textContent = `${entry.name}: all tiles loaded`;
    });
    tileset.tileLoad.addEventListener((tile) => { state.featuresLoaded += tile.content?.featuresLength ?? 0; });
    tileset.tileUnload.addEventListener((tile) => { state.featuresLoaded -= tile.content?.featuresLength ?? 0; });
    tileset.tileFailed.addEventListener((e) => { status.textContent = `tile failed: ${e.url}: ${e.message}`; });
  }
  if (viewer.scene.primitives.length > 0) {
    const first = viewer.scene.primitives.get(0);
    await viewer.zoomTo(first, new Cesium.HeadingPitchRange(0.3, -0.6, first.boundingSphere.radius * 2.5));
  }
  status.textContent = list.length ? 'loading tiles…' : 'no tilesets';
}
main().catch((e) => { status.textContent = 'error: ' + e.message; console.error(e); });
