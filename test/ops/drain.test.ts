/**
 * SIGTERM drains: the real entry points (`npm run start:subgraph`, `npm run start:gateway`) run as
 * child processes; a request is held in flight (the subgraph's database answer held at a TCP proxy;
 * the gateway's subgraph held by a test server), SIGTERM arrives, and then new connections are
 * refused while the held request is still open, the held request is answered in full once let
 * through, and the process exits 0. A request still running when SHUTDOWN_GRACE_MS runs out is cut,
 * the cut is logged, and the process exits anyway.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../embedded-mongo/src';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';

const ROOT = path.join(__dirname, '../..');

interface Child {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs an entry script in one Node process (tsx as a loader, so the signal reaches the script itself). */
function run(script: string, args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', APOLLO_TELEMETRY_DISABLED: '1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitFor(c: Child, pattern: RegExp, ms = 90_000): Promise<RegExpMatchArray> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    const m = c.output().match(pattern);
    if (m) return m;
    if (c.child.exitCode !== null) break;
    await sleep(50);
  }
  throw new Error(`no ${pattern} in the output:\n${c.output()}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves 'refused' once a new TCP connection to the port is refused (tries for up to ~20 s). */
async function refusedAt(port: number): Promise<'refused' | 'still accepting'> {
  for (let i = 0; i < 200; i++) {
    const outcome = await new Promise<'refused' | 'accepted'>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve('accepted');
      });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED' ? 'refused' : 'accepted'));
    });
    if (outcome === 'refused') return 'refused';
    await sleep(100);
  }
  return 'still accepting';
}

const POLICIES = '{ subsidyPolicies { id } }';
async function post(url: string, query: string) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  return { status: res.status, body: (await res.json()) as { data?: { subsidyPolicies: { id: string }[] }; errors?: unknown[] } };
}

const logLines = (c: Child) =>
  c
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; [k: string]: unknown });

let dir: string;
const children: Child[] = [];
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ccg-drain-'));
});
afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('SIGTERM: requests in flight complete before the process exits', () => {
  let engine: EmbeddedMongo;
  let proxy: TcpProxy;
  beforeAll(async () => {
    engine = await startEmbeddedMongo({ port: 0 });
    proxy = await startTcpProxy(engine.port);
  });
  afterAll(async () => {
    await proxy?.close();
    await engine?.stop();
  });

  it('start:subgraph: a query waiting on its database at SIGTERM is answered in full, new connections are refused meanwhile, exit code 0', async () => {
    const sub = run('scripts/start-subgraph.ts', ['governance'], {
      MONGODB_URI_GOVERNANCE: proxy.uri,
      GOVERNANCE_PORT: '0',
      DATA_DIR: path.join(dir, 'subgraph'),
      SHUTDOWN_GRACE_MS: '60000',
    });
    children.push(sub);
    const url = (await waitFor(sub, /subgraph governance \(.*\) at (http:\/\/\S+)/))[1];
    const port = Number(new URL(url).port);
    const expected = await post(url, POLICIES);
    expect(expected.body.data!.subsidyPolicies.length).toBeGreaterThan(0);

    const held = proxy.holdAnswersTo('subsidy_policies');
    let answered = false;
    const inFlight = post(url, POLICIES).finally(() => (answered = true));
    await held.sent;
    sub.child.kill('SIGTERM');
    await waitFor(sub, /"msg":"stopping: new connections refused/);
    expect(await refusedAt(port)).toBe('refused');
    expect(answered).toBe(false);

    held.release();
    expect(await inFlight).toEqual(expected);
    expect(await sub.exited).toBe(0);
    expect(logLines(sub).map((l) => l.msg)).toEqual(expect.arrayContaining(['stopping: new connections refused, requests in flight complete first', 'stopped cleanly']));
  }, 180_000);
});

/** A stand-in governance subgraph whose answers wait until the test lets them through. */
async function heldSubgraph() {
  let arrived!: () => void;
  let release!: () => void;
  const received = new Promise<void>((r) => (arrived = r));
  const released = new Promise<void>((r) => (release = r));
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      arrived();
      void released.then(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { subsidyPolicies: [{ id: 'sp_held' }] } })));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  return {
    url,
    received,
    release,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

const gatewayEnv = (subgraphUrl: string, graceMs: number) => ({
  PORT: '0',
  DATA_DIR: path.join(dir, 'gateway'),
  PROPERTIES_URL: subgraphUrl,
  GOVERNANCE_URL: subgraphUrl,
  ELDERLY_URL: subgraphUrl,
  RENOVATION_URL: subgraphUrl,
  // The held subgraph must not be given up on by the gateway's own deadline.
  GATEWAY_SUBGRAPH_TIMEOUT_MS: '120000',
  GATEWAY_RESPONSE_CACHE_MAX_TTL_S: '0',
  SHUTDOWN_GRACE_MS: String(graceMs),
});

describe('SIGTERM at the gateway', () => {
  it('start:gateway: a query waiting on a subgraph at SIGTERM is answered in full, new connections are refused meanwhile, exit code 0', async () => {
    const subgraph = await heldSubgraph();
    try {
      const gw = run('scripts/start-gateway.ts', [], gatewayEnv(subgraph.url, 60_000));
      children.push(gw);
      const url = (await waitFor(gw, /gateway at (http:\/\/\S+)/))[1];
      let answered = false;
      const inFlight = post(url, POLICIES).finally(() => (answered = true));
      await subgraph.received;
      gw.child.kill('SIGTERM');
      await waitFor(gw, /"msg":"stopping: new connections refused/);
      expect(await refusedAt(Number(new URL(url).port))).toBe('refused');
      expect(answered).toBe(false);

      subgraph.release();
      expect(await inFlight).toEqual({ status: 200, body: { data: { subsidyPolicies: [{ id: 'sp_held' }] } } });
      expect(await gw.exited).toBe(0);
    } finally {
      await subgraph.close();
    }
  }, 180_000);

  it('start:gateway: a query still running when SHUTDOWN_GRACE_MS runs out is cut, the cut is logged, and the process exits anyway', async () => {
    const subgraph = await heldSubgraph();
    try {
      const gw = run('scripts/start-gateway.ts', [], gatewayEnv(subgraph.url, 1000));
      children.push(gw);
      const url = (await waitFor(gw, /gateway at (http:\/\/\S+)/))[1];
      const inFlight = post(url, POLICIES).then(
        () => 'answered',
        () => 'cut',
      );
      await subgraph.received;
      gw.child.kill('SIGTERM');
      // Never released: the gateway has to give up on it.
      expect(await gw.exited).toBe(0);
      expect(await inFlight).toBe('cut');
      const cut = logLines(gw).find((l) => l.msg === 'shutdown grace period over: cutting the requests still in flight');
      expect(cut).toMatchObject({ graceMs: 1000, inFlight: 1 });
    } finally {
      await subgraph.close();
    }
  }, 180_000);
});
