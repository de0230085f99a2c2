// What the tileset checks share: every tileset.json under a directory (a tileset's own state in
// .twin/ and npm folders skipped), or the file itself.
import fs from 'node:fs';
import path from 'node:path';

function* walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === '.twin' || e.name === 'node_modules') continue;
      yield* walk(p);
    } else if (e.name === 'tileset.json') yield p;
  }
}

export function tilesetFiles(arg) {
  return fs.statSync(arg).isDirectory() ? [...walk(arg)] : [arg];
}
