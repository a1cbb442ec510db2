/**
 * Dependency rule (README.md, "Architecture"): the engine imports nothing from the rest of the
 * project; only node built-ins, npm packages and its own files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { builtinModules } from 'node:module';

const ROOT = path.resolve(__dirname, '..');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.(ts|js)$/.test(e.name) ? [p] : [];
  });
}

test('embedded-mongo imports only node built-ins, npm packages and its own files', () => {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(ROOT, '..', 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  const npm = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)]);
  const offenders: string[] = [];
  const files = ['src', 'bench', 'test'].flatMap((d) => sources(path.join(ROOT, d)));
  expect(files.length).toBeGreaterThan(10);
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const specs = [...text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);
    for (const spec of specs) {
      if (spec.startsWith('.')) {
        const target = path.resolve(path.dirname(file), spec);
        if (!target.startsWith(ROOT + path.sep)) offenders.push(`${path.relative(ROOT, file)} -> ${spec}`);
      } else {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!(spec.startsWith('node:') || builtinModules.includes(name) || npm.has(name))) offenders.push(`${path.relative(ROOT, file)} -> ${spec}`);
      }
    }
  }
  expect(offenders).toEqual([]);
});
