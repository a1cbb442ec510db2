/**
 * `npm run build:ui`: builds the dashboard and the offline explorer into dashboard/dist/ with
 * esbuild, and writes the safelist manifest of the dashboard's operations:
 *
 *   dashboard/dist/dashboard/   index.html, app.js, app.css    (served at /dashboard)
 *   dashboard/dist/explorer/    index.html, explorer.js, .css   (served at /explorer)
 *   dashboard/dist/safelist.json                               (GATEWAY_SAFELIST_FILE)
 *
 * `--if-stale` (used by `npm start` and the browser tests) builds only when a source is newer than
 * the last build. Everything is bundled: the pages load nothing from off the machine.
 */
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { operationBodies, loadOperations, safelistManifest } from './operations';

export const DASHBOARD_DIR = __dirname;
export const DIST_DIR = path.join(DASHBOARD_DIR, 'dist');
const STAMP = path.join(DIST_DIR, '.build-stamp');

/** Newest modification time under the inputs of the build. */
function newestInput(): number {
  let newest = 0;
  const walk = (p: string) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(path.join(p, n));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of ['src', 'operations', 'build.ts', 'operations.ts']) walk(path.join(DASHBOARD_DIR, p));
  walk(path.join(DASHBOARD_DIR, '..', 'package-lock.json'));
  return newest;
}

/** True when dashboard/dist is missing or older than a source. */
export function isStale(): boolean {
  if (!existsSync(STAMP)) return true;
  return statSync(STAMP).mtimeMs < newestInput();
}

export interface BuildReport {
  ms: number;
  files: { file: string; bytes: number }[];
  operations: number;
}

const LOCK = path.join(DASHBOARD_DIR, '.dist.lock');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One build at a time across processes (test workers, `npm start`): a lock file next to dist. */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  for (let waited = 0; ; waited += 200) {
    try {
      closeSync(openSync(LOCK, 'wx'));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A lock older than two minutes belongs to a build that died.
      const st = statSync(LOCK, { throwIfNoEntry: false });
      if (st && Date.now() - st.mtimeMs > 120_000) // wall-clock: compared with the lock file's mtime
        rmSync(LOCK, { force: true });
      if (waited > 180_000) throw new Error(`build:ui: ${LOCK} is held by another build for 3 minutes`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { force: true });
  }
}

export async function buildUi(opts: { minify?: boolean } = {}): Promise<BuildReport> {
  return withLock(() => build(opts));
}

/** Builds into a fresh folder, then swaps it in place of dashboard/dist. */
async function build(opts: { minify?: boolean }): Promise<BuildReport> {
  const t0 = performance.now();
  const esbuild = await import('esbuild');
  const ops = loadOperations();
  const out = `${DIST_DIR}.tmp-${process.pid}`;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  // The operations, printed exactly as the safelist holds them (dashboard/operations.ts).
  const operationsPlugin: import('esbuild').Plugin = {
    name: 'dashboard-operations',
    setup(build) {
      build.onResolve({ filter: /^dashboard-operations$/ }, () => ({ path: 'dashboard-operations', namespace: 'ops' }));
      build.onLoad({ filter: /.*/, namespace: 'ops' }, () => ({
        contents: `export default ${JSON.stringify(operationBodies(ops))};`,
        loader: 'js',
        watchFiles: ops.map((o) => path.join(DASHBOARD_DIR, '..', o.file)),
      }));
    },
  };
  const common: import('esbuild').BuildOptions = {
    bundle: true,
    minify: opts.minify ?? true,
    sourcemap: 'linked',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    format: 'iife',
    platform: 'browser',
    legalComments: 'linked',
    define: { 'process.env.NODE_ENV': '"production"' },
    // Fonts and images stay files of the build (GraphiQL inlines its fonts as data: URLs).
    loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.svg': 'file', '.png': 'file' },
    plugins: [operationsPlugin],
    logLevel: 'warning',
    metafile: true,
  };
  const [app, explorer] = await Promise.all([
    esbuild.build({ ...common, entryPoints: { app: path.join(DASHBOARD_DIR, 'src/main.ts') }, outdir: path.join(out, 'dashboard') }),
    esbuild.build({
      ...common,
      entryPoints: { explorer: path.join(DASHBOARD_DIR, 'src/explorer/main.tsx') },
      outdir: path.join(out, 'explorer'),
      jsx: 'automatic',
    }),
  ]);
  copyFileSync(path.join(DASHBOARD_DIR, 'src/index.html'), path.join(out, 'dashboard/index.html'));
  copyFileSync(path.join(DASHBOARD_DIR, 'src/explorer/index.html'), path.join(out, 'explorer/index.html'));
  writeFileSync(path.join(out, 'safelist.json'), JSON.stringify(safelistManifest(ops), null, 2) + '\n');
  writeFileSync(path.join(out, path.basename(STAMP)), 'built by dashboard/build.ts\n');
  rmSync(DIST_DIR, { recursive: true, force: true });
  renameSync(out, DIST_DIR);
  const files = [...Object.entries(app.metafile!.outputs), ...Object.entries(explorer.metafile!.outputs)]
    .filter(([f]) => !f.endsWith('.map'))
    .map(([f, o]) => ({ file: path.relative(path.join(DASHBOARD_DIR, '..'), path.resolve(f).replace(out, DIST_DIR)), bytes: o.bytes }));
  return { ms: performance.now() - t0, files, operations: ops.length };
}

/** Builds when stale; without esbuild installed (e.g. `npm ci --omit=dev`) keeps what is there. */
export async function buildUiIfStale(log: (m: string) => void = (m) => console.error(m)): Promise<boolean> {
  if (!isStale()) return false;
  return withLock(() => buildIfStillStale(log));
}

async function buildIfStillStale(log: (m: string) => void): Promise<boolean> {
  // Another process may have built it while this one waited for the lock.
  if (!isStale()) return false;
  try {
    require.resolve('esbuild');
  } catch {
    log(
      existsSync(STAMP)
        ? 'build:ui: esbuild is not installed (dev dependency); serving the existing dashboard/dist'
        : 'build:ui: esbuild is not installed (dev dependency) and dashboard/dist is missing: /dashboard and /explorer will answer 503 until `npm run build:ui` runs',
    );
    return false;
  }
  const r = await build({});
  log(`build:ui: dashboard and explorer built in ${(r.ms / 1000).toFixed(1)} s (${r.operations} operations in dashboard/dist/safelist.json)`);
  return true;
}

if (require.main === module) {
  const ifStale = process.argv.includes('--if-stale');
  (ifStale
    ? buildUiIfStale().then(() => undefined)
    : buildUi({ minify: !process.argv.includes('--no-minify') }).then((r) => {
        for (const f of r.files) console.log(`  ${f.file.padEnd(48)} ${(f.bytes / 1024).toFixed(0).padStart(6)} KiB`);
        console.log(`build:ui: built in ${(r.ms / 1000).toFixed(1)} s; ${r.operations} operations in dashboard/dist/safelist.json`);
      })
  ).catch((err) => {
    console.error(`build:ui failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}

/** Reads a built file (tests). */
export function readDist(rel: string): string {
  return readFileSync(path.join(DIST_DIR, rel), 'utf8');
}
