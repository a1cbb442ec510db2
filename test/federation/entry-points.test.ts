/**
 * Every documented configuration variable takes effect in every entry point that can honour it
 * (`npm start`, `npm run start:gateway`, `npm run start:subgraph`, `npm run seed`), and one that an
 * entry point cannot honour is refused at start-up with a message naming it. The programs run as
 * real processes on 127.0.0.1 with their own data directories.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unhonouredVariables } from '../../lib/config';

const ROOT = path.join(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const ALL_PORTS_FREE = { PORT: '0', PROPERTIES_PORT: '0', GOVERNANCE_PORT: '0', ELDERLY_PORT: '0', RENOVATION_PORT: '0' };

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `tsx <script> ...args` with exactly `env` (plus PATH/HOME) and collects its output. */
function run(script: string, args: string[], env: Record<string, string>): Running {
  const child = spawn(TSX, [path.join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', APOLLO_TELEMETRY_DISABLED: '1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitFor(r: Running, pattern: RegExp, ms = 45_000): Promise<RegExpMatchArray> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    const m = r.output().match(pattern);
    if (m) return m;
    if (r.child.exitCode !== null) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`no ${pattern} in the output:\n${r.output()}`);
}

async function stop(r: Running): Promise<void> {
  if (r.child.exitCode === null) r.child.kill('SIGTERM');
  await Promise.race([r.exited, new Promise((res) => setTimeout(res, 10_000).unref())]);
  if (r.child.exitCode === null) r.child.kill('SIGKILL');
}

async function post(url: string, query: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  return { status: res.status, body: await res.json() };
}

const LISTED = '{ ticketStats { to } }';
const NOT_LISTED = '{ __typename }';

let dir: string;
let safelist: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'entry-points-'));
  safelist = path.join(dir, 'safelist.json');
  writeFileSync(safelist, JSON.stringify([{ body: LISTED }]));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('which variables each entry point refuses', () => {
  it('npm start refuses routing URLs (it routes to the subgraphs it starts) and accepts gateway and data settings', () => {
    expect(unhonouredVariables({ ELDERLY_URL: 'http://x:1/graphql' }, 'start')).toEqual([expect.stringMatching(/^ELDERLY_URL: /)]);
    expect(unhonouredVariables({ GATEWAY_SUBGRAPH_TIMEOUT_MS: '5000', MONGODB_URI: 'mongodb://x', CLOCK_NOW: '2027-01-01T00:00:00Z', DEMO_COMMUNITIES: '0', JWKS_URL: 'https://idp/jwks' }, 'start')).toEqual([]);
  });

  it('start:gateway refuses database, clock and subgraph-port settings; start:subgraph and seed refuse gateway settings', () => {
    expect(unhonouredVariables({ MONGODB_URI: 'mongodb://x', CLOCK_NOW: '2027-01-01T00:00:00Z', ELDERLY_PORT: '5003' }, 'start:gateway')).toHaveLength(3);
    expect(unhonouredVariables({ GATEWAY_SAFELIST_FILE: 'x.json', PORT: '80', ELDERLY_URL: 'http://x' }, 'start:subgraph')).toHaveLength(3);
    expect(unhonouredVariables({ MAX_QUERY_DEPTH: '5' }, 'seed')).toEqual([expect.stringMatching(/^MAX_QUERY_DEPTH: /)]);
    // Another subgraph's variables are fine: one env file serves a whole deployment.
    expect(unhonouredVariables({ MONGODB_URI_ELDERLY: 'mongodb://x', ELDERLY_PORT: '5003', JWKS_URL: 'https://idp/jwks' }, 'start:subgraph')).toEqual([]);
  });

  it.each([
    ['scripts/start-gateway.ts', [], { MONGODB_URI: 'mongodb://127.0.0.1:1/' }, /MONGODB_URI: the gateway holds no data/],
    ['scripts/start-subgraph.ts', ['governance'], { GATEWAY_SAFELIST_FILE: '/nonexistent.json' }, /GATEWAY_SAFELIST_FILE: a gateway setting/],
    ['scripts/start.ts', [], { GOVERNANCE_URL: 'http://127.0.0.1:1/graphql' }, /GOVERNANCE_URL: npm start routes/],
    ['scripts/seed.ts', [], { GATEWAY_DEDUP: 'false' }, /GATEWAY_DEDUP: a gateway setting/],
  ])('%s refuses a variable it cannot honour at start-up, naming it, and exits non-zero', async (script, args, env, message) => {
    const r = run(script, args, { DATA_DIR: path.join(dir, 'refused'), ...env });
    expect(await r.exited).toBe(1);
    expect(r.output()).toMatch(message);
    expect(r.output()).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('variables take effect in each entry point', () => {
  it('npm start honours the gateway settings (safelist) and the clock (CLOCK_NOW, CLOCK_FREEZE)', async () => {
    const r = run('scripts/start.ts', [], {
      ...ALL_PORTS_FREE,
      DATA_DIR: path.join(dir, 'start'),
      DEMO_COMMUNITIES: '0',
      GATEWAY_SAFELIST_FILE: safelist,
      CLOCK_NOW: '2028-02-29T12:00:00Z',
      CLOCK_FREEZE: 'true',
    });
    try {
      const [, url] = await waitFor(r, /gateway \(GraphQL[^)]*\):\s+(http:\/\/\S+\/graphql)/, 90_000);
      const listed = await post(url, LISTED);
      expect(listed.body.errors).toBeUndefined();
      expect(listed.body.data.ticketStats.to).toBe('2028-02-29T12:00:00.000Z');
      const other = await post(url, NOT_LISTED);
      expect(other.status).toBe(403);
      expect(other.body.errors[0].extensions.code).toBe('OPERATION_NOT_IN_SAFELIST');
    } finally {
      await stop(r);
    }
  }, 120_000);

  it('start:gateway honours the safelist before any subgraph is asked', async () => {
    const r = run('scripts/start-gateway.ts', [], { PORT: '0', DATA_DIR: path.join(dir, 'gateway'), GATEWAY_SAFELIST_FILE: safelist });
    try {
      const [, url] = await waitFor(r, /gateway at (http:\/\/\S+\/graphql)/);
      const other = await post(url, NOT_LISTED);
      expect(other.status).toBe(403);
      expect(other.body.errors[0].extensions.code).toBe('OPERATION_NOT_IN_SAFELIST');
    } finally {
      await stop(r);
    }
  }, 60_000);

  it('start:subgraph honours its port variable and the clock', async () => {
    const r = run('scripts/start-subgraph.ts', ['governance'], {
      GOVERNANCE_PORT: '0',
      DATA_DIR: path.join(dir, 'subgraph'),
      CLOCK_NOW: '2027-01-31T15:59:59Z',
      CLOCK_FREEZE: 'true',
    });
    try {
      const [, url] = await waitFor(r, /subgraph governance .* at (http:\/\/\S+\/graphql)/, 60_000);
      const res = await post(url, LISTED);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.ticketStats.to).toBe('2027-01-31T15:59:59.000Z');
    } finally {
      await stop(r);
    }
  }, 90_000);
});
