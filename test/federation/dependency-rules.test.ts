/**
 * The dependency rules of README.md ("Architecture"), checked by parsing every import in the repository.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, sourceFiles } from '../helpers/source-files';

const SKIP = new Set(['node_modules', '.git', '.data', '__generated__', 'bench-results', 'dist']);
const files = (dir: string) => sourceFiles(dir, SKIP);

/** Repository-relative targets of the relative imports of a file. */
function imports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const specs = [...src.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"`](\.{1,2}\/[^'"`$]*)['"`]/g)].map((m) => m[1]);
  return specs.map((s) => path.relative(ROOT, path.resolve(path.dirname(file), s)));
}

const rel = (f: string) => path.relative(ROOT, f);
const isTest = (f: string) => /(^|\/)test\//.test(rel(f)) || /\.test\.ts$/.test(f);

describe('dependency rules', () => {
  const all = files(ROOT).filter((f) => !rel(f).startsWith('test/fixtures'));

  it('a subgraph imports only itself and lib/ (never another subgraph, the gateway or scripts)', () => {
    const violations: string[] = [];
    for (const f of all.filter((f) => rel(f).startsWith('subgraphs/') && !isTest(f))) {
      const own = rel(f).split('/').slice(0, 2).join('/');
      for (const target of imports(f)) {
        if (!(target.startsWith(own) || target.startsWith('lib') || target.startsWith('schema/'))) violations.push(`${rel(f)} -> ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('lib/ imports no subgraph, gateway, script or test code', () => {
    const violations = all
      .filter((f) => rel(f).startsWith('lib/'))
      .flatMap((f) => imports(f).filter((t) => !t.startsWith('lib')).map((t) => `${rel(f)} -> ${t}`));
    expect(violations).toEqual([]);
  });

  it('the gateway knows subgraphs only through the supergraph and config', () => {
    const violations = all
      .filter((f) => rel(f).startsWith('gateway/') && !isTest(f))
      .flatMap((f) => imports(f).filter((t) => t.startsWith('subgraphs') || t.startsWith('scripts')).map((t) => `${rel(f)} -> ${t}`));
    expect(violations).toEqual([]);
  });

  it('the embedded engine imports nothing from the rest of the project', () => {
    const violations = all
      .filter((f) => rel(f).startsWith('embedded-mongo/'))
      .flatMap((f) => imports(f).filter((t) => !t.startsWith('embedded-mongo')).map((t) => `${rel(f)} -> ${t}`));
    expect(violations).toEqual([]);
  });

  it('the rest uses only the engine\'s public entry', () => {
    const violations = all
      .filter((f) => !rel(f).startsWith('embedded-mongo/'))
      .flatMap((f) => imports(f).filter((t) => t.startsWith('embedded-mongo') && t !== 'embedded-mongo/src' && t !== 'embedded-mongo/src/index').map((t) => `${rel(f)} -> ${t}`));
    expect(violations).toEqual([]);
  });

  it('production code never imports test/', () => {
    const violations = all
      .filter((f) => !isTest(f) && !rel(f).startsWith('test/'))
      .flatMap((f) => imports(f).filter((t) => t.startsWith('test/') || t === 'test').map((t) => `${rel(f)} -> ${t}`));
    expect(violations).toEqual([]);
  });
});
