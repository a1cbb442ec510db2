/**
 * Exploring the graph from browsers (README, "Exploring the graph"): the CORS layer answers every
 * preflight itself (GraphQL never sees one), Apollo's hosted Sandbox is allowed in the embedded
 * default and nothing is in production unless CORS_ORIGINS says so, a cross-origin POST with a token
 * gets data, and CSRF prevention still refuses simple cross-site requests. Real gateways on
 * 127.0.0.1 port 0 in front of the security fixture subgraph (tokens verified at both hops).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import type { Connection } from 'mongoose';
import pino from 'pino';
import { APOLLO_STUDIO_ORIGIN, ConfigError, loadConfig, type AuthSettings } from '../../lib/config';
import { connectDatabase } from '../../lib/db';
import type { Listening } from '../../lib/http';
import { createLogger } from '../../lib/logger';
import { createSubgraphServer, subgraphCorsOrigins } from '../../lib/subgraph-server';
import { createGatewayServer } from '../../gateway/server';
import { gatewaySecurityFromConfig } from '../../gateway/security';
import { startTestDatabase, uniqueDbName, type Engine } from '../helpers/subgraph';
import { localAuth, token } from '../security/helpers';
import { FIXTURE_SDL, fixtureServer } from '../security/fixture/elderly-fixture';

const STUDIO = APOLLO_STUDIO_ORIGIN;
const DASHBOARD = 'https://dashboard.city.example';
const EVIL = 'https://evil.example';
/** What the project's clients send cross-origin (the preflight must allow each of them). */
const CLIENT_HEADERS = ['content-type', 'authorization', 'apollo-require-preflight', 'x-apollo-operation-name', 'traceparent', 'x-request-id'];

/** The configurations under test (only CORS-relevant variables; the token settings are the test's). */
const EMBEDDED_ENV = { NODE_ENV: 'development' };
const PRODUCTION_ENV = { NODE_ENV: 'production', JWKS_URL: 'https://idp.city.example/.well-known/jwks.json' };

const ELDERS = '{ elders { id ageBand } }';

let engine: Engine;
let conn: Connection;
let subgraph: Listening;
let supergraphPath: string;
let auth: AuthSettings;
const open: Listening[] = [];

interface Gateway {
  url: string;
  origin: string;
  logs: { msg: string; corsOrigins?: string[]; source?: string }[];
}

/** A gateway whose security settings come from `env` through the configuration, as at start-up. */
async function startGateway(env: Record<string, string>): Promise<Gateway> {
  const logs: Gateway['logs'] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const { auth: _productionAuth, ...fromConfig } = gatewaySecurityFromConfig(env);
  const server = createGatewayServer({
    supergraphPath,
    watchSupergraph: false,
    subgraphUrls: { elderly: subgraph.url },
    logger: pino({ level: 'info' }, sink),
    security: { ...fromConfig, auth, rateLimitPerMinute: 10_000 },
  });
  const running = await server.listen(0);
  open.push(running);
  return { url: running.url, origin: new URL(running.url).origin, logs };
}

const preflight = (url: string, origin: string | undefined, requestHeaders = 'content-type') =>
  fetch(url, {
    method: 'OPTIONS',
    headers: {
      ...(origin ? { origin } : {}),
      'access-control-request-method': 'POST',
      ...(requestHeaders ? { 'access-control-request-headers': requestHeaders } : {}),
    },
  });

const post = (url: string, headers: Record<string, string>, body: string) => fetch(url, { method: 'POST', headers, body });
const listOf = (header: string | null) => (header ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
const civilAffairs = async () => `Bearer ${await token(auth, { role: 'CIVIL_AFFAIRS' })}`;

beforeAll(async () => {
  auth = localAuth();
  engine = await startTestDatabase();
  conn = await connectDatabase({ uri: engine.uri, dbName: uniqueDbName('cors') });
  subgraph = await fixtureServer(conn, auth).server.listen(0);
  const composed = composeServices([{ name: 'elderly', url: subgraph.url, typeDefs: parse(readFileSync(FIXTURE_SDL, 'utf8')) }]);
  if (composed.errors) throw new Error(composed.errors.map(String).join('\n'));
  supergraphPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'ccg-cors-')), 'supergraph.graphql');
  writeFileSync(supergraphPath, composed.supergraphSdl!);
});

afterAll(async () => {
  for (const r of open.reverse()) await r.close();
  await subgraph?.close();
  await conn?.close();
  await engine?.stop();
});

describe('the allowlist from the configuration', () => {
  const cors = (env: Record<string, string>) => {
    const s = loadConfig(env).gatewaySecurity;
    return { origins: s.corsOrigins, source: s.corsOriginsSource };
  };

  test('embedded default (NODE_ENV not production, no MONGODB_URI, no JWKS_URL): the hosted Sandbox and the gateway itself', () => {
    expect(cors(EMBEDDED_ENV)).toEqual({ origins: [STUDIO, 'self'], source: 'embedded default' });
    expect(cors({ NODE_ENV: 'test' })).toEqual({ origins: [STUDIO, 'self'], source: 'embedded default' });
    expect(cors({})).toEqual({ origins: [STUDIO, 'self'], source: 'embedded default' });
  });

  test('production, or anything configured like a deployment: no browser origin', () => {
    expect(cors(PRODUCTION_ENV)).toEqual({ origins: [], source: 'deployment default' });
    expect(cors({ ...EMBEDDED_ENV, MONGODB_URI: 'mongodb://db.city.example:27017/' })).toEqual({ origins: [], source: 'deployment default' });
    expect(cors({ ...EMBEDDED_ENV, MONGODB_URI_ELDERLY: 'mongodb://civil-db/' })).toEqual({ origins: [], source: 'deployment default' });
    expect(cors({ ...EMBEDDED_ENV, JWKS_URL: PRODUCTION_ENV.JWKS_URL })).toEqual({ origins: [], source: 'deployment default' });
  });

  test('CORS_ORIGINS set explicitly always wins (even empty), normalised', () => {
    expect(cors({ ...PRODUCTION_ENV, CORS_ORIGINS: ` ${DASHBOARD}, https://Studio.ApolloGraphQL.com/ ,self` })).toEqual({
      origins: [DASHBOARD, STUDIO, 'self'],
      source: 'CORS_ORIGINS',
    });
    expect(cors({ ...EMBEDDED_ENV, CORS_ORIGINS: '' })).toEqual({ origins: [], source: 'CORS_ORIGINS' });
    expect(cors({ ...EMBEDDED_ENV, CORS_ORIGINS: 'http://127.0.0.1:5173' })).toEqual({ origins: ['http://127.0.0.1:5173'], source: 'CORS_ORIGINS' });
  });

  test.each(['*', 'null', 'https://dashboard.city.example/app', 'dashboard.city.example', 'ftp://x.example'])('CORS_ORIGINS=%s is refused at start-up', (value) => {
    expect(() => loadConfig({ CORS_ORIGINS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ CORS_ORIGINS: value })).toThrow(/CORS_ORIGINS: must be comma-separated origins/);
  });

  test('subgraphs: the same list outside production, none in production (browsers use the gateway there)', () => {
    expect(subgraphCorsOrigins(EMBEDDED_ENV)).toEqual([STUDIO, 'self']);
    expect(subgraphCorsOrigins({ ...PRODUCTION_ENV, CORS_ORIGINS: DASHBOARD })).toEqual([]);
  });
});

describe('embedded default gateway', () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await startGateway(EMBEDDED_ENV);
  });

  test('a preflight from the hosted Sandbox gets 204 and the Access-Control-Allow-* headers, from the CORS layer', async () => {
    const res = await preflight(gw.url, STUDIO, CLIENT_HEADERS.join(', '));
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(STUDIO);
    expect(listOf(res.headers.get('access-control-allow-methods'))).toEqual(expect.arrayContaining(['get', 'post']));
    expect(listOf(res.headers.get('access-control-allow-headers'))).toEqual(expect.arrayContaining(CLIENT_HEADERS));
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(listOf(res.headers.get('vary'))).toContain('origin');
    // No cookies: callers send a bearer token.
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    // Answered before the token check, rate limit and GraphQL: no body, no rate-limit headers.
    expect(await res.text()).toBe('');
    expect(res.headers.get('ratelimit-limit')).toBeNull();
  });

  test('a Private Network Access preflight (public site → this machine) is allowed for allowed origins only', async () => {
    const ask = (origin: string) =>
      fetch(gw.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-private-network': 'true' } });
    expect((await ask(STUDIO)).headers.get('access-control-allow-private-network')).toBe('true');
    expect((await ask(EVIL)).headers.get('access-control-allow-private-network')).toBeNull();
  });

  test('the issue\'s exact preflight (content-type only) is no longer handed to GraphQL', async () => {
    const res = await preflight(gw.url, STUDIO);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(STUDIO);
    expect(await res.text()).not.toMatch(/CSRF/);
  });

  test('a preflight from an origin not on the list gets no allow-origin (and still never reaches GraphQL)', async () => {
    const res = await preflight(gw.url, EVIL, 'content-type, authorization');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-headers')).toBeNull();
    expect(listOf(res.headers.get('vary'))).toContain('origin');
    expect(await res.text()).toBe('');
  });

  test('the gateway\'s own origin (a future /dashboard) is allowed; another port on the same host is not', async () => {
    const own = await preflight(gw.url, gw.origin);
    expect(own.headers.get('access-control-allow-origin')).toBe(gw.origin);
    const port = Number(new URL(gw.url).port);
    const other = await preflight(gw.url, `http://127.0.0.1:${port === 1 ? 2 : port - 1}`);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('OPTIONS without an Origin (not a browser) is answered by the CORS layer too', async () => {
    const res = await fetch(gw.url, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('allow')).toMatch(/POST/);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('a cross-origin POST from the hosted Sandbox with a token returns data the page may read', async () => {
    const res = await post(gw.url, { origin: STUDIO, 'content-type': 'application/json', authorization: await civilAffairs() }, JSON.stringify({ query: ELDERS }));
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(STUDIO);
    expect(listOf(res.headers.get('access-control-expose-headers'))).toEqual(expect.arrayContaining(['ratelimit-remaining', 'retry-after']));
    const body = (await res.json()) as { data?: { elders: unknown[] }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data?.elders.length).toBeGreaterThan(0);
  });

  test('the same POST without a token is refused by the subgraph (the token really travelled)', async () => {
    const res = await post(gw.url, { origin: STUDIO, 'content-type': 'application/json' }, JSON.stringify({ query: ELDERS }));
    const body = (await res.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
    expect(body.errors?.map((e) => e.extensions?.code)).toContain('UNAUTHENTICATED');
  });

  test('a POST from an origin not on the list gets no allow-origin (the browser hides the answer)', async () => {
    const res = await post(gw.url, { origin: EVIL, 'content-type': 'application/json' }, JSON.stringify({ query: '{ elderCount(communityId: "cm_320104_0001") }' }));
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  test.each([
    ['text/plain', JSON.stringify({ query: ELDERS })],
    ['application/x-www-form-urlencoded', `query=${encodeURIComponent(ELDERS)}`],
  ])('a simple cross-site form POST (%s, no preflight header) is refused by CSRF prevention', async (contentType, body) => {
    for (const origin of [EVIL, STUDIO]) {
      const res = await post(gw.url, { origin, 'content-type': contentType, authorization: await civilAffairs() }, body);
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(text).toMatch(/CSRF/);
      expect(text).not.toMatch(/ageBand|el_a1/);
    }
  });

  test('start-up logs what CORS allows and why', () => {
    const line = gw.logs.find((l) => l.msg.startsWith('CORS:'));
    expect(line).toBeDefined();
    expect(line!.source).toBe('embedded default');
    expect(line!.corsOrigins).toEqual([STUDIO, `${gw.origin} (self)`]);
    expect(line!.msg).toContain(STUDIO);
  });
});

describe('production defaults', () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await startGateway(PRODUCTION_ENV);
  });

  test('a preflight from the hosted Sandbox gets no allow-origin', async () => {
    const res = await preflight(gw.url, STUDIO, 'content-type, authorization');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-headers')).toBeNull();
    expect(await res.text()).toBe('');
  });

  test('nor does the gateway\'s own origin, nor a cross-origin POST', async () => {
    expect((await preflight(gw.url, gw.origin)).headers.get('access-control-allow-origin')).toBeNull();
    const res = await post(gw.url, { origin: STUDIO, 'content-type': 'application/json', authorization: await civilAffairs() }, JSON.stringify({ query: ELDERS }));
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('desktop IDEs and curl (no Origin) are unaffected by CORS', async () => {
    const res = await post(gw.url, { 'content-type': 'application/json', authorization: await civilAffairs() }, JSON.stringify({ query: ELDERS }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data?: { elders: unknown[] } };
    expect(body.data?.elders.length).toBeGreaterThan(0);
  });

  test('CSRF prevention stays on', async () => {
    const res = await post(gw.url, { origin: EVIL, 'content-type': 'text/plain' }, JSON.stringify({ query: ELDERS }));
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/CSRF/);
  });

  test('start-up says no origin is allowed', () => {
    const line = gw.logs.find((l) => l.msg.startsWith('CORS:'));
    expect(line).toMatchObject({ corsOrigins: [], source: 'deployment default' });
    expect(line!.msg).toMatch(/no browser origin/);
  });

  test('with CORS_ORIGINS, exactly the configured origins are allowed', async () => {
    const configured = await startGateway({ ...PRODUCTION_ENV, CORS_ORIGINS: DASHBOARD });
    const ok = await preflight(configured.url, DASHBOARD, 'content-type, authorization');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
    expect(listOf(ok.headers.get('access-control-allow-headers'))).toEqual(expect.arrayContaining(CLIENT_HEADERS));
    expect((await preflight(configured.url, STUDIO)).headers.get('access-control-allow-origin')).toBeNull();
    const res = await post(configured.url, { origin: DASHBOARD, 'content-type': 'application/json', authorization: await civilAffairs() }, JSON.stringify({ query: ELDERS }));
    expect(res.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
    expect(((await res.json()) as { data?: { elders: unknown[] } }).data?.elders.length).toBeGreaterThan(0);
    expect(configured.logs.find((l) => l.msg.startsWith('CORS:'))).toMatchObject({ corsOrigins: [DASHBOARD], source: 'CORS_ORIGINS' });
  });
});

describe('subgraphs', () => {
  const SDL = `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
    type Query { hello: String }
  `;
  async function startTinySubgraph(env: Record<string, string>) {
    const sdlPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'ccg-cors-sg-')), 'tiny.graphql');
    writeFileSync(sdlPath, SDL);
    const server = createSubgraphServer({
      name: 'tiny',
      sdlPath,
      connection: conn,
      logger: createLogger('tiny', 'silent'),
      auth,
      createContext: () => ({}),
      resolvers: { Query: { hello: () => 'hi' } } as never,
      corsOrigins: subgraphCorsOrigins(env),
    });
    const running = await server.listen(0);
    open.push(running);
    return running.url;
  }

  test('in development a subgraph answers the Sandbox\'s preflight itself; a cross-origin POST gets data', async () => {
    const url = await startTinySubgraph(EMBEDDED_ENV);
    const res = await preflight(url, STUDIO, CLIENT_HEADERS.join(','));
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(STUDIO);
    expect(listOf(res.headers.get('access-control-allow-headers'))).toEqual(expect.arrayContaining(CLIENT_HEADERS));
    expect((await preflight(url, EVIL)).headers.get('access-control-allow-origin')).toBeNull();
    const post1 = await post(url, { origin: STUDIO, 'content-type': 'application/json' }, JSON.stringify({ query: '{ hello }' }));
    expect(post1.headers.get('access-control-allow-origin')).toBe(STUDIO);
    expect(await post1.json()).toEqual({ data: { hello: 'hi' } });
    const csrf = await post(url, { origin: STUDIO, 'content-type': 'text/plain' }, JSON.stringify({ query: '{ hello }' }));
    expect(csrf.status).toBe(400);
  });

  test('in production a subgraph allows no browser origin, and preflights still never reach GraphQL', async () => {
    const url = await startTinySubgraph({ ...PRODUCTION_ENV, CORS_ORIGINS: DASHBOARD });
    for (const origin of [STUDIO, DASHBOARD]) {
      const res = await preflight(url, origin);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(await res.text()).toBe('');
    }
  });
});
