// The land-use viewer end to end in headless Chromium (Debian's /usr/bin/chromium, SwiftShader
// WebGL): open the viewer served with a store, wait for all tiles, click a known building and
// check that its panel shows its gml:id, its parcels' 地番 and its rule results; search a 地番 and
// check that the camera flew there; show a parcel's envelope; colour buildings by rule result.
// Screenshots go to OUTDIR.
// Usage: node viewer-e2e.mjs URL BUILDING_ID SEARCH_TEXT OUTDIR
import { launchChromium, watchedPage } from './browser.mjs';

const [url, buildingId, searchText, outdir] = process.argv.slice(2);
const browser = await launchChromium();
const problems = [];
const checks = [];
function check(name, ok, detail = '') {
  checks.push({ name, ok: !!ok, detail });
}
try {
  const page = await watchedPage(browser, { width: 1280, height: 860 }, problems);
  await page.goto(url);
  await page.waitForFunction(() => window.twin && window.twin.allTilesLoaded && window.twin.layersLoaded, null, { timeout: 120000 });
  check('parcels drawn on the ground', await page.evaluate(() => window.twin.parcelsShown > 0));

  // Look straight down at the building, wait for its tiles, click its roof.
  const b = await page.evaluate(async (id) => (await (await fetch(`api/buildings/${encodeURIComponent(id)}`)).json()), buildingId);
  const top = (b.building.ground_height ?? 0) + (b.building.height ?? 10);
  await page.evaluate(([lon, lat, h]) => window.twin.lookDownAt(lon, lat, h), [b.building.center.lon, b.building.center.lat, top + 150]);
  await page.waitForTimeout(300);
  await page.waitForFunction(() => window.twin.tilesLoaded(), null, { timeout: 60000 });
  await page.waitForTimeout(300);
  const pos = await page.evaluate(([lon, lat, h]) => window.twin.screenPositionOf(lon, lat, h), [b.building.center.lon, b.building.center.lat, top]);
  const under = await page.evaluate(([x, y]) => window.twin.pickId(x, y), [pos.x, pos.y]);
  check('the building is under its roof point', under === buildingId, `picked ${under}`);
  await page.mouse.click(pos.x, pos.y);
  await page.waitForFunction((id) => document.getElementById('buildingId')?.textContent === id, buildingId, { timeout: 30000 });
  const panel = await page.evaluate(() => document.getElementById('panel').innerText);
  check('panel shows the gml:id', panel.includes(buildingId));
  const chiban = b.site.parcels[0]?.chiban;
  check('panel shows the 地番 of its parcels', chiban && panel.includes(chiban), chiban);
  check('panel shows the rule results', panel.includes('建ぺい率') && panel.includes('容積率') && /適合|不適合|判定不能/.test(panel));
  check('panel shows the permits', panel.includes('建築確認'));
  check('the building is highlighted', await page.evaluate(() => window.twin.selected) === buildingId);
  await page.screenshot({ path: `${outdir}/viewer-building.png` });

  // Search a 地番: the camera flies there and the parcel's panel opens.
  const before = await page.evaluate(() => window.twin.cameraLonLat());
  await page.fill('#search', searchText);
  await page.press('#search', 'Enter');
  await page.waitForFunction(() => document.getElementById('parcelChiban'), null, { timeout: 30000 });
  const hit = await page.evaluate(() => window.twin.lastSearch);
  // The flight (1 s of scene time) ends over the parcel; software rendering can make it slower.
  await page.waitForFunction((c) => {
    const p = window.twin.cameraLonLat();
    return Math.abs(p.lon - c.lon) < 0.001 && Math.abs(p.lat - c.lat) < 0.001;
  }, hit.center, { timeout: 60000 }).catch(() => {});
  const after = await page.evaluate(() => window.twin.cameraLonLat());
  const moved = Math.hypot((after.lon - before.lon) * 91000, (after.lat - before.lat) * 111000);
  check('search found the parcel', hit && hit.type === 'parcel' && searchText.endsWith(hit.chiban), JSON.stringify(hit));
  check('the camera moved to it', moved > 20 && Math.abs(after.lon - hit.center.lon) < 0.001 && Math.abs(after.lat - hit.center.lat) < 0.001,
    `moved ${moved.toFixed(0)} m`);
  await page.screenshot({ path: `${outdir}/viewer-search.png` });

  // The parcel's buildable envelope in 3D (shown with the parcel; the button shows it again).
  await page.waitForFunction(() => window.twin.envelopeShown, null, { timeout: 30000 });
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `${outdir}/viewer-envelope.png` });

  // Colour by rule result, with its legend.
  await page.selectOption('#colour', 'verdict');
  await page.waitForFunction(() => window.twin.colouring === 'verdict', null, { timeout: 30000 });
  await page.waitForTimeout(800);
  check('legend shown', await page.evaluate(() => document.getElementById('legend').style.display === 'block'));
  check('verdicts known for every loaded building', await page.evaluate(() => window.twin.verdicts.size) >= 13);
  await page.screenshot({ path: `${outdir}/viewer-colour.png` });

  // Any numeric attribute: the menu offers the loaded buildings' numeric attributes.
  const attr = await page.evaluate(() => [...document.querySelectorAll('#colour option')].map((o) => o.value).find((v) => v.startsWith('attr:')));
  check('numeric attributes offered for colouring', !!attr, attr);
  if (attr) {
    await page.selectOption('#colour', attr);
    await page.waitForFunction((a) => window.twin.colouring === a, attr, { timeout: 30000 });
    check('attribute legend shown', await page.evaluate(() => document.getElementById('legend').innerText.includes('–')));
  }

  // English UI.
  await page.click('#lang');
  check('English labels', (await page.evaluate(() => document.getElementById('toolbar').innerText)).includes('parcels'));
} catch (e) {
  problems.push(`error: ${e}`);
} finally {
  await browser.close();
}
const failed = checks.filter((c) => !c.ok);
console.log(JSON.stringify({ checks, problems }, null, 1));
process.exitCode = failed.length === 0 && problems.length === 0 ? 0 : 1;
