/** The repository's source files under a folder, for tests that read the code itself. */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.join(__dirname, '../..');

/** Every file under `dir` whose name matches `ext`, skipping folders named in `skip`. */
export function sourceFiles(dir: string, skip: ReadonlySet<string>, ext = /\.(ts|js)$/): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (skip.has(name)) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p, skip, ext));
    else if (ext.test(name)) out.push(p);
  }
  return out;
}
