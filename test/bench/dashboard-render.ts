/**
 * `npm run bench:dashboard [-- --communities 4000 --seed 42 --runs 5]`: the dashboard's first render
 * of the city overview on a synthetic city (default 4,000 小区, kept in `.data/bench-dashboard-N-S`
 * for later runs), in Debian's chromium via playwright-core. One figure per run: from navigation
 * start to every figure and the four charts drawn (`window.__dashboardRenderedAt`, set by the
 * dashboard once the view is ready), each run in a fresh browser context (no HTTP cache), with the
 * gateway's response cache OFF and then ON (a new stack on the same data; the first ON run fills the
 * cache). Also each GraphQL operation's time as the browser saw it. Prints figures; asserts nothing.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildUiIfStale } from '../../dashboard/build';
import { disableApolloTelemetry } from '../../lib/config';
import { startStack } from '../../scripts/stack';
import { findChromium } from '../browser/helpers';

disableApolloTelemetry();

const { values } = parseArgs({
  options: {
    communities: { type: 'string', default: '4000' },
    seed: { type: 'string', default: '42' },
    runs: { type: 'string', default: '5' },
    city: { type: 'string', default: '320100' },
  },
});
const communities = Number(values.communities);
const seed = Number(values.seed);
const runs = Number(values.runs);

interface Run {
  renderMs: number;
  /** Each GraphQL operation of the render: request start to response end, ms. */
  operations: Record<string, number>;
}

async function measure(gatewayUrl: string, chromium: string, label: string): Promise<Run[]> {
  const { chromium: pw } = await import('playwright-core');
  const browser = await pw.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  const base = gatewayUrl.replace(/\/graphql$/, '');
  const out: Run[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      const page = await context.newPage();
      const operations: Record<string, number> = {};
      page.on('requestfinished', (req) => {
        if (!req.url().endsWith('/graphql')) return;
        const name = (JSON.parse(req.postData() ?? '{}') as { operationName?: string }).operationName ?? '?';
        operations[name] = req.timing().responseEnd;
      });
      await page.goto(`${base}/dashboard/#/city/${values.city}`);
      await page.waitForFunction(() => (globalThis as { __dashboardRenderedAt?: number }).__dashboardRenderedAt !== undefined, null, { timeout: 120_000 });
      const renderMs = await page.evaluate(() => (globalThis as unknown as { __dashboardRenderedAt: number }).__dashboardRenderedAt);
      out.push({ renderMs, operations });
      const ops = Object.entries(operations).map(([n, ms]) => `${n} ${ms.toFixed(0)}`).join(', ');
      console.log(`  ${label} run ${i + 1}: first render ${renderMs.toFixed(0)} ms (GraphQL ms: ${ops})`);
      await context.close();
    }
  } finally {
    await browser.close();
  }
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const chromium = findChromium();
  if (!chromium) throw new Error('no chromium: apt-get install -y chromium (or set CHROMIUM_PATH)');
  await buildUiIfStale();
  const dbPath = path.join(__dirname, '..', '..', '.data', `bench-dashboard-${communities}-${seed}`);
  console.log(`dashboard first render: ${communities} 小区 (seed ${seed}) in ${dbPath}${existsSync(dbPath) ? ' (kept from an earlier run)' : ''}, ${runs} runs each, chromium ${chromium}`);
  const results: Record<string, Run[]> = {};
  for (const cache of [false, true]) {
    const label = cache ? 'response cache ON ' : 'response cache OFF';
    const stack = await startStack({
      dbPath,
      demoCity: { communities, seed },
      logLevel: 'warn',
      gatewayTuning: cache ? {} : { responseCacheMaxTtlSeconds: 0 },
    });
    try {
      if (stack.syntheticCity?.written) console.log(`  seeded ${stack.syntheticCity.written.communities} 小区 in ${(stack.syntheticCity.written.totalMs / 1000).toFixed(1)} s`);
      results[label] = await measure(stack.gatewayUrl, chromium, label);
    } finally {
      await stack.stop();
    }
  }
  console.log(`\nfirst render of the city overview (navigation start → figures and 4 charts drawn), ${communities} 小区:`);
  for (const [label, rs] of Object.entries(results)) {
    const ms = rs.map((r) => r.renderMs);
    console.log(`  ${label}: median ${median(ms).toFixed(0)} ms, min ${Math.min(...ms).toFixed(0)} ms, max ${Math.max(...ms).toFixed(0)} ms (runs: ${ms.map((m) => m.toFixed(0)).join(', ')})`);
  }
}

main().catch((err) => {
  console.error(`bench:dashboard failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
