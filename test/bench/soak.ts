/**
 * `npm run soak -- --minutes N [--communities N] [...]` (not part of `npm test`; issue 13): the whole
 * federation as separate processes, under a mixed dashboard read load plus a steady stream of
 * writes, with faults, then a report and a verdict per target.
 *
 *  1. Seeds the article's 小区 and a synthetic city of `--communities` 小区 (`npm run seed`) into a
 *     durable data directory (a temporary one, or `--data DIR` to keep and reuse it) unless it
 *     already holds a city of that size and seed, starts the standalone embedded engine
 *     (`npm run db`, embedded-mongo/src/cli.ts) on it on a free port, mints a CITY_ADMIN token
 *     (`npm run token`), then starts the four subgraphs (`npm run start:subgraph -- NAME`, with
 *     MONGODB_URI at the engine) and the gateway (`npm run start:gateway`, `<NAME>_URL` routing
 *     overrides, APOLLO_TELEMETRY_DISABLED=1), everything on 127.0.0.1 and free ports. Each service
 *     is the same entry point npm runs, started as `node --import tsx <entry>` so the process the
 *     soak kills and measures is the service itself (npm and tsx would put wrappers in between).
 *  2. Load (soak-load.ts, its own process): `--connections` clients sending the bench's dashboard
 *     operations (operations.ts, W2 mix, response cache as configured by default), and one write
 *     every `--write-every` ms with the token: createServiceTicket, recordHomeVisit, recordSpend in
 *     turn. Every request is recorded; every acknowledged write's id is kept.
 *  3. Faults: every `--restart-every` s (default 120) one subgraph, round robin, is killed with
 *     SIGKILL and started again on its port; once, mid-run, the engine is killed with SIGKILL and
 *     started again on the same port and data directory. A restart window runs from the kill until
 *     the gateway's /ready is 200 again, plus `--grace` s; requests overlapping it are counted apart.
 *  4. Report: requests by outcome and error code (inside / outside restart windows), read and write
 *     p50/p99 and RSS per service (VmRSS from /proc every 5 s) per 5-minute window (per minute
 *     under 10 minutes), acknowledged writes and how many of them the engine holds afterwards, one
 *     verdict line per target of the issue; exit code 1 when a target is missed. JSON goes to
 *     bench-results/soak-<time>.json; service logs to the temporary directory (kept with --keep).
 *
 * The gateway's per-caller rate limit and fair-use budgets are lifted (one client address drives
 * the whole load, as in `npm run bench`); every other setting is the default unless given with
 * `--gateway-env KEY=VALUE`. Every child is killed when the soak ends, fails or is interrupted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { POOL_QUERY, W2_OPERATIONS, seededRandom, type OperationTemplate, type VariablePools } from './operations';
import type { SoakLoadSpec, WrittenRecord } from './soak-load';
import {
  SOAK_USAGE,
  SoakArgsError,
  exitCodeFor,
  faultSchedule,
  parseSoakArgs,
  renderReport,
  summarize,
  verdicts,
  windowSecondsFor,
  type RequestRecord,
  type RestartWindow,
  type RssSample,
  type SoakOptions,
  type WriteCheck,
} from './soak-report';

const ROOT = path.join(__dirname, '../..');
const SUBGRAPH_NAMES = ['properties', 'governance', 'elderly', 'renovation'];
const CHILDREN = new Set<ChildProcess>();
let shuttingDown = false;
/** This run's temporary directory (logs, keys, and the data unless --data). */
let runDir: string | undefined;

process.on('exit', () => {
  for (const c of CHILDREN) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    shuttingDown = true;
    log(`${signal}: killing every service`);
    process.exit(130);
  });
}

function log(line: string) {
  console.error(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

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

/** Loopback only, telemetry off, nothing inherited beyond the basics. */
function childEnv(stateDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) if (process.env[k]) env[k] = process.env[k];
  return { ...env, HOST: '127.0.0.1', DATA_DIR: stateDir, LOG_LEVEL: 'warn', APOLLO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', ...extra };
}

/** One service process, restartable with the same command line and environment. */
class Service {
  child?: ChildProcess;
  restarts = 0;
  private expectingExit = false;
  private tail = '';
  private logStream: WriteStream;
  constructor(
    readonly name: string,
    private readonly entry: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    logDir: string,
    private readonly onUnexpectedExit: (s: Service, code: number | null, signal: string | null) => void,
  ) {
    this.logStream = createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
  }
  get pid() {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }
  output() {
    return this.tail;
  }
  start(onStdout?: (text: string) => void) {
    this.expectingExit = false;
    this.tail = '';
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, this.entry), ...this.args], { cwd: ROOT, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    CHILDREN.add(child);
    const keep = (d: Buffer) => {
      this.logStream.write(d);
      this.tail = (this.tail + d.toString()).slice(-4000);
    };
    child.stdout!.on('data', (d: Buffer) => {
      keep(d);
      onStdout?.(d.toString());
    });
    child.stderr!.on('data', keep);
    child.once('exit', (code, signal) => {
      CHILDREN.delete(child);
      if (!this.expectingExit && !shuttingDown) this.onUnexpectedExit(this, code, signal);
    });
    return child;
  }
  /** Kill (SIGKILL by default) and wait for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', graceMs = 0): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.expectingExit = true;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    if (graceMs > 0) {
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    } else await exited;
  }
  close() {
    this.logStream.end();
  }
}

async function waitHttp(url: string, timeoutMs: number, what: string, svc?: Service): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (svc && svc.child && (svc.child.exitCode !== null || svc.child.signalCode !== null)) throw new Error(`${what} exited while starting:\n${svc.output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`${what}: ${url} not 200 within ${timeoutMs / 1000} s${svc ? `:\n${svc.output()}` : ''}`);
    await sleep(250);
  }
}

/** Runs an entry point to completion; resolves with its stdout. */
function runOnce(entry: string, args: string[], env: NodeJS.ProcessEnv, logDir: string, name: string, echo = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const logStream = createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, entry), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    CHILDREN.add(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      logStream.write(d);
      if (echo) for (const line of d.toString().split('\n').filter(Boolean)) log(`${name}: ${line}`);
    });
    child.stderr!.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
      logStream.write(d);
    });
    child.once('exit', (code) => {
      CHILDREN.delete(child);
      logStream.end();
      if (code === 0) resolve(out);
      else reject(new Error(`${name} failed (exit ${code}):\n${err}`));
    });
  });
}

function vmRssKb(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

async function gql(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<{ data?: any; errors?: { message: string }[] }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(120_000),
  });
  return (await res.json()) as { data?: any; errors?: { message: string }[] };
}

async function buildPools(url: string): Promise<VariablePools> {
  const first = await gql(url, POOL_QUERY, { city: '320100' });
  if (!first.data) throw new Error(`pool query failed: ${JSON.stringify(first.errors)}`);
  const cities = (first.data.cities as { code: string }[]).map((c) => c.code);
  const districts = (first.data.cities as { districts: { code: string }[] }[]).flatMap((c) => c.districts.map((d) => d.code));
  const nodes = (first.data.communities.edges as { node: any }[]).map((e) => e.node);
  const communities = nodes.map((n) => n.id as string);
  const companies = [...new Set(nodes.map((n) => n.currentContract?.company?.uscc).filter(Boolean))] as string[];
  const period = nodes.map((n) => n.feeHistory?.[0]?.period).find(Boolean) ?? '2025-06';
  return { cities: cities.length ? cities : ['320100'], districts, communities, companies, period, year: Number(period.slice(0, 4)) || 2025 };
}

/** Write targets straight from the engine: 小区 governance knows, active residents, projects with funding. */
async function writeTargets(uri: string): Promise<SoakLoadSpec['targets']> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 30_000 });
  try {
    await client.connect();
    const communities = (await client.db('city_governance').collection('communities').find({}, { projection: { _id: 1 } }).limit(300).toArray()).map((d) => String(d._id));
    const elders = (await client.db('city_elderly').collection('elderly_residents').find({ status: 'ACTIVE' }, { projection: { _id: 1 } }).limit(300).toArray()).map((d) => String(d._id));
    const projects = (
      await client.db('city_renovation').collection('renovation_projects').find({}, { projection: { _id: 1, fundingSources: 1 } }).limit(600).toArray()
    )
      .filter((d) => Array.isArray(d.fundingSources) && d.fundingSources.length > 0)
      .slice(0, 200)
      .map((d) => ({ id: String(d._id), fundingType: String((d.fundingSources as { type: string }[])[0].type) }));
    return { communities, elders, projects };
  } finally {
    await client.close();
  }
}

/** Looks every acknowledged write up in the engine. */
async function checkWrites(uri: string, written: WrittenRecord[]): Promise<WriteCheck[]> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 60_000 });
  const chunks = <T>(xs: T[], n = 500) => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));
  try {
    await client.connect();
    const byId = async (kind: 'ticket' | 'visit', db: string, coll: string): Promise<WriteCheck> => {
      const ids = written.flatMap((w) => (w.kind === kind ? [w.id] : []));
      const found = new Set<string>();
      for (const part of chunks(ids)) {
        for (const d of await client.db(db).collection<{ _id: string }>(coll).find({ _id: { $in: part } }, { projection: { _id: 1 } }).toArray()) found.add(String(d._id));
      }
      const missing = ids.filter((id) => !found.has(id));
      return { kind, acknowledged: ids.length, present: ids.length - missing.length, missingSample: missing.slice(0, 20) };
    };
    const tickets = await byId('ticket', 'city_governance', 'service_tickets');
    const visits = await byId('visit', 'city_elderly', 'home_visits');
    const spends = written.flatMap((w) => (w.kind === 'spend' ? [w] : []));
    const present = new Set<string>();
    for (const part of chunks(spends)) {
      const docs = await client
        .db('city_renovation')
        .collection<{ _id: string; spends?: { clientKey?: string | null }[] }>('renovation_projects')
        .find({ _id: { $in: [...new Set(part.map((s) => s.projectId))] } }, { projection: { _id: 1, spends: 1 } })
        .toArray();
      for (const d of docs) for (const s of d.spends ?? []) if (s.clientKey) present.add(`${d._id}/${s.clientKey}`);
    }
    const missingSpends = spends.filter((s) => !present.has(`${s.projectId}/${s.clientKey}`)).map((s) => `${s.projectId}/${s.clientKey}`);
    return [tickets, visits, { kind: 'spend', acknowledged: spends.length, present: spends.length - missingSpends.length, missingSample: missingSpends.slice(0, 20) }];
  } finally {
    await client.close();
  }
}

async function main(opts: SoakOptions): Promise<number> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'soak-'));
  runDir = tmp;
  const logDir = path.join(tmp, 'logs');
  const stateDir = path.join(tmp, 'state');
  mkdirSync(logDir, { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  const dataDir = path.resolve(opts.dataDir ?? path.join(tmp, 'data'));
  const dbPath = path.join(dataDir, 'db');
  mkdirSync(dbPath, { recursive: true });
  const windowSeconds = windowSecondsFor(opts.minutes);
  log(`soak: ${opts.minutes} min, ${opts.communities} 小区, ${opts.connections} read clients${opts.readRate ? ` at ${opts.readRate} reads/s in all` : ''}, a write every ${opts.writeEveryMs} ms, a subgraph restart every ${opts.restartEverySeconds} s${opts.engineKill ? ', one engine kill -9' : ''}; logs in ${logDir}`);

  const unexpectedExits: { service: string; at: number; code: number | null; signal: string | null }[] = [];
  const windows: RestartWindow[] = [];
  const services = new Map<string, Service>();
  let restartServiceAfterCrash: (s: Service) => Promise<void> = async () => undefined;
  const onUnexpectedExit = (s: Service, code: number | null, signal: string | null) => {
    unexpectedExits.push({ service: s.name, at: Date.now(), code, signal });
    log(`UNEXPECTED exit of ${s.name} (code ${code}, signal ${signal}); starting it again:\n${s.output().slice(-1500)}`);
    void restartServiceAfterCrash(s).catch((e) => log(`could not restart ${s.name}: ${(e as Error).message}`));
  };

  // 1. Engine, seed, token, subgraphs, gateway.
  const enginePort = await freePort();
  const engine = new Service('engine', 'embedded-mongo/src/cli.ts', ['--port', String(enginePort), '--dbpath', dbPath], childEnv(stateDir), logDir, onUnexpectedExit);
  services.set('engine', engine);
  const startEngine = async () => {
    let uri: string | undefined;
    const got = new Promise<string>((resolve) => {
      let buf = '';
      engine.start((text) => {
        buf += text;
        const m = /^(mongodb:\/\/\S+)/m.exec(buf);
        if (m && !uri) resolve((uri = m[1]));
      });
    });
    const deadline = performance.now() + 30 * 60_000;
    while (!uri) {
      if (engine.child!.exitCode !== null || engine.child!.signalCode !== null) throw new Error(`engine exited while starting:\n${engine.output()}`);
      if (performance.now() > deadline) throw new Error(`engine did not start within 30 min:\n${engine.output()}`);
      await Promise.race([got, sleep(200)]);
    }
    return uri;
  };
  // The city is seeded before the engine starts, by `npm run seed` with the engine in its own process
  // on the same data directory (its driver is patient with an engine busy writing the city; one
  // connected over MONGODB_URI gives up after 30 s without a heartbeat answer, which a 4,000-小区
  // seed exceeds).
  const marker = path.join(dataDir, 'soak-city.json');
  const seeded = existsSync(marker) ? (JSON.parse(readFileSync(marker, 'utf8')) as { communities: number; seed: number }) : undefined;
  if (seeded && seeded.communities === opts.communities && seeded.seed === opts.seed && !opts.reseed) {
    log(`reusing the city of ${seeded.communities} 小区 (seed ${seeded.seed}) in ${dataDir} (--reseed to seed again)`);
  } else {
    const t = performance.now();
    log(`seeding ${opts.communities} 小区 (seed ${opts.seed})…`);
    rmSync(marker, { force: true });
    await runOnce('scripts/seed.ts', ['--communities', String(opts.communities), '--seed', String(opts.seed)], childEnv(stateDir, { DATA_DIR: dataDir }), logDir, 'seed', true);
    writeFileSync(marker, JSON.stringify({ communities: opts.communities, seed: opts.seed }));
    log(`seeded in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }

  const t0 = performance.now();
  const uri = await startEngine();
  log(`engine at ${uri} (data ${dataDir}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const token = (await runOnce('scripts/token.ts', ['--role', 'CITY_ADMIN', '--subject', 'soak', '--ttl', `${opts.minutes + 120}m`], childEnv(stateDir), logDir, 'token')).trim();

  const subgraphUrls: Record<string, string> = {};
  for (const name of SUBGRAPH_NAMES) {
    const port = await freePort();
    const key = name.toUpperCase();
    const svc = new Service(name, 'scripts/start-subgraph.ts', [name], childEnv(stateDir, { MONGODB_URI: uri, [`${key}_PORT`]: String(port) }), logDir, onUnexpectedExit);
    services.set(name, svc);
    subgraphUrls[name] = `http://127.0.0.1:${port}/graphql`;
  }
  const gatewayPort = await freePort();
  const gatewayBase = `http://127.0.0.1:${gatewayPort}`;
  const gateway = new Service(
    'gateway',
    'scripts/start-gateway.ts',
    [],
    childEnv(stateDir, {
      PORT: String(gatewayPort),
      GATEWAY_UI: 'none',
      // One client address drives the whole load (as in npm run bench): no per-caller limits.
      RATE_LIMIT_PER_MINUTE: '1000000000',
      FAIR_USE: 'false',
      ...Object.fromEntries(SUBGRAPH_NAMES.map((n) => [`${n.toUpperCase()}_URL`, subgraphUrls[n]])),
      ...opts.gatewayEnv,
    }),
    logDir,
    onUnexpectedExit,
  );
  services.set('gateway', gateway);
  const readyUrl = (name: string) => (name === 'gateway' ? `${gatewayBase}/ready` : subgraphUrls[name].replace(/\/graphql$/, '/ready'));
  await Promise.all(
    SUBGRAPH_NAMES.map(async (name) => {
      const svc = services.get(name)!;
      svc.start();
      await waitHttp(readyUrl(name), 180_000, name, svc);
    }),
  );
  gateway.start();
  await waitHttp(readyUrl('gateway'), 180_000, 'gateway', gateway);
  const gatewayUrl = `${gatewayBase}/graphql`;
  log(`subgraphs and gateway ready (${gatewayUrl}) after ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  restartServiceAfterCrash = async (s) => {
    if (s.name === 'engine') await startEngine();
    else {
      s.start();
      await waitHttp(readyUrl(s.name), 180_000, s.name, s);
    }
    s.restarts++;
  };

  // 2. Operations, variables and write targets. A cold stack may miss the gateway's subgraph
  // deadline on its first requests: each set-up request is tried a few times.
  const retried = async <T>(what: string, attempt: () => Promise<T>, ok: (x: T) => boolean, tries: number): Promise<T> => {
    let last: T | undefined;
    for (let i = 0; i < tries; i++) {
      try {
        last = await attempt();
        if (ok(last)) return last;
      } catch (e) {
        if (i === tries - 1) throw e;
      }
      await sleep(2000);
    }
    log(`${what}: still failing after ${tries} tries`);
    return last!;
  };
  const pools = await retried('pool query', () => buildPools(gatewayUrl), () => true, 10);
  const rnd = seededRandom(opts.seed);
  const usable: OperationTemplate[] = [];
  for (const op of W2_OPERATIONS) {
    const vars = op.variables(pools, rnd);
    const r = await retried(op.name, () => gql(gatewayUrl, op.query, vars), (x) => !x.errors?.length && !!x.data, 3);
    if (r.errors?.length || !r.data) log(`left out of the read mix: ${op.name}: ${r.errors?.[0]?.message ?? 'no data'}`);
    else usable.push(op);
  }
  if (!usable.length) throw new Error('no dashboard operation runs against this stack');
  const reads = Array.from({ length: 400 }, (_, i) => {
    const op = usable[i % usable.length];
    return JSON.stringify({ query: op.query, operationName: op.name, variables: op.variables(pools, rnd) });
  });
  const targets = await writeTargets(uri);
  log(`read mix: ${usable.map((o) => o.name).join(', ')} (${new Set(reads).size} distinct requests); write targets: ${targets.communities.length} 小区, ${targets.elders.length} residents, ${targets.projects.length} projects`);

  // Warm-up, not measured: the read mix for --warmup seconds, so the first window is not a cold start.
  if (opts.warmupSeconds > 0) {
    const until = performance.now() + opts.warmupSeconds * 1000;
    let sent = 0;
    let failed = 0;
    const warmRnd = seededRandom(opts.seed + 1);
    await Promise.all(
      Array.from({ length: Math.min(4, opts.connections) }, async () => {
        while (performance.now() < until) {
          const body = reads[Math.floor(warmRnd() * reads.length)];
          sent++;
          try {
            const res = await fetch(gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(60_000) });
            if (res.status !== 200 || (await res.text()).includes('"errors"')) failed++;
          } catch {
            failed++;
          }
        }
      }),
    );
    log(`warm-up: ${sent} reads in ${opts.warmupSeconds} s (${failed} with errors; not counted)`);
  }

  // 3. Load and faults.
  const durationMs = opts.minutes * 60_000;
  const startedAt = Date.now() + 1000;
  const recordsFile = path.join(tmp, 'requests.ndjson');
  const spec: SoakLoadSpec = {
    url: gatewayUrl,
    token,
    connections: opts.connections,
    endAt: startedAt + durationMs,
    maxRequests: opts.maxRequests,
    reads,
    targets,
    writeEveryMs: opts.writeEveryMs,
    readRate: opts.readRate,
    seed: opts.seed,
    timeoutMs: 60_000,
    out: recordsFile,
    runId: `soak-${startedAt.toString(36)}`,
  };
  const specFile = path.join(tmp, 'load-spec.json');
  writeFileSync(specFile, JSON.stringify(spec));
  const rss: RssSample[] = [];
  const sampleRss = () => {
    const t = Date.now();
    for (const [name, svc] of services) {
      const kb = vmRssKb(svc.pid);
      if (kb !== null) rss.push({ service: name, t, kb });
    }
  };
  await sleep(startedAt - Date.now());
  sampleRss();
  const sampler = setInterval(sampleRss, 5000);
  const loadDone = runOnce('test/bench/soak-load.ts', [specFile], childEnv(stateDir), logDir, 'load');

  const schedule = faultSchedule(opts.minutes * 60, opts.restartEverySeconds, SUBGRAPH_NAMES, opts.engineKill);
  log(`load started; faults at ${schedule.map((e) => `${e.atSeconds} s ${e.service}`).join(', ') || '(none)'}`);
  const minuteTicker = setInterval(() => log(`${Math.round((Date.now() - startedAt) / 60000)} min of ${opts.minutes}`), 60_000);
  for (const ev of schedule) {
    await sleep(startedAt + ev.atSeconds * 1000 - Date.now());
    if (Date.now() > startedAt + durationMs - 15_000) {
      // An earlier restart ran long: a fault now would fall after the load.
      log(`skipped the ${ev.kind} fault planned at ${ev.atSeconds} s (${ev.service}): an earlier restart ran past the end of the load`);
      continue;
    }
    const svc = services.get(ev.service)!;
    const from = Date.now();
    await svc.kill('SIGKILL');
    if (ev.kind === 'engine') {
      const t = performance.now();
      await startEngine();
      log(`engine killed (-9) and started again in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    } else {
      svc.start();
      await waitHttp(readyUrl(ev.service), 180_000, ev.service, svc);
    }
    svc.restarts++;
    // The window closes once the gateway sees every subgraph (and its database) ready again.
    await waitHttp(readyUrl('gateway'), 180_000, 'gateway');
    const to = Date.now() + opts.graceSeconds * 1000;
    windows.push({ service: ev.service, from, to });
    log(`restart of ${ev.service}: ${((to - from) / 1000).toFixed(1)} s window (kill → ready + ${opts.graceSeconds} s grace)`);
  }
  const loadSummary = await loadDone;
  clearInterval(minuteTicker);
  clearInterval(sampler);
  sampleRss();
  log(`load finished: ${loadSummary.trim()}`);

  // 4. Writes present afterwards, report.
  const records = readFileSync(recordsFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RequestRecord & { w?: WrittenRecord });
  const written = records.flatMap((r) => (r.w ? [r.w] : []));
  const writes = await checkWrites(uri, written);
  const endedAt = startedAt + durationMs;
  const summary = summarize({
    startedAt,
    endedAt,
    windowSeconds,
    records,
    windows,
    rss,
    services: ['gateway', ...SUBGRAPH_NAMES, 'engine'],
    restarts: Object.fromEntries([...services].map(([n, s]) => [n, s.restarts])),
    unexpectedExits,
    writes,
  });
  const vs = verdicts(summary);
  console.log('\n' + renderReport(summary, vs) + '\n');
  console.log(`machine: ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')} (1 / 5 / 15 min) at the end; Node ${process.version}`);
  const outDir = path.join(ROOT, 'bench-results');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ when: new Date().toISOString(), machine: { cpus: os.cpus().length, node: process.version, loadavg: os.loadavg() }, options: opts, summary, verdicts: vs }, null, 2));
  console.log(`results: ${path.relative(ROOT, file)}`);

  // Clean stop: services first, then the engine (SIGTERM lets it write its snapshot for --data reuse).
  shuttingDown = true;
  for (const name of ['gateway', ...SUBGRAPH_NAMES]) await services.get(name)!.kill('SIGTERM', 10_000);
  await engine.kill('SIGTERM', 120_000);
  for (const s of services.values()) s.close();
  if (opts.keep) log(`kept ${tmp}`);
  else {
    // Service logs go with the temporary directory; the data directory stays when given with --data.
    rmSync(tmp, { recursive: true, force: true });
  }
  return exitCodeFor(vs);
}

let options: SoakOptions;
try {
  options = parseSoakArgs(process.argv.slice(2));
} catch (e) {
  if (e instanceof SoakArgsError) {
    if (e.message) console.error(`soak: ${e.message}`);
    console.error(SOAK_USAGE);
    process.exit(e.message ? 2 : 0);
  }
  throw e;
}
main(options).then(
  (code) => process.exit(code),
  (err) => {
    shuttingDown = true;
    console.error(`soak failed: ${err instanceof Error ? err.stack : String(err)}`);
    for (const c of CHILDREN) c.kill('SIGKILL');
    if (runDir) {
      // The temporary city can be gigabytes: it goes; the service logs stay for the post-mortem.
      if (!options.dataDir && !options.keep) rmSync(path.join(runDir, 'data'), { recursive: true, force: true });
      console.error(`service logs: ${path.join(runDir, 'logs')}`);
    }
    process.exit(1);
  },
);
