/**
 * The suppression pattern computed off the event loop (lib/disclosure.ts `suppressionPatternAsync`,
 * a piscina worker thread): the same pattern as the synchronous computation, cell for cell; the
 * event loop keeps turning while it is computed (and does not when it is computed inline: the
 * measurement can tell them apart); a worker's failure reaches the caller as the same error; and a
 * process that used the worker exits on its own once done.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { suppressionPattern, suppressionPatternAsync, WORKER_MIN_AREAS, type AreaNode, type SuppressionPattern } from '../../lib/disclosure';
import { randomCity } from './random-city';
import { CURRENT_SPEC, MONTH_SPEC } from '../../subgraphs/elderly/services/disclosure';

const VARIABLES = ['registered', ...CURRENT_SPEC.tables.flat(), ...CURRENT_SPEC.standalone];

/** Every area's figures and suppression flags, as a comparable table. */
const table = (p: SuppressionPattern, areas: readonly AreaNode[], variables: readonly string[]) =>
  areas.map((a) => [a.id, p.has(a.id), p.values(a.id), variables.map((v) => p.suppressed(a.id, v))]);

/** Ticks of a 5 ms interval seen while `work()` is pending: none if it blocks the event loop. */
async function ticksDuring(work: () => Promise<unknown>): Promise<number> {
  let pending = true;
  let ticks = 0;
  const timer = setInterval(() => pending && ticks++, 5);
  try {
    await work();
  } finally {
    pending = false;
    clearInterval(timer);
  }
  return ticks;
}

describe('suppression pattern computed in a worker thread', () => {
  it('gives a random 1,500-area city exactly the synchronous pattern (current figures and a month)', async () => {
    const c = randomCity(20261203, 1500);
    const sync = suppressionPattern(CURRENT_SPEC, c.areas, c.leaves);
    const inWorker = await suppressionPatternAsync(CURRENT_SPEC, c.areas, c.leaves, { worker: true });
    expect(inWorker.suppressedCells).toBe(sync.suppressedCells);
    expect(sync.suppressedCells).toBeGreaterThan(1000); // a pattern worth comparing
    expect(table(inWorker, c.areas, VARIABLES)).toEqual(table(sync, c.areas, VARIABLES));
    expect(inWorker.has('COMMUNITY|unknown')).toBe(false);
    expect(inWorker.suppressed('COMMUNITY|unknown', 'registered')).toBe(true);
    expect(() => inWorker.suppressed('CITY|1', 'noSuchVariable')).toThrow('disclosure: unknown variable noSuchVariable');

    const month = new Map([...c.leaves].map(([id, v]) => [id, { registered: v.registered, visited: v.visitedThisMonth, overdue: v.overdueVisits }]));
    const monthSync = suppressionPattern(MONTH_SPEC, c.areas, month);
    const monthWorker = await suppressionPatternAsync(MONTH_SPEC, c.areas, month, { worker: true });
    expect(table(monthWorker, c.areas, ['registered', 'visited', 'overdue'])).toEqual(table(monthSync, c.areas, ['registered', 'visited', 'overdue']));
  });

  it('keeps the event loop turning while a 3,000-area pattern is computed, where the inline computation blocks it', async () => {
    const c = randomCity(7, 3000);
    expect(c.areas.length).toBeGreaterThanOrEqual(WORKER_MIN_AREAS); // the default path is the worker
    let inWorker: SuppressionPattern | undefined;
    const workerTicks = await ticksDuring(async () => (inWorker = await suppressionPatternAsync(CURRENT_SPEC, c.areas, c.leaves)));
    let inline: SuppressionPattern | undefined;
    const inlineTicks = await ticksDuring(async () => (inline = await suppressionPatternAsync(CURRENT_SPEC, c.areas, c.leaves, { worker: false })));
    expect(inlineTicks).toBe(0);
    expect(workerTicks).toBeGreaterThanOrEqual(10);
    expect(inWorker!.suppressedCells).toBe(inline!.suppressedCells);
  });

  it('rejects with the synchronous error when a 小区 has more in a category than registered', async () => {
    const c = randomCity(11, 1200);
    const [first] = c.leaves.keys();
    const valid = c.leaves.get(first)!;
    c.leaves.set(first, { ...valid, livingAlone: valid.registered + 1 });
    const message = `disclosure: the categories of table 0 exceed registered in ${first}`;
    expect(() => suppressionPattern(CURRENT_SPEC, c.areas, c.leaves)).toThrow(message);
    await expect(suppressionPatternAsync(CURRENT_SPEC, c.areas, c.leaves, { worker: true })).rejects.toThrow(message);
    // The thread survives a failed computation: the next one succeeds.
    c.leaves.set(first, valid);
    await expect(suppressionPatternAsync(CURRENT_SPEC, c.areas, c.leaves, { worker: true })).resolves.toHaveProperty('suppressedCells');
  });

  it('lets a process that computed in the worker exit by itself (the idle thread holds no reference)', async () => {
    // The idle thread would live WORKER_IDLE_MS (90 s): a process it kept alive would hit the timeout.
    const city = randomCity(5, 1200);
    const script = `
      const { suppressionPatternAsync } = require('./lib/disclosure');
      const { CURRENT_SPEC } = require('./subgraphs/elderly/services/disclosure');
      const city = require('./test/disclosure/random-city').randomCity(5, 1200);
      suppressionPatternAsync(CURRENT_SPEC, city.areas, city.leaves).then((p) => console.log('suppressed', p.suppressedCells));
    `;
    const root = path.join(__dirname, '..', '..');
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, timeout: 45_000 }, (_err, stdout, stderr) =>
        resolve({ code: child.exitCode, stdout, stderr }),
      );
    });
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toBe(`suppressed ${suppressionPattern(CURRENT_SPEC, city.areas, city.leaves).suppressedCells}`);
    expect(out.code).toBe(0);
  });
});
