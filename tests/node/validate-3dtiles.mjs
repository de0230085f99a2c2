// Runs the CesiumGS 3D Tiles validator (the reference validator, built from
// ../shared/tools/3d-tiles-validator by scripts/install-deps.sh) on every tileset.json under the
// given directories. Prints every error and warning and a JSON summary; exits 1 when any tileset
// has an error or a warning (INTERNAL_ERROR counts as an error), or when none was found.
// The validator's place: $TWIN_3DTILES_VALIDATOR, else ~/.cache/3d-tiles-validator/build/main.js.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { tilesetFiles } from './tilesets.mjs';

const validator = process.env.TWIN_3DTILES_VALIDATOR || path.join(os.homedir(), '.cache/3d-tiles-validator/build/main.js');
if (!fs.existsSync(validator)) {
  console.log(`the 3D Tiles validator is not built at ${validator}: run scripts/install-deps.sh`);
  process.exit(1);
}

const summary = { tilesets: 0, errors: 0, warnings: 0, infos: 0 };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'twin-3dtiles-'));
for (const arg of process.argv.slice(2)) {
  for (const file of tilesetFiles(arg)) {
    const reportFile = path.join(tmp, `report-${summary.tilesets}.json`);
    try {
      execFileSync(process.execPath, [validator, '--tilesetFile', file, '--reportFile', reportFile], { stdio: 'pipe' });
    } catch (e) {
      console.log(`ERROR ${file}: the validator failed: ${e.message}`);
      summary.errors++;
      continue;
    }
    const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
    summary.tilesets++;
    summary.errors += report.numErrors;
    summary.warnings += report.numWarnings;
    summary.infos += report.numInfos;
    if (report.numErrors + report.numWarnings > 0) {
      const show = (issue, depth) => {
        if (issue.severity === 'INFO') return;
        console.log(`${'  '.repeat(depth)}${issue.severity} ${file} ${issue.type} ${issue.path ?? ''} ${issue.message}`);
        for (const c of (issue.causes || []).slice(0, 5)) show(c, depth + 1);
      };
      for (const issue of report.issues.slice(0, 20)) show(issue, 0);
    }
  }
}
fs.rmSync(tmp, { recursive: true, force: true });
console.log(JSON.stringify(summary));
process.exit(summary.errors > 0 || summary.warnings > 0 || summary.tilesets === 0 ? 1 : 0);
