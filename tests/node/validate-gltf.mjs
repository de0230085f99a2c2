// Validates every .glb under the given directories with the Khronos glTF validator.
// Prints one line per file and a JSON summary; exits 1 when any file has errors.
import fs from 'node:fs';
import path from 'node:path';
import validator from 'gltf-validator';

function* walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.name.endsWith('.glb')) yield p;
  }
}

let files = 0, errors = 0, warnings = 0;
const failures = [];
for (const root of process.argv.slice(2)) {
  const list = fs.statSync(root).isDirectory() ? [...walk(root)] : [root];
  for (const f of list) {
    const data = new Uint8Array(fs.readFileSync(f));
    const report = await validator.validateBytes(data, {
      uri: f,
      maxIssues: 100,
      externalResourceFunction: () => Promise.reject(new Error('no external resources')),
    });
    files++;
    errors += report.issues.numErrors;
    warnings += report.issues.numWarnings;
    if (report.issues.numErrors > 0) {
      failures.push({ file: f, messages: report.issues.messages.filter(m => m.severity === 0).slice(0, 10) });
    }
  }
}
for (const f of failures) {
  console.log(`ERROR ${f.file}`);
  for (const m of f.messages) console.log(`  ${m.code} ${m.pointer ?? ''} ${m.message}`);
}
console.log(JSON.stringify({ files, errors, warnings }));
process.exit(errors > 0 || files === 0 ? 1 : 0);
