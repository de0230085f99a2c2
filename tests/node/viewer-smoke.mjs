// Opens the twin web viewer in headless Chromium (Debian's /usr/bin/chromium, WebGL through
// SwiftShader), waits until every tile is loaded, and checks what CesiumJS made of the tileset.
// Usage: node viewer-smoke.mjs URL SCREENSHOT.png EXPECTED_FEATURES
import { chromium } from 'playwright-core';

const [url, screenshot, expected] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--no-sandbox',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
    '--disable-quic'],
});
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  page.on('pageerror', (e) => problems.push(`page error: ${e}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  await page.goto(url);
  await page.waitForFunction(() => window.twin && window.twin.allTilesLoaded, null, { timeout: 120000 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: screenshot });
  const state = await page.evaluate(() => ({ features: window.twin.featuresLoaded, tilesets: window.twin.tilesets }));
  const result = { ...state, problems };
  console.log(JSON.stringify(result));
  const ok = problems.length === 0 && state.features === Number(expected);
  process.exitCode = ok ? 0 : 1;
} catch (e) {
  console.log(JSON.stringify({ error: String(e), problems }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
