/**
 * A subgraph's database goes away and comes back, through a real gateway over the four real
 * subgraphs: governance runs on its own embedded engine (on disk), which the test stops and later
 * starts again on the same port and data directory. Meanwhile governance's `/ready` says 503 (its
 * `/health` stays 200: no restart needed), its fields answer SUBGRAPH_UNAVAILABLE from the subgraph
 * itself (not the gateway's deadline), the other subgraphs' fields keep their data, and once the
 * engine is back the same request is answered in full without restarting anything. A database that
 * stops answering without refusing (a black hole, at a TCP proxy) is detected through the driver's
 * timeouts and ends the same way.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../embedded-mongo/src';
import { DEFAULT_SUBGRAPH_POLICY } from '../../gateway/datasource';
import { createGatewayServer } from '../../gateway/server';
import { connectDatabase } from '../../lib/db';
import { createLogger } from '../../lib/logger';
import { dbNameFor } from '../../lib/subgraph-module';
import { DEFAULT_SUPERGRAPH } from '../../scripts/stack';
import { SUBGRAPHS } from '../../scripts/subgraphs';
import { gql, type GqlResponse } from '../helpers/subgraph';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';

interface LogLine {
  service: string;
  level: number;
  msg: string;
  trace_id?: string;
  [k: string]: unknown;
}

const lines: LogLine[] = [];
const capture = { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) };
let shared: EmbeddedMongo;
let governanceEngine: EmbeddedMongo;
let governanceDbPath: string;
const closers: (() => Promise<void>)[] = [];
const urls: Record<string, string> = {};
let governanceConn: Connection;
let gatewayUrl: string;

beforeAll(async () => {
  shared = await startEmbeddedMongo({ port: 0 });
  governanceDbPath = mkdtempSync(path.join(os.tmpdir(), 'ccg-faults-'));
  governanceEngine = await startEmbeddedMongo({ port: 0, dbPath: governanceDbPath });
  for (const mod of SUBGRAPHS) {
    const uri = mod.name === 'governance' ? governanceEngine.uri : shared.uri;
    // As `npm start` connects to its embedded engine (scripts/stack.ts: patient heartbeats), with the
    // configured MONGODB_SERVER_SELECTION_TIMEOUT_MS.
    const conn = await connectDatabase({ uri, dbName: `${dbNameFor(mod.name)}_faults_${process.pid}`, patientMonitor: true });
    if (mod.name === 'governance') governanceConn = conn;
    const server = await mod.create(conn, createLogger(mod.name, 'info', capture));
    await mod.seed(conn);
    const running = await server.listen(0);
    urls[mod.name] = running.url;
    closers.push(async () => {
      await running.close();
      await conn.close();
    });
  }
  // A subgraph deadline far above the database timeouts (5 s): if governance waited on the driver's
  // own 30 s, the gateway would answer with its own "did not answer within" message instead. No
  // response cache: every request reaches the subgraphs.
  const gateway = createGatewayServer({
    supergraphPath: DEFAULT_SUPERGRAPH,
    subgraphUrls: urls,
    logger: createLogger('gateway', 'silent'),
    watchSupergraph: false,
    tuning: { subgraph: { ...DEFAULT_SUBGRAPH_POLICY, timeoutMs: 20_000 }, responseCacheMaxTtlSeconds: 0 },
  });
  const gw = await gateway.listen(0);
  gatewayUrl = gw.url;
  closers.unshift(() => gw.close());
}, 120_000);

afterAll(async () => {
  for (const c of closers) await c();
  await governanceEngine?.stop();
  await shared?.stop();
  if (governanceDbPath) rmSync(governanceDbPath, { recursive: true, force: true });
});

/** A 小区 from properties, its committee from governance (the federated join), and meal programmes from elderly. */
const PROFILE = `query Profile {
  community(id: "cm_320113_0001") { id name committee { id type } }
  mealPrograms(cityCode: "320700") { name }
}`;
const base = (graphqlUrl: string) => graphqlUrl.replace(/\/graphql$/, '');
const probe = async (name: string, route: '/ready' | '/health') => {
  const res = await fetch(`${base(urls[name])}${route}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a subgraph whose database is unreachable', () => {
  let before: GqlResponse;

  it('while the database answers: the profile joins all three subgraphs and every /ready is 200', async () => {
    before = await gql(gatewayUrl, PROFILE);
    expect(before.errors).toBeUndefined();
    expect(before.data!.community.committee).toMatchObject({ id: expect.any(String) });
    expect(before.data!.mealPrograms.length).toBeGreaterThan(0);
    for (const name of Object.keys(urls)) expect([name, (await probe(name, '/ready')).status]).toEqual([name, 200]);
  });

  it('engine stopped: governance /ready is 503 and /health stays 200; the other subgraphs stay ready', async () => {
    await governanceEngine.stop();
    // Until the driver's next heartbeat (10 s) notices, operations fail on the refused connection at
    // once; from then on they wait for a server up to the server-selection timeout. Wait for that,
    // the slower of the two, so the requests below see it.
    if (governanceConn.readyState === 1) await new Promise((resolve) => governanceConn.once('disconnected', resolve));
    expect(await probe('governance', '/ready')).toEqual({ status: 503, body: { ready: false, service: 'governance', database: 'down' } });
    // Liveness stays green: restarting the process would not bring the database back.
    expect(await probe('governance', '/health')).toEqual({ status: 200, body: { status: 'degraded', service: 'governance', database: 'down' } });
    for (const name of ['properties', 'elderly', 'renovation']) expect([name, (await probe(name, '/ready')).status]).toEqual([name, 200]);
  });

  it('engine stopped: governance’s field answers SUBGRAPH_UNAVAILABLE from the subgraph, with the other subgraphs’ data, and the warning carries the trace id', async () => {
    const traceId = randomBytes(16).toString('hex');
    const res = await gql(gatewayUrl, PROFILE, undefined, { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });
    expect(res.status).toBe(200);
    expect(res.data).toEqual({
      community: { ...before.data!.community, committee: null },
      mealPrograms: before.data!.mealPrograms,
    });
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]).toMatchObject({
      // The subgraph's own message: it answered in time rather than the gateway giving up on it.
      message: "the governance subgraph's database is unavailable; try again shortly",
      path: ['community', 'committee'],
      extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'governance' },
    });
    // No address, port or driver message reaches the caller.
    expect(JSON.stringify(res.errors)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|Mongo/);
    const warnings = lines.filter((l) => l.service === 'governance' && l.msg === 'database unavailable' && l.trace_id === traceId);
    expect(warnings.length).toBeGreaterThan(0);
  });

  it('engine stopped: asked directly, governance answers SUBGRAPH_UNAVAILABLE within the database timeouts instead of hanging', async () => {
    // Two nullable fields (a non-null one failing would end execution before the other's error is in).
    const res = await gql(urls.governance, '{ committee(id: "cmt_none") { id } partyAlliance(id: "pa_none") { id } }');
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ committee: null, partyAlliance: null });
    expect(res.errors!.map((e) => [e.path?.join('.'), e.extensions?.code]).sort()).toEqual([
      ['committee', 'SUBGRAPH_UNAVAILABLE'],
      ['partyAlliance', 'SUBGRAPH_UNAVAILABLE'],
    ]);
  });

  it('engine started again on the same port and data: governance becomes ready by itself and the profile is whole again', async () => {
    governanceEngine = await startEmbeddedMongo({ port: governanceEngine.port, dbPath: governanceDbPath });
    let ready = await probe('governance', '/ready');
    for (let i = 0; ready.status !== 200 && i < 120; i++) {
      await sleep(250);
      ready = await probe('governance', '/ready');
    }
    expect(ready).toEqual({ status: 200, body: { ready: true, service: 'governance', database: 'up' } });
    const after = await gql(gatewayUrl, PROFILE);
    expect(after.errors).toBeUndefined();
    expect(after.data).toEqual(before.data);
  });
});

describe('a subgraph whose database stops answering (connections accepted, nothing comes back)', () => {
  let engine: EmbeddedMongo;
  let proxy: TcpProxy;
  let url: string;
  const close: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    engine = await startEmbeddedMongo({ port: 0 });
    proxy = await startTcpProxy(engine.port);
    const properties = SUBGRAPHS.find((m) => m.name === 'properties')!;
    // Small database timeouts (MONGODB_SERVER_SELECTION_TIMEOUT_MS / MONGODB_CONNECT_TIMEOUT_MS) and a
    // frequent heartbeat (a URI option) keep the test short; the defaults behave the same, in seconds.
    const conn = await connectDatabase({
      uri: `${proxy.uri}/?heartbeatFrequencyMS=500`,
      dbName: `city_properties_blackhole_${process.pid}`,
      timeouts: { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 },
    });
    const server = await properties.create(conn, createLogger('properties', 'silent'));
    await properties.seed(conn);
    const running = await server.listen(0);
    url = running.url;
    close.push(running.close, () => conn.close());
  }, 120_000);
  afterAll(async () => {
    for (const c of close) await c();
    await proxy?.close();
    await engine?.stop();
  });

  const COMMUNITY = '{ community(id: "cm_320113_0001") { id name } }';

  it('its fields answer SUBGRAPH_UNAVAILABLE instead of hanging, /ready is 503, and it recovers when the database answers again', async () => {
    const healthy = await gql(url, COMMUNITY);
    expect(healthy.errors).toBeUndefined();

    proxy.freeze();
    const during = await gql(url, COMMUNITY);
    expect(during.data).toEqual({ community: null });
    expect(during.errors?.map((e) => [e.path?.join('.'), e.extensions?.code, e.message])).toEqual([
      ['community', 'SUBGRAPH_UNAVAILABLE', "the properties subgraph's database is unavailable; try again shortly"],
    ]);
    expect((await fetch(url.replace(/\/graphql$/, '/ready'))).status).toBe(503);

    proxy.thaw();
    let ready = 503;
    for (let i = 0; ready !== 200 && i < 120; i++) {
      await sleep(250);
      ready = (await fetch(url.replace(/\/graphql$/, '/ready'))).status;
    }
    expect(ready).toBe(200);
    expect(await gql(url, COMMUNITY)).toEqual(healthy);
  });
});
