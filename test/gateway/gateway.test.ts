/**
 * The project's gateway against small fixture subgraphs: representation dedup (same answer as
 * stock @apollo/gateway), in-flight merging, timeouts, a killed subgraph and its recovery, no
 * addresses in errors, no mutation retries, /ready, APQ, safelist and the identity-keyed cache.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gql } from '../helpers/subgraph';
import { loadConfig } from '../../lib/config';
import { signLocalToken } from '../../lib/auth/token';
import { createLogger } from '../../lib/logger';
import { createGatewayServer } from '../../gateway/server';
import type { Listening } from '../../lib/http';
import type { GatewayTuning } from '../../gateway/tuning';
import { createGatewayFormatError, leaksAddress } from '../../gateway/errors';
import { startFixtures, startStockGateway, type Fixtures } from './fixtures';

const TIMEOUT_MS = 800;
// The default key dir for this test process, so test/helpers' default mutation token agrees too.
process.env.JWT_KEY_DIR = mkdtempSync(path.join(os.tmpdir(), 'gw-keys-'));
const auth = { ...loadConfig().auth, mode: 'local' as const };
const token = (subject: string) => signLocalToken(auth, { role: 'HOUSING_BUREAU', subject }).then((t) => `Bearer ${t}`);

async function startGateway(fx: Fixtures, tuning: Partial<GatewayTuning> = {}) {
  const server = createGatewayServer({
    supergraphPath: fx.supergraphPath,
    subgraphUrls: fx.urls,
    logger: createLogger('gateway', 'silent'),
    introspection: false,
    security: { auth, rateLimitPerMinute: 100_000 },
    tuning: { subgraph: { timeoutMs: TIMEOUT_MS, dedupInflight: true, dedupRepresentations: true, retry: true }, ...tuning },
  });
  const running = await server.listen(0);
  return { server, running, base: running.url.replace(/\/graphql$/, '') };
}

/** Resolves once the gateway's data source for `name` has been asked `n` more times (or after 5 s). */
function untilAsked(gw: { server: { features: { dataSources: Map<string, { stats: { requests: number } }> } } }, name: string, n: number) {
  const stats = gw.server.features.dataSources.get(name)!.stats;
  const target = stats.requests + n;
  return until(() => stats.requests >= target);
}

/** Resolves once `condition` holds (or after 5 s, so a broken expectation fails instead of hanging). */
function until(condition: () => boolean) {
  const deadline = performance.now() + 5000;
  return new Promise<void>((resolve) => {
    const tick = () => (condition() || performance.now() > deadline ? resolve() : setTimeout(tick, 5));
    tick();
  });
}

/** Anything that could tell a client where a subgraph lives. */
function expectNoAddresses(body: unknown, ports: number[]) {
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/https?:\/\//);
  expect(text).not.toMatch(/127\.0\.0\.1|localhost/);
  expect(text).not.toMatch(/\bE(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH)\b|errno/i);
  for (const p of ports) expect(text).not.toContain(String(p));
}

const REVIEWS_WITH_AUTHORS = 'query TopReviews { topReviews(first: 20) { id body author { id name } } }';
const USERS_AND_REVIEWS = 'query Both { users { id name } topReviews(first: 3) { id body } }';

describe('gateway data source', () => {
  let fx: Fixtures;
  let gw: Awaited<ReturnType<typeof startGateway>>;

  beforeAll(async () => {
    fx = await startFixtures();
    gw = await startGateway(fx);
  });
  afterAll(async () => {
    await gw?.running.close();
    await fx?.stopAll();
  });
  beforeEach(() => {
    for (const s of [fx.accounts, fx.reviews]) {
      s.resetCounters();
      Object.assign(s.controls, { delayMs: 0, mode: 'ok', failNext: 0, gate: undefined });
    }
  });

  test('a query with repeated entity keys sends each key once and answers exactly like stock @apollo/gateway', async () => {
    const stock = await startStockGateway(fx.supergraphSdl);
    try {
      const fromStock = await gql(stock.url, REVIEWS_WITH_AUTHORS);
      const stockReps = fx.accounts.counters.representations;
      fx.accounts.resetCounters();
      const ours = await gql(gw.running.url, REVIEWS_WITH_AUTHORS);
      expect(ours.errors).toBeUndefined();
      expect(ours.data).toEqual(fromStock.data);
      expect(stockReps).toBe(20);
      expect(fx.accounts.counters.representations).toBe(4);
      const sent = fx.accounts.counters.bodies[0].variables?.representations as unknown[];
      expect(sent).toHaveLength(4);
      expect(gw.server.features.dataSources.get('accounts')!.stats.representationsAsked).toBeGreaterThanOrEqual(20);
    } finally {
      await stock.stop();
    }
  });

  test('identical concurrent operations cause one subgraph fetch (merged as whole operations)', async () => {
    // A gateway with a long deadline: on a loaded machine 20 requests may take a while to arrive.
    const patient = await startGateway(fx, { subgraph: { timeoutMs: 20_000, dedupInflight: true, dedupRepresentations: true, retry: true } });
    try {
      await gql(patient.running.url, 'query Users { users { id name } }'); // plan cached: steady state
      fx.accounts.resetCounters();
      const stats = patient.server.features.coalesceStats!;
      const before = stats.executed;
      // The subgraph holds its answer until all 20 operations have arrived (1 running, 19 waiting).
      fx.accounts.controls.gate = until(() => stats.executed - before + stats.waiting >= 20);
      const results = await Promise.all(Array.from({ length: 20 }, () => gql(patient.running.url, 'query Users { users { id name } }')));
      for (const r of results) expect(r.data).toEqual({ users: fx_users() });
      expect(fx.accounts.counters.requests).toBe(1);
      expect(stats.executed - before).toBe(1);
    } finally {
      await patient.running.close();
    }
  });

  test('different concurrent operations needing the same subgraph call share one fetch', async () => {
    const patient = await startGateway(fx, { subgraph: { timeoutMs: 20_000, dedupInflight: true, dedupRepresentations: true, retry: true } });
    try {
      // Each operation asks reviews for a different count; the accounts call is the same.
      const q = 'query Both($n: Int) { users { id name } topReviews(first: $n) { id } }';
      await gql(patient.running.url, q, { n: 1 });
      fx.accounts.resetCounters();
      fx.accounts.controls.gate = untilAsked(patient, 'accounts', 20);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => gql(patient.running.url, q, { n: i + 1 })));
      results.forEach((r, i) => {
        expect(r.errors).toBeUndefined();
        expect(r.data?.users).toEqual(fx_users());
        expect(r.data?.topReviews).toHaveLength(i + 1);
      });
      expect(fx.accounts.counters.requests).toBe(1);
      expect(patient.server.features.dataSources.get('accounts')!.stats.merged).toBeGreaterThanOrEqual(19);
    } finally {
      await patient.running.close();
    }
  });

  test('with dedup off every operation sends its own subgraph call', async () => {
    const plain = await startGateway(fx, { subgraph: { timeoutMs: 20_000, dedupInflight: false, dedupRepresentations: false, retry: true } });
    try {
      await gql(plain.running.url, 'query Users { users { id name } }');
      fx.accounts.resetCounters();
      fx.accounts.controls.gate = untilAsked(plain, 'accounts', 5);
      await Promise.all(Array.from({ length: 5 }, () => gql(plain.running.url, 'query Users { users { id name } }')));
      expect(fx.accounts.counters.requests).toBe(5);
      fx.accounts.controls.gate = undefined;
      fx.accounts.resetCounters();
      await gql(plain.running.url, REVIEWS_WITH_AUTHORS);
      expect(fx.accounts.counters.representations).toBe(20);
    } finally {
      await plain.running.close();
    }
  });

  test('concurrent operations of different callers are not merged (identity is part of the key)', async () => {
    const patient = await startGateway(fx, { subgraph: { timeoutMs: 20_000, dedupInflight: true, dedupRepresentations: true, retry: true } });
    try {
      await gql(patient.running.url, '{ users { id } }');
      fx.accounts.resetCounters();
      const [a, b] = [await token('bureau-a'), await token('bureau-b')];
      fx.accounts.controls.gate = untilAsked(patient, 'accounts', 3);
      const res = await Promise.all([
        gql(patient.running.url, '{ users { id } }', undefined, { authorization: a }),
        gql(patient.running.url, '{ users { id } }', undefined, { authorization: b }),
        gql(patient.running.url, '{ users { id } }', undefined, { authorization: a }),
      ]);
      for (const r of res) expect(r.errors).toBeUndefined();
      expect(fx.accounts.counters.requests).toBe(2);
    } finally {
      await patient.running.close();
    }
  });

  test(`a subgraph sleeping past the timeout yields partial data and a coded error within timeout + 100 ms`, async () => {
    await gql(gw.running.url, USERS_AND_REVIEWS); // plan cached, connections open: time only the fetch
    fx.reviews.controls.delayMs = 5000;
    const started = performance.now();
    const res = await gql(gw.running.url, USERS_AND_REVIEWS);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 100);
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(res.status).toBe(200);
    expect(res.data?.users).toEqual(fx_users());
    expect(res.data?.topReviews ?? null).toBeNull();
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0].extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
    expect(res.errors![0].message).toContain('"reviews"');
    expectNoAddresses(res, [fx.reviews.port, fx.accounts.port]);
    fx.reviews.controls.delayMs = 0;
    // The gateway keeps serving: the next call is whole again.
    const again = await gql(gw.running.url, USERS_AND_REVIEWS);
    expect(again.errors).toBeUndefined();
  });

  test('a killed subgraph yields partial data and a coded error fast, and is picked up again when restarted', async () => {
    await gql(gw.running.url, USERS_AND_REVIEWS); // warm keep-alive sockets
    await fx.reviews.stop();
    try {
      const started = performance.now();
      const res = await gql(gw.running.url, USERS_AND_REVIEWS);
      expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 100);
      expect(res.data?.users).toEqual(fx_users());
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['SUBGRAPH_UNAVAILABLE']);
      expect(res.errors![0].message).toMatch(/subgraph "reviews" is unavailable/);
      expectNoAddresses(res, [fx.reviews.port, fx.accounts.port]);

      const ready = await fetch(`${gw.base}/ready`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { ready: boolean; supergraph: string; subgraphs: Record<string, string> };
      expect(body).toMatchObject({ ready: false, supergraph: 'loaded', subgraphs: { accounts: 'up', reviews: 'down' } });
      expectNoAddresses(body, [fx.reviews.port, fx.accounts.port]);
    } finally {
      await fx.reviews.restart();
    }
    const back = await gql(gw.running.url, USERS_AND_REVIEWS);
    expect(back.errors).toBeUndefined();
    expect(back.data?.topReviews).toHaveLength(3);
    await new Promise((r) => setTimeout(r, 1100)); // /ready caches probes for a second
    const ready = await fetch(`${gw.base}/ready`);
    expect(ready.status).toBe(200);
  });

  test('a subgraph answering garbage yields a coded error naming it, not its body', async () => {
    fx.reviews.controls.mode = 'garbage';
    const res = await gql(gw.running.url, USERS_AND_REVIEWS);
    expect(res.data?.users).toEqual(fx_users());
    expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'SUBGRAPH_UNAVAILABLE' } });
    expect(res.errors![0].message).toBe('subgraph "reviews" is unavailable: it returned an invalid response');
    expectNoAddresses(res, [fx.reviews.port, 8080]);
    fx.reviews.controls.mode = 'json-array';
    const res2 = await gql(gw.running.url, USERS_AND_REVIEWS);
    expect(res2.errors?.[0].extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
  });

  test('a query is retried once after a 503 and succeeds; a mutation is never retried', async () => {
    fx.accounts.controls.failNext = 1;
    const q = await gql(gw.running.url, '{ user(id: "u1") { id name } }');
    expect(q.errors).toBeUndefined();
    expect(q.data).toEqual({ user: { id: 'u1', name: expect.any(String) } });
    expect(fx.accounts.counters.requests).toBe(2);

    fx.accounts.resetCounters();
    fx.accounts.controls.failNext = 1;
    const m = await gql(gw.running.url, 'mutation { rename(id: "u2", name: "Renamed") { id name } }');
    expect(fx.accounts.counters.requests).toBe(1);
    expect(fx.accounts.counters.mutations).toBe(0);
    expect(m.errors?.[0].extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
    expectNoAddresses(m, [fx.accounts.port]);

    // Even when the failure is a refused connection, the mutation is sent once only.
    await fx.accounts.stop();
    try {
      const m2 = await gql(gw.running.url, 'mutation { rename(id: "u2", name: "Again") { id } }');
      expect(m2.errors?.[0].extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
      expect(gw.server.features.dataSources.get('accounts')!.stats.retries).toBe(1); // the query's retry above only
    } finally {
      await fx.accounts.restart();
    }
  });

  test('concurrent identical mutations are not merged', async () => {
    fx.accounts.controls.delayMs = 100;
    await Promise.all([1, 2, 3].map(() => gql(gw.running.url, 'mutation { rename(id: "u3", name: "Same") { id } }')));
    expect(fx.accounts.counters.mutations).toBe(3);
    expect(fx.accounts.counters.requests).toBe(3);
  });

  test('/health is live and /ready lists every subgraph when all are up', async () => {
    const health = await fetch(`${gw.base}/health`);
    expect(health.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    const ready = await fetch(`${gw.base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, supergraph: 'loaded', subgraphs: { accounts: 'up', reviews: 'up' } });
  });

  test('automatic persisted queries: a hash alone misses first, then hits after registration', async () => {
    const query = '{ users { id } }';
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const send = (body: object) =>
      fetch(gw.running.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
        async (r) => (await r.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] },
      );
    const ext = { persistedQuery: { version: 1, sha256Hash } };
    const miss = await send({ extensions: ext });
    expect(miss.errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const register = await send({ query, extensions: ext });
    expect(register.data).toEqual({ users: fx_users().map(({ id }) => ({ id })) });
    const hit = await send({ extensions: ext });
    expect(hit.errors).toBeUndefined();
    expect(hit.data).toEqual(register.data);
  });

  test('the response cache serves public aggregates per identity and never across identities', async () => {
    const q = '{ cityStats { count viewer } }';
    const [a, b] = [await token('bureau-a'), await token('bureau-b')];
    const a1 = await gql(gw.running.url, q, undefined, { authorization: a });
    const a2 = await gql(gw.running.url, q, undefined, { authorization: a });
    const b1 = await gql(gw.running.url, q, undefined, { authorization: b });
    expect(a1.data?.cityStats.viewer).toBe(a);
    expect(a2.data).toEqual(a1.data); // served from cache
    expect(b1.data?.cityStats.viewer).toBe(b); // not bureau-a's entry
    expect(fx.accounts.counters.requests).toBe(2);
    expect(gw.server.features.responseCacheStats?.hits).toBeGreaterThanOrEqual(1);
    // Uncacheable data (no hints from the subgraph) is fetched every time.
    fx.accounts.resetCounters();
    await gql(gw.running.url, '{ users { id } }', undefined, { authorization: a });
    await gql(gw.running.url, '{ users { id } }', undefined, { authorization: a });
    expect(fx.accounts.counters.requests).toBe(2);
  });
});

describe('gateway safelist mode', () => {
  let fx: Fixtures;
  let gw: Awaited<ReturnType<typeof startGateway>>;
  const allowed = 'query Users { users { id name } }';

  beforeAll(async () => {
    fx = await startFixtures();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-safelist-'));
    const manifest = path.join(dir, 'manifest.json');
    writeFileSync(
      manifest,
      JSON.stringify({
        format: 'apollo-persisted-query-manifest',
        version: 1,
        operations: [{ id: createHash('sha256').update(allowed).digest('hex'), name: 'Users', type: 'query', body: allowed }],
      }),
    );
    gw = await startGateway(fx, { safelistFile: manifest });
  });
  afterAll(async () => {
    await gw?.running.close();
    await fx?.stopAll();
  });

  test('an operation from the manifest runs; any other is refused with a clear coded error before reaching a subgraph', async () => {
    const ok = await gql(gw.running.url, allowed);
    expect(ok.errors).toBeUndefined();
    expect(ok.data?.users).toHaveLength(4);
    fx.accounts.resetCounters();
    const refused = await gql(gw.running.url, 'query Other { users { id } }');
    expect(refused.status).toBe(403);
    expect(refused.errors?.[0].extensions?.code).toBe('OPERATION_NOT_IN_SAFELIST');
    expect(refused.errors?.[0].message).toMatch(/safelist/);
    expect(fx.accounts.counters.requests).toBe(0);
  });

  test('a dashboard may send only the hash of a manifest operation', async () => {
    const sha256Hash = createHash('sha256').update(allowed).digest('hex');
    const res = await fetch(gw.running.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash } } }),
    });
    const body = (await res.json()) as { data?: { users: unknown[] } };
    expect(body.data?.users).toHaveLength(4);
  });
});

describe('gateway formatError', () => {
  const format = createGatewayFormatError();

  test("stock @apollo/gateway's fetch failure message is rewritten: no URL, host, port or errno", () => {
    const stockMessage = 'request to http://127.0.0.1:4101/graphql failed, reason: connect ECONNREFUSED 127.0.0.1:4101';
    expect(leaksAddress(stockMessage)).toBe(true);
    const out = format({ message: stockMessage, extensions: { code: 'INTERNAL_SERVER_ERROR', serviceName: 'accounts' } }, new Error(stockMessage));
    expect(out.message).toBe('subgraph "accounts" is unavailable');
    expect(out.extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
    expectNoAddresses(out, [4101]);
  });

  test('the HTTP error wrapper of the stock data source loses its extensions.response (which holds the URL)', () => {
    const out = format(
      {
        message: '400: Bad Request',
        extensions: { code: 'FORBIDDEN', response: { url: 'http://10.1.2.3:4001/graphql', status: 400 } },
      },
      undefined,
    );
    expect(out.extensions?.response).toBeUndefined();
    expectNoAddresses(out, [4001]);
  });

  test('a validation message holding a time ("T00:00:00Z") is not mistaken for an address: it passes as BAD_USER_INPUT', () => {
    const message = 'startDate: not a valid date-time "20250-01-01T00:00:00Z"';
    expect(leaksAddress(message)).toBe(false);
    expect(format({ message, extensions: { code: 'BAD_USER_INPUT', serviceName: 'governance' } }, undefined)).toMatchObject({ message, extensions: { code: 'BAD_USER_INPUT' } });
    expect(leaksAddress('connect to subgraph.internal.example:4001 failed')).toBe(true);
  });

  test('gateway-internal errors keep no message of their own; subgraph codes pass through', () => {
    expect(format({ message: 'Expected "data._entities" to contain 3 elements', extensions: { code: 'INTERNAL_SERVER_ERROR' } }, undefined).message).toBe(
      'Internal server error',
    );
    expect(format({ message: 'community not found', extensions: { code: 'NOT_FOUND', serviceName: 'properties' } }, undefined)).toMatchObject({
      message: 'community not found',
      extensions: { code: 'NOT_FOUND' },
    });
  });
});

function fx_users() {
  return [
    { id: 'u1', name: expect.any(String) },
    { id: 'u2', name: expect.any(String) },
    { id: 'u3', name: expect.any(String) },
    { id: 'u4', name: expect.any(String) },
  ];
}

describe('address detection', () => {
  test.each([
    ['request to http://127.0.0.1:4101/graphql failed', true],
    ['connect ECONNREFUSED', true],
    ['getaddrinfo EAI_AGAIN properties.internal', true],
    ['socket to properties:4001 closed', true],
    ['localhost refused', true],
    ['subgraph "elderly" is unavailable: it did not answer within 1500 ms', false],
    ['subgraph "renovation" is unavailable: it could not be reached', false],
    ['community not found', false],
    ['read ECONNRESET', true],
    ['UND_ERR_SOCKET other side closed', true],
    // Capitalised words are not errno names: GraphQL's own syntax errors must reach the client.
    ['ELDERLY register closed for maintenance', false],
    ['Syntax Error: Expected Name, found <EOF>.', false],
  ])('%s → leaks: %s', (message, leaks) => {
    expect(leaksAddress(message)).toBe(leaks);
  });
});
