// Opens the twin web viewer in headless Chromium (Debian's /usr/bin/chromium, WebGL through
// SwiftShader), waits until every tile is loaded, and checks what CesiumJS made of the tileset.
// Usage: node viewer-smoke.mjs URL SCREENSHOT.png EXPECTED_FEATURES [EXPECTED_TERRAIN_TILESETS]
//        [EXPECTED_POINT_TILESETS] (point tilesets must have drawn some points)
import { launchChromium, watchedPage } from './browser.mjs';

const [url, screenshot, expected, expectedTerrain = '0', expectedPoints = '0'] = process.argv.slice(2);
const browser = await launchChromium();
const problems = [];
try {
  const page = await watchedPage(browser, { width: 1200, height: 800 }, problems);
  await page.goto(url);
  await page.waitForFunction(() => window.twin && window.twin.allTilesLoaded, null, { timeout: 120000 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: screenshot });
  const state = await page.evaluate(() => ({ features: window.twin.featuresLoaded, tilesets: window.twin.tilesets, terrain: window.twin.terrainTilesets ?? 0,
    pointTilesets: window.twin.pointTilesets ?? 0, points: window.twin.pointsLoaded ?? 0 }));
  const result = { ...state, problems };
  console.log(JSON.stringify(result));
  const ok = problems.length === 0 && state.features === Number(expected) && state.terrain === Number(expectedTerrain) &&
    state.pointTilesets === Number(expectedPoints) && (Number(expectedPoints) === 0 || state.points > 0);
  process.exitCode = ok ? 0 : 1;
} catch (e) {
  console.log(JSON.stringify({ error: String(e), problems }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
