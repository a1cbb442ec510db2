/**
 * `npm run bench` (not part of `npm test`): the project's gateway side by side with stock
 * @apollo/gateway 2.14 and Hive Gateway 2.15 (in-flight dedup on and off), on the same subgraphs,
 * the same supergraph and the same seeded synthetic city, in one run.
 *
 *  1. Starts the embedded engine (in memory), the four subgraphs (in this process, each counting the
 *     HTTP fetches, `_entities` representations and database commands it receives) and seeds the
 *     demo data plus a synthetic city (`--communities`, default 4000).
 *  2. For each gateway, in its own child process (so peak RSS is its own): waits until it serves,
 *     then W1 (all clients send the same dashboard operation: CommunityProfile, no. 3, by default;
 *     `--w1 CityOverview` for the bureau home page, which at 4,000 小区 takes seconds per request on
 *     the embedded engine) and W2 (a mix of the representative operations of docs/domain.md,
 *     "Bureaus and entities", with varied variables), each `--warmup` seconds unmeasured, then a
 *     measured phase of as many requests as the warm-up rate gives in `--duration` seconds, all of
 *     them answered (so latency is not cut off at the end of a window), with autocannon
 *     (`--connections`, default 50) in a third process on 127.0.0.1.
 *  3. Prints a table (RPS, p50/p99, peak RSS, subgraph fetches, representations and database
 *     commands per operation, ratios against each anchor, targets met or not) and writes JSON to
 *     bench-results/.
 *
 * With `taskset` present the gateway is pinned to CPU 1 and everything else to CPU 0 (`--no-pin`
 * turns that off). Nothing leaves 127.0.0.1: Apollo telemetry is disabled for every gateway and Hive
 * runs without any usage-reporting token or telemetry endpoint.
 *
 * Options: --communities N --seed S --warmup s --duration s --connections n --w1 <operation>
 *          --gateways ours,ours-nocache,ours-nodedup,stock,hive,hive-nodedup --workloads W1,W2 --no-pin
 *          (ours-nocache is the project gateway with its response cache off: every workload is
 *          reported cached and uncached)
 *          --data-dir d --fresh --drain s --restart-on-backlog
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import express from 'express';
import type { Connection } from 'mongoose';
import { startEmbeddedMongo } from '../../embedded-mongo/src';
import { disableApolloTelemetry } from '../../lib/config';
import { connectDatabase, countCommands } from '../../lib/db';
import { createLogger } from '../../lib/logger';
import { dbNameFor } from '../../lib/subgraph-module';
import { SUBGRAPHS } from '../../scripts/subgraphs';
import { POOL_QUERY, W1_OPERATION, W2_OPERATIONS, seededRandom, type OperationTemplate, type VariablePools } from './operations';

disableApolloTelemetry();

const ROOT = path.join(__dirname, '../..');
/** Gateways and load generators started by this run (stopped on Ctrl-C). */
const CHILDREN = new Set<ChildProcess>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const c of CHILDREN) c.kill('SIGKILL');
    process.exit(130);
  });
}
const GATEWAYS = ['ours', 'ours-nocache', 'ours-nodedup', 'stock', 'hive', 'hive-nodedup'] as const;
type GatewayKind = (typeof GATEWAYS)[number];
const LABEL: Record<GatewayKind, string> = {
  ours: 'project gateway (dedup on)',
  'ours-nocache': 'project gateway (response cache off)',
  'ours-nodedup': 'project gateway (dedup off)',
  stock: 'stock @apollo/gateway 2.14.4',
  hive: 'Hive Gateway 2.15.1 (dedup on)',
  'hive-nodedup': 'Hive Gateway 2.15.1 (dedup off)',
};

function args() {
  const { values } = parseArgs({
    options: {
      communities: { type: 'string', default: '4000' },
      seed: { type: 'string', default: '42' },
      warmup: { type: 'string', default: '3' },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '50' },
      gateways: { type: 'string', default: 'ours,stock,hive,hive-nodedup' },
      workloads: { type: 'string', default: 'W1,W2' },
      'no-pin': { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      fresh: { type: 'boolean', default: false },
      w1: { type: 'string', default: 'CommunityProfile' },
      drain: { type: 'string', default: '120' },
      'restart-on-backlog': { type: 'boolean', default: false },
    },
  });
  const gateways = values.gateways!.split(',').map((g) => g.trim()) as GatewayKind[];
  for (const g of gateways) if (!GATEWAYS.includes(g)) throw new Error(`--gateways: unknown "${g}" (known: ${GATEWAYS.join(', ')})`);
  return {
    communities: Number(values.communities),
    seed: Number(values.seed),
    warmup: Number(values.warmup),
    duration: Number(values.duration),
    connections: Number(values.connections),
    gateways,
    workloads: values.workloads!.split(',').map((w) => w.trim()) as ('W1' | 'W2')[],
    pin: !values['no-pin'] && spawnSync('taskset', ['-V']).status === 0 && os.cpus().length >= 2,
    /** The seeded city is kept here and reused by later runs with the same size and seed. */
    dataDir: path.resolve(values['data-dir'] ?? path.join(ROOT, `.data/bench-city-${values.communities}-${values.seed}`)),
    fresh: values.fresh!,
    /** W1's operation (one of the W2 templates), sent identically by every client. */
    w1: values.w1!,
    drainSeconds: Number(values.drain),
    restartOnBacklog: values['restart-on-backlog']!,
  };
}

interface SubgraphCounters {
  fetches: number;
  representations: number;
  uniqueRepresentations: number;
  /** Sum of the subgraph's answer times (ms), for a mean per fetch. */
  busyMs: number;
}

interface RunningSubgraphs {
  urls: Record<string, string>;
  counters: Map<string, SubgraphCounters>;
  db: Map<string, ReturnType<typeof countCommands>>;
  reset(): void;
  /** Requests the subgraphs are still working on (a gateway that was stopped leaves some). */
  inflight(): number;
  totals(): { fetches: number; representations: number; uniqueRepresentations: number; dbCommands: number; perSubgraph: Record<string, SubgraphCounters & { dbCommands: number }> };
  stop(): Promise<void>;
}

async function startSubgraphs(communities: number, seed: number, dataDir: string, fresh: boolean, ports: Record<string, number> = {}): Promise<RunningSubgraphs> {
  if (fresh) rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const marker = path.join(dataDir, 'seeded.json');
  const alreadySeeded = existsSync(marker);
  const engine = await startEmbeddedMongo({ port: 0, dbPath: path.join(dataDir, 'db') });
  let inflight = 0;
  let dbInflight = 0;
  const stops: (() => Promise<void>)[] = [() => engine.stop()];
  const conns = new Map<string, Connection>();
  const counters = new Map<string, SubgraphCounters>();
  const db = new Map<string, ReturnType<typeof countCommands>>();
  const servers = [];
  for (const mod of SUBGRAPHS) {
    const conn = await connectDatabase({ uri: engine.uri, dbName: dbNameFor(mod.name), monitorCommands: true });
    stops.unshift(() => conn.close());
    conns.set(mod.name, conn);
    const server = await mod.create(conn, createLogger(mod.name, 'warn'));
    if (!alreadySeeded) {
      const n = await mod.seed(conn);
      log(`seeded ${mod.name} demo data: ${n} documents`);
    }
    const c: SubgraphCounters = { fetches: 0, representations: 0, uniqueRepresentations: 0, busyMs: 0 };
    counters.set(mod.name, c);
    // Runs before the subgraph's own body parser, which then skips the already parsed body.
    server.app.use('/graphql', express.json({ limit: '10mb' }), (req, res, next) => {
      if (req.method === 'POST') {
        c.fetches++;
        inflight++;
        const t = Date.now();
        res.once('close', () => {
          inflight--;
          c.busyMs += Date.now() - t;
        });
        const reps = (req.body as { variables?: { representations?: unknown[] } } | undefined)?.variables?.representations;
        if (Array.isArray(reps)) {
          c.representations += reps.length;
          c.uniqueRepresentations += new Set(reps.map((r) => JSON.stringify(r))).size;
        }
      }
      next();
    });
    servers.push({ mod, server, conn });
  }
  if (alreadySeeded) log(`reusing the seeded city in ${path.relative(ROOT, dataDir)} (--fresh to reseed)`);
  else if (communities > 0) {
    const synthetic = path.join(ROOT, 'scripts/synthetic/seed-city.ts');
    if (existsSync(synthetic)) {
      const { seedSyntheticCity } = (await import('../../scripts/synthetic/seed-city')) as typeof import('../../scripts/synthetic/seed-city');
      const t = Date.now();
      const report = await seedSyntheticCity(conns, { communities, seed, progress: (line) => log(line) });
      log(`synthetic city: ${report.communities} 小区 in ${((Date.now() - t) / 1000).toFixed(1)} s`);
      writeFileSync(marker, JSON.stringify({ communities, seed, at: new Date().toISOString(), documents: report.documents }));
    } else {
      // SWITCH: without scripts/synthetic the bench runs on the demo data only (say so in results).
      log('scripts/synthetic/seed-city.ts not found: benchmarking on the demo data only');
    }
  } else writeFileSync(marker, JSON.stringify({ communities: 0, seed, at: new Date().toISOString() }));
  const urls: Record<string, string> = {};
  for (const { mod, server, conn } of servers) {
    const running = await server.listen(ports[mod.name] ?? 0, '127.0.0.1');
    stops.unshift(() => running.close());
    urls[mod.name] = running.url;
    db.set(mod.name, countCommands(conn));
    conn.getClient().on('commandStarted', () => dbInflight++);
    conn.getClient().on('commandSucceeded', () => dbInflight--);
    conn.getClient().on('commandFailed', () => dbInflight--);
  }
  return {
    urls,
    counters,
    db,
    reset() {
      for (const c of counters.values()) Object.assign(c, { fetches: 0, representations: 0, uniqueRepresentations: 0, busyMs: 0 });
      for (const d of db.values()) d.reset();
    },
    inflight: () => inflight + Math.max(0, dbInflight),
    totals() {
      const perSubgraph: Record<string, SubgraphCounters & { dbCommands: number }> = {};
      let fetches = 0;
      let representations = 0;
      let uniqueRepresentations = 0;
      let dbCommands = 0;
      for (const [name, c] of counters) {
        const d = db.get(name)?.count ?? 0;
        perSubgraph[name] = { ...c, dbCommands: d };
        fetches += c.fetches;
        representations += c.representations;
        uniqueRepresentations += c.uniqueRepresentations;
        dbCommands += d;
      }
      return { fetches, representations, uniqueRepresentations, dbCommands, perSubgraph };
    },
    async stop() {
      for (const s of stops) await s().catch(() => undefined);
    },
  };
}

function writeBenchSupergraph(urls: Record<string, string>): string {
  const sdl = readFileSync(path.join(ROOT, 'schema/supergraph.graphql'), 'utf8').replace(
    /@join__graph\(name: "([^"]+)", url: "([^"]*)"\)/g,
    (whole, name: string) => (urls[name] ? `@join__graph(name: "${name}", url: "${urls[name]}")` : whole),
  );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gateway-bench-'));
  const file = path.join(dir, 'supergraph.graphql');
  writeFileSync(file, sdl);
  return file;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Environment for the children: loopback only, telemetry off, no usage-reporting credentials. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k]) env[k] = process.env[k];
  return {
    ...env,
    NODE_ENV: 'production',
    APOLLO_TELEMETRY_DISABLED: '1',
    DO_NOT_TRACK: '1',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

interface StartedGateway {
  kind: GatewayKind;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startGateway(kind: GatewayKind, supergraph: string, pin: boolean): Promise<StartedGateway> {
  const port = await freePort();
  let cmd: string[];
  let env: NodeJS.ProcessEnv;
  let url = `http://127.0.0.1:${port}/graphql`;
  if (kind === 'ours' || kind === 'ours-nocache' || kind === 'ours-nodedup' || kind === 'stock') {
    const child = kind === 'stock' ? 'stock' : 'ours';
    cmd = [process.execPath, '--import', 'tsx', path.join(__dirname, 'gateway-child.ts'), child, supergraph, String(port), kind === 'ours-nodedup' ? 'off' : 'on', kind === 'ours-nocache' ? 'nocache' : 'cache'];
    // The project's config requires a JWKS URL in production; bench requests carry no token, so
    // this loopback address is never contacted.
    env = childEnv({ JWKS_URL: 'http://127.0.0.1:9/.well-known/jwks.json', DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'gw-data-')) });
  } else {
    const bin = path.join(ROOT, 'node_modules/@graphql-hive/gateway/dist/bin.js');
    const extra: string[] = [];
    if (kind === 'hive-nodedup') {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'hive-nodedup-'));
      const config = path.join(dir, 'gateway.config.cjs');
      writeFileSync(config, "exports.gatewayConfig = { transportEntries: { '*.http': { options: { deduplicateInflightRequests: false } } } };\n");
      extra.push('-c', config);
    }
    cmd = [process.execPath, bin, 'supergraph', supergraph, '--host', '127.0.0.1', '--port', String(port), '--polling', '1h', ...extra];
    env = childEnv();
    url = `http://127.0.0.1:${port}/graphql`;
  }
  const full = pin ? ['taskset', '-c', '1', ...cmd] : cmd;
  const child = spawn(full[0], full.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  CHILDREN.add(child);
  child.once('exit', () => CHILDREN.delete(child));
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${kind} exited during start-up:\n${output}`);
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
      if (res.status === 200) break;
    } catch {
      // not yet listening
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${kind} did not serve within 90 s:\n${output}`);
    }
    await sleep(200);
  }
  return {
    kind,
    url,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/** Peak resident set (VmHWM) of the gateway process, in MB. */
function peakRssMb(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    // With taskset in front, the gateway is taskset's exec'd image: same pid.
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

interface LoadResult {
  requests: number;
  durationSeconds: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  withErrors: number;
  sampleError?: string;
}

async function runLoad(url: string, bodies: string[], seconds: number, connections: number, pin: boolean, seed: number, amount?: number): Promise<LoadResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-load-'));
  const spec = path.join(dir, 'spec.json');
  writeFileSync(spec, JSON.stringify({ url, connections, durationSeconds: seconds, amount, bodies, seed }));
  const cmd = [process.execPath, '--import', 'tsx', path.join(__dirname, 'load.ts'), spec];
  const full = pin ? ['taskset', '-c', '0', ...cmd] : cmd;
  return new Promise((resolve, reject) => {
    const child = spawn(full[0], full.slice(1), { cwd: ROOT, env: childEnv({ NODE_ENV: 'test' }), stdio: ['ignore', 'pipe', 'pipe'] });
    CHILDREN.add(child);
    child.once('exit', () => CHILDREN.delete(child));
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as LoadResult);
      } catch {
        reject(new Error(`load generator failed (exit ${code}): ${err.slice(-2000)}`));
      }
    });
  });
}

async function gqlPost(url: string, query: string, variables: Record<string, unknown>): Promise<{ data?: any; errors?: { message: string }[] }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as { data?: any; errors?: { message: string }[] };
}

async function buildPools(url: string): Promise<VariablePools> {
  const first = await gqlPost(url, POOL_QUERY, { city: '320100' });
  if (!first.data) throw new Error(`pool query failed: ${JSON.stringify(first.errors)}`);
  const cities = (first.data.cities as { code: string; districts: { code: string }[] }[]).map((c) => c.code);
  const districts = (first.data.cities as { districts: { code: string }[] }[]).flatMap((c) => c.districts.map((d) => d.code));
  const nodes = (first.data.communities.edges as { node: any }[]).map((e) => e.node);
  const communities = nodes.map((n) => n.id as string);
  const companies = [...new Set(nodes.map((n) => n.currentContract?.company?.uscc).filter(Boolean))] as string[];
  const period = nodes.map((n) => n.feeHistory?.[0]?.period).find(Boolean) ?? '2025-06';
  return { cities: cities.length ? cities : ['320100'], districts, communities, companies, period, year: Number(period.slice(0, 4)) || 2025 };
}

interface Row {
  gateway: GatewayKind;
  label: string;
  workload: 'W1' | 'W2';
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  /** Measured window (s): an anchor that answered nothing has p99 beyond it. */
  windowSeconds: number;
  failed: number;
  peakRssMb: number | null;
  fetchesPerOp: number;
  representationsPerOp: number;
  uniqueRepresentationsPerOp: number;
  dbCommandsPerOp: number;
  perSubgraph: Record<string, unknown>;
  sampleError?: string;
}

async function main() {
  const opts = args();
  if (opts.pin) spawnSync('taskset', ['-a', '-pc', '0', String(process.pid)]);
  const started = Date.now();
  log(`gateway bench: ${opts.gateways.join(', ')} × ${opts.workloads.join(', ')}; ${opts.connections} connections, ${opts.warmup} s warm-up + ${opts.duration} s measured; ${opts.communities} communities; pinning ${opts.pin ? 'on (gateway CPU 1, rest CPU 0)' : 'off'}`);
  let subgraphs = await startSubgraphs(opts.communities, opts.seed, opts.dataDir, opts.fresh);
  /**
   * Waits until the subgraphs (and the database) finished what earlier load left behind, so runs
   * do not overlap. A gateway without dedup can leave minutes of queued work: after 10 s the
   * wait is bounded by --drain; --restart-on-backlog restarts the subgraph layer instead (slow:
   * the engine reloads the city from disk).
   */
  const drain = async (what: string) => {
    const t = Date.now();
    while (subgraphs.inflight() > 0 && Date.now() - t < opts.drainSeconds * 1000) await sleep(100);
    const left = subgraphs.inflight();
    if (left > 0 && opts.restartOnBacklog) {
      const ports = Object.fromEntries(Object.entries(subgraphs.urls).map(([n, u]) => [n, Number(new URL(u).port)]));
      await subgraphs.stop();
      subgraphs = await startSubgraphs(opts.communities, opts.seed, opts.dataDir, false, ports);
      log(`${what}: ${left} requests still queued after ${opts.drainSeconds} s; restarted the subgraphs in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    } else if (left > 0) log(`${what}: ${left} requests still queued after ${opts.drainSeconds} s; going on (the next run shares the database with them)`);
    else if (Date.now() - t > 500) log(`${what}: waited ${((Date.now() - t) / 1000).toFixed(1)} s for the subgraphs to finish earlier requests`);
  };
  const supergraph = writeBenchSupergraph(subgraphs.urls);
  const rows: Row[] = [];
  const excluded: { name: string; reason: string }[] = [];
  const singleLatency: Record<string, number> = {};
  let w1Bodies: string[] = [];
  let w2Bodies: string[] = [];
  try {
    // Operations and variables are fixed once, against the project gateway, then reused for all.
    const probe = await startGateway('ours', supergraph, false);
    try {
      const pools = await buildPools(probe.url);
      log(`pools: ${pools.cities.length} cities, ${pools.districts.length} districts, ${pools.communities.length} communities, ${pools.companies.length} companies, period ${pools.period}`);
      const rnd = seededRandom(opts.seed);
      const usable: OperationTemplate[] = [];
      for (const op of W2_OPERATIONS) {
        const t = Date.now();
        const r = await gqlPost(probe.url, op.query, op.variables(pools, rnd));
        const ms = Date.now() - t;
        if (r.errors?.length || !r.data) excluded.push({ name: op.name, reason: r.errors?.[0]?.message ?? 'no data' });
        else {
          usable.push(op);
          const again = Date.now();
          await gqlPost(probe.url, op.query, op.variables(pools, rnd));
          singleLatency[op.name] = Date.now() - again;
          log(`probe ${op.name}: ${ms} ms cold, ${singleLatency[op.name]} ms warm (one request alone)`);
        }
      }
      for (const e of excluded) log(`left out of W2: ${e.name}: ${e.reason}`);
      if (!usable.length) throw new Error('no W2 operation runs against this stack');
      const w1Op = opts.w1 === W1_OPERATION.name ? W1_OPERATION : W2_OPERATIONS.find((o) => o.name === opts.w1);
      if (!w1Op) throw new Error(`--w1: unknown operation "${opts.w1}" (known: ${W2_OPERATIONS.map((o) => o.name).join(', ')})`);
      const w1Vars = w1Op.variables(pools, seededRandom(opts.seed));
      const w1 = await gqlPost(probe.url, w1Op.query, w1Vars);
      if (w1.errors?.length) throw new Error(`W1 operation fails: ${w1.errors[0].message}`);
      w1Bodies = [JSON.stringify({ query: w1Op.query, operationName: w1Op.name, variables: w1Vars })];
      log(`W1: ${w1Op.name} (op ${w1Op.domain}) ${JSON.stringify(w1Vars)}`);
      w2Bodies = Array.from({ length: 400 }, (_, i) => {
        const op = usable[i % usable.length];
        return JSON.stringify({ query: op.query, operationName: op.name, variables: op.variables(pools, rnd) });
      });
      log(`W2 mix: ${usable.map((o) => `${o.name} (op ${o.domain})`).join(', ')}; ${new Set(w2Bodies).size} distinct requests`);
    } finally {
      await probe.stop();
    }

    for (const kind of opts.gateways) {
      log(`starting ${LABEL[kind]}…`);
      const gw = await startGateway(kind, supergraph, opts.pin);
      try {
        for (const workload of opts.workloads) {
          const bodies = workload === 'W1' ? w1Bodies : w2Bodies;
          await drain(`${kind} ${workload} before warm-up`);
          const warm = opts.warmup > 0 ? await runLoad(gw.url, bodies, opts.warmup, opts.connections, opts.pin, opts.seed + 1) : undefined;
          await drain(`${kind} ${workload} after warm-up`);
          subgraphs.reset();
          // Measured phase: as many requests as the warm-up rate gives in --duration seconds, and every
          // one of them answered, so slow gateways' latencies are not cut off at the end of a window.
          const amount = warm ? Math.max(opts.connections, Math.round(warm.rps * opts.duration)) : undefined;
          const r = await runLoad(gw.url, bodies, opts.duration, opts.connections, opts.pin, opts.seed, amount);
          const t = subgraphs.totals();
          const ops = Math.max(1, r.requests);
          const row: Row = {
            gateway: kind,
            label: LABEL[kind],
            workload,
            rps: r.rps,
            p50: r.p50,
            p99: r.p99,
            requests: r.requests,
            windowSeconds: r.durationSeconds || opts.duration,
            failed: r.withErrors + r.errors + r.timeouts,
            peakRssMb: peakRssMb(gw.child.pid),
            fetchesPerOp: t.fetches / ops,
            representationsPerOp: t.representations / ops,
            uniqueRepresentationsPerOp: t.uniqueRepresentations / ops,
            dbCommandsPerOp: t.dbCommands / ops,
            perSubgraph: Object.fromEntries(
              Object.entries(t.perSubgraph).map(([n, v]) => [n, { ...v, meanMsPerFetch: v.fetches ? Math.round(v.busyMs / v.fetches) : null }]),
            ),
            sampleError: r.sampleError,
          };
          rows.push(row);
          log(
            `${LABEL[kind]} ${workload}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, ` +
              `${row.fetchesPerOp.toFixed(2)} fetches/op, ${row.representationsPerOp.toFixed(2)} reps/op, ${row.dbCommandsPerOp.toFixed(2)} db/op, failed ${row.failed}` +
              (row.sampleError ? ` (e.g. ${row.sampleError.slice(0, 160)})` : ''),
          );
          log(
            `  subgraphs: ${Object.entries(row.perSubgraph as Record<string, { fetches: number; meanMsPerFetch: number | null; dbCommands: number }>)
              .map(([n, v]) => `${n} ${v.fetches} fetches, mean ${v.meanMsPerFetch ?? '-'} ms, ${v.dbCommands} db`)
              .join('; ')}`,
          );
        }
        // VmHWM after both workloads: the gateway's peak over its whole life.
        const peak = peakRssMb(gw.child.pid);
        for (const row of rows) if (row.gateway === kind) row.peakRssMb = peak;
      } finally {
        await gw.stop();
        await drain(`after ${kind}`);
      }
    }
  } finally {
    await subgraphs.stop();
  }

  const table = render(rows);
  const targets = evaluateTargets(rows);
  console.log('\n' + table + '\n');
  console.log(targets.map((t) => `${t.met === null ? 'n/a ' : t.met ? 'MET ' : 'MISS'}  ${t.target}: ${t.detail}`).join('\n'));
  const outDir = path.join(ROOT, 'bench-results');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `gateway-bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        when: new Date().toISOString(),
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, pinned: opts.pin },
        options: opts,
        wallSeconds: Math.round((Date.now() - started) / 1000),
        excludedOperations: excluded,
        singleRequestLatencyMs: singleLatency,
        rows,
        targets,
      },
      null,
      2,
    ),
  );
  console.log(`\nresults: ${path.relative(ROOT, file)} (${Math.round((Date.now() - started) / 1000)} s)`);
}

function render(rows: Row[]): string {
  const header = ['gateway', 'wl', 'RPS', 'p50 ms', 'p99 ms', 'peak RSS MB', 'fetches/op', 'reps/op', 'uniq reps/op', 'db cmds/op', 'failed', 'RPS vs stock', 'p99 vs stock', 'RPS vs hive', 'RPS vs hive-nodedup'];
  const lines = [header];
  const find = (g: GatewayKind, w: string) => rows.find((r) => r.gateway === g && r.workload === w);
  const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? '-' : b === 0 ? (a === 0 ? '-' : '∞') : `${(a / b).toFixed(2)}x`);
  const p99Of = (r: Row | undefined) => (r === undefined ? undefined : r.requests === 0 ? Number.POSITIVE_INFINITY : r.p99);
  const perOp = (r: Row, v: number) => (r.requests === 0 ? '-' : v.toFixed(2));
  for (const r of rows) {
    lines.push([
      r.label,
      r.workload,
      r.rps.toFixed(1),
      r.requests === 0 ? `> ${r.windowSeconds * 1000}` : String(r.p50),
      r.requests === 0 ? `> ${r.windowSeconds * 1000}` : String(r.p99),
      r.peakRssMb === null ? '-' : String(r.peakRssMb),
      perOp(r, r.fetchesPerOp),
      perOp(r, r.representationsPerOp),
      perOp(r, r.uniqueRepresentationsPerOp),
      perOp(r, r.dbCommandsPerOp),
      String(r.failed),
      ratio(r.rps, find('stock', r.workload)?.rps),
      (() => {
        const a = p99Of(r);
        const b = p99Of(find('stock', r.workload));
        if (a === undefined || b === undefined) return '-';
        if (b === Number.POSITIVE_INFINITY) return a === b ? '-' : '< 1/∞ (stock answered nothing)';
        return `${(a / b).toFixed(2)}x`;
      })(),
      ratio(r.rps, find('hive', r.workload)?.rps),
      ratio(r.rps, find('hive-nodedup', r.workload)?.rps),
    ]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const fmt = (l: string[]) => '| ' + l.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  return [fmt(lines[0]), '|' + widths.map((w, i) => (i < 2 ? ':' : '') + '-'.repeat(w + (i < 2 ? 1 : 1)) + (i < 2 ? '' : ':')).join('|') + '|', ...lines.slice(1).map(fmt)].join('\n');
}

function evaluateTargets(rows: Row[]) {
  const find = (g: GatewayKind, w: string) => rows.find((r) => r.gateway === g && r.workload === w);
  const out: { target: string; met: boolean | null; detail: string }[] = [];
  const ours2 = find('ours', 'W2');
  const stock2 = find('stock', 'W2');
  const p99 = (r: Row) => (r.requests === 0 ? Number.POSITIVE_INFINITY : r.p99);
  const p99Text = (r: Row) => (r.requests === 0 ? `> ${r.windowSeconds * 1000} ms (answered nothing in the window)` : `${r.p99} ms`);
  const x = (a: number, b: number) => (b === 0 ? (a === 0 ? 'n/a' : '∞') : `${(a / b).toFixed(2)}x`);
  out.push(
    ours2 && stock2
      ? { target: 'W2 RPS >= 1.3x stock', met: ours2.requests > 0 && ours2.rps >= 1.3 * stock2.rps, detail: `${x(ours2.rps, stock2.rps)} (${ours2.rps.toFixed(1)} vs ${stock2.rps.toFixed(1)} req/s)` }
      : { target: 'W2 RPS >= 1.3x stock', met: null, detail: 'not measured' },
  );
  out.push(
    ours2 && stock2
      ? {
          target: 'W2 p99 <= 0.8x stock',
          met: ours2.requests > 0 && p99(ours2) <= 0.8 * p99(stock2),
          detail: `${p99Text(ours2)} vs ${p99Text(stock2)}${stock2.requests > 0 && ours2.requests > 0 ? ` = ${(ours2.p99 / stock2.p99).toFixed(2)}x` : ''}`,
        }
      : { target: 'W2 p99 <= 0.8x stock', met: null, detail: 'not measured' },
  );
  const ours1 = find('ours', 'W1');
  const hive1 = find('hive', 'W1');
  out.push(
    ours1 && hive1
      ? { target: 'W1 RPS >= Hive (dedup on)', met: ours1.requests > 0 && ours1.rps >= hive1.rps, detail: `${x(ours1.rps, hive1.rps)} (${ours1.rps.toFixed(1)} vs ${hive1.rps.toFixed(1)} req/s)` }
      : { target: 'W1 RPS >= Hive (dedup on)', met: null, detail: 'not measured' },
  );
  // Behind the response cache a figure is the cache's speed: the database targets are judged uncached.
  const oursRows = rows.filter((r) => (r.gateway === 'ours-nocache' || (r.gateway === 'ours' && !rows.some((x) => x.gateway === 'ours-nocache'))) && r.requests > 0);
  out.push({
    target: 'representations per op = unique keys (project gateway)',
    met: oursRows.length ? oursRows.every((r) => Math.abs(r.representationsPerOp - r.uniqueRepresentationsPerOp) < 1e-9) : null,
    detail: oursRows.map((r) => `${r.workload} ${r.representationsPerOp.toFixed(2)} sent / ${r.uniqueRepresentationsPerOp.toFixed(2)} unique`).join('; '),
  });
  out.push({
    target: 'DB commands per op <= subgraph fetches per op (project gateway)',
    met: oursRows.length ? oursRows.every((r) => r.dbCommandsPerOp <= r.fetchesPerOp) : null,
    detail: oursRows.map((r) => `${r.workload} ${r.dbCommandsPerOp.toFixed(2)} db / ${r.fetchesPerOp.toFixed(2)} fetches`).join('; '),
  });
  const nocache2 = find('ours-nocache', 'W2');
  out.push(
    nocache2 && ours2
      ? { target: 'W2 uncached vs cached (project gateway)', met: null, detail: `${nocache2.rps.toFixed(1)} vs ${ours2.rps.toFixed(1)} req/s, p50 ${nocache2.p50} vs ${ours2.p50} ms` }
      : { target: 'W2 uncached vs cached (project gateway)', met: null, detail: 'not measured' },
  );
  const rss = oursRows.map((r) => r.peakRssMb).filter((x): x is number => x !== null);
  out.push({ target: 'project gateway peak RSS < 300 MB', met: rss.length ? Math.max(...rss) < 300 : null, detail: rss.length ? `${Math.max(...rss)} MB` : 'not measured' });
  return out;
}

function log(line: string) {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`bench failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
