/**
 * What the gateway serves besides /graphql (gateway/ui.ts), without a browser: the landing page,
 * /dashboard and /explorer with a 'self'-only Content-Security-Policy, the development token page
 * (embedded default only), and production turning the pages off unless GATEWAY_UI says otherwise.
 * The gateway's subgraphs are never reached here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildUiIfStale } from '../../dashboard/build';
import { createGatewayServer } from '../../gateway/server';
import { gatewayUiFromConfig, type GatewayUiOptions } from '../../gateway/ui';
import { ConfigError, loadConfig, unhonouredVariables, type AuthSettings } from '../../lib/config';
import { createTokenVerifier } from '../../lib/auth/verify';
import { createLogger } from '../../lib/logger';
import type { Listening } from '../../lib/http';
import { DEFAULT_SUPERGRAPH } from '../../scripts/stack';

const NOWHERE = 'http://127.0.0.1:9/graphql';
const PRODUCTION = { NODE_ENV: 'production', JWKS_URL: 'https://idp.city.example/.well-known/jwks.json' };

let tmp: string;
let auth: AuthSettings;
const open: Listening[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ui-routes-'));
  auth = { mode: 'local', issuer: 'city-community-graph', audience: 'city-community-graph', keyDir: path.join(tmp, 'keys') };
  await buildUiIfStale(() => undefined);
}, 120_000);
afterAll(async () => {
  for (const l of open) await l.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** A gateway whose pages are configured from `env` (as at start-up) plus overrides. */
async function gateway(env: Record<string, string>, ui: Partial<GatewayUiOptions> = {}, introspection = env.NODE_ENV !== 'production'): Promise<string> {
  const server = createGatewayServer({
    supergraphPath: DEFAULT_SUPERGRAPH,
    watchSupergraph: false,
    subgraphUrls: { properties: NOWHERE, governance: NOWHERE, elderly: NOWHERE, renovation: NOWHERE },
    logger: createLogger('gateway', 'silent'),
    introspection,
    security: { auth },
    // The pages as configured by `env`, signing with this test's keys.
    ui: { ...gatewayUiFromConfig(env), auth, ...ui },
  });
  const running = await server.listen(0);
  open.push(running);
  return running.url.replace(/\/graphql$/, '');
}

const get = (url: string) => fetch(url, { redirect: 'manual' });
const mint = (base: string, body: unknown, type = 'application/json') =>
  fetch(`${base}/dashboard/dev-token`, { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('GATEWAY_UI in the configuration', () => {
  test('the embedded default serves both pages and the development token page', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).gatewayUi).toEqual({ dashboard: true, explorer: true, devTokens: true });
  });
  test('production serves neither page unless GATEWAY_UI lists it, and never mints development tokens', () => {
    expect(loadConfig(PRODUCTION).gatewayUi).toEqual({ dashboard: false, explorer: false, devTokens: false });
    expect(loadConfig({ ...PRODUCTION, GATEWAY_UI: 'dashboard,explorer' }).gatewayUi).toEqual({ dashboard: true, explorer: true, devTokens: false });
  });
  test('a real database in development keeps the pages but not the token page; none turns both off', () => {
    expect(loadConfig({ MONGODB_URI: 'mongodb://db.example/' }).gatewayUi).toEqual({ dashboard: true, explorer: true, devTokens: false });
    expect(loadConfig({ GATEWAY_UI: 'none' }).gatewayUi).toEqual({ dashboard: false, explorer: false, devTokens: false });
    expect(loadConfig({ GATEWAY_UI: 'explorer' }).gatewayUi).toEqual({ dashboard: false, explorer: true, devTokens: false });
  });
  test('an unknown page name is refused at start-up with what is accepted', () => {
    expect(() => loadConfig({ GATEWAY_UI: 'dashboard,sandbox' })).toThrow(ConfigError);
    expect(() => loadConfig({ GATEWAY_UI: 'dashboard,sandbox' })).toThrow(/GATEWAY_UI: must be none or a comma-separated list of dashboard, explorer/);
  });
  test('a subgraph started alone refuses GATEWAY_UI (a gateway setting)', () => {
    expect(unhonouredVariables({ GATEWAY_UI: 'dashboard' }, 'start:subgraph')).toEqual([expect.stringMatching(/^GATEWAY_UI: a gateway setting/)]);
  });
});

describe('pages of the embedded default', () => {
  let base: string;
  beforeAll(async () => {
    base = await gateway({ NODE_ENV: 'development' });
  });

  test('the landing page at / links the dashboard, the explorer and the Sandbox, with a CSP allowing only this origin', async () => {
    const res = await get(`${base}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const href of ['/dashboard/', '/explorer/', '/graphql']) expect(html).toContain(`href="${href}"`);
    expect(html).toMatch(/needs the internet/);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/https?:|\*/);
  });

  test('/dashboard redirects to /dashboard/, which serves the built app with the CSP; unknown files are 404', async () => {
    const redirect = await get(`${base}/dashboard`);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/dashboard/');
    const page = await get(`${base}/dashboard/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script src="app.js"></script>');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("style-src 'self';"); // no inline styles on the dashboard
    expect(csp).not.toMatch(/https?:|\*/);
    const js = await get(`${base}/dashboard/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await get(`${base}/dashboard/nope.js`)).status).toBe(404);
  });

  test('/explorer/ serves GraphiQL from this gateway', async () => {
    const res = await get(`${base}/explorer/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<script src="explorer.js"></script>');
    // GraphiQL's editor sets inline styles; scripts stay 'self' only.
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self';.*style-src 'self' 'unsafe-inline';/);
    expect((await get(`${base}/explorer/explorer.js`)).status).toBe(200);
  });

  test('config.json offers the roles, and the token page mints a token the gateway accepts for the picked role', async () => {
    const config = (await (await get(`${base}/dashboard/config.json`)).json()) as { devTokens: boolean; roles: { role: string; requiredClaims: string[] }[] };
    expect(config.devTokens).toBe(true);
    expect(config.roles.map((r) => r.role)).toEqual(expect.arrayContaining(['CITY_ADMIN', 'CIVIL_AFFAIRS', 'CARE_TEAM']));
    expect(config.roles.find((r) => r.role === 'CARE_TEAM')!.requiredClaims).toEqual(['team']);
    const res = await mint(base, { role: 'CIVIL_AFFAIRS' });
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    const caller = await createTokenVerifier(auth).verify(`Bearer ${token}`);
    expect(caller.role).toBe('CIVIL_AFFAIRS');
    const area = await mint(base, { role: 'STREET_STAFF', district: '320104', community: 'cm_320104_0001' });
    expect(area.status).toBe(200);
  });

  test('the token page refuses an unknown role, a missing required claim, a malformed claim and a non-JSON body with the reason', async () => {
    const bad = async (body: unknown, type?: string) => {
      const r = await mint(base, body, type);
      return { status: r.status, error: ((await r.json()) as { error: string }).error };
    };
    expect(await bad({ role: 'MAYOR' })).toEqual({ status: 400, error: expect.stringMatching(/^role must be one of CITY_ADMIN/) });
    expect(await bad({ role: 'PUBLIC' })).toEqual({ status: 400, error: expect.stringMatching(/^role must be one of/) });
    expect(await bad({ role: 'CARE_TEAM' })).toEqual({ status: 400, error: 'role CARE_TEAM needs the claim "team"' });
    expect(await bad({ role: 'STREET_STAFF', district: '32010' })).toEqual({ status: 400, error: 'claim "district" is malformed' });
    expect(await bad('role=CITY_ADMIN', 'application/x-www-form-urlencoded')).toEqual({ status: 415, error: expect.stringMatching(/JSON/) });
  });
});

describe('pages of a production gateway', () => {
  test('NODE_ENV=production: no dashboard, no explorer, no token page (404), and / goes to /graphql', async () => {
    const base = await gateway(PRODUCTION);
    for (const p of ['/dashboard/', '/dashboard/app.js', '/dashboard/config.json', '/explorer/']) expect([p, (await get(`${base}${p}`)).status]).toEqual([p, 404]);
    expect((await mint(base, { role: 'CITY_ADMIN' })).status).toBe(404);
    const root = await get(`${base}/`);
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/graphql');
  });

  test('GATEWAY_UI=dashboard,explorer in production serves the pages, but still mints no token', async () => {
    const base = await gateway({ ...PRODUCTION, GATEWAY_UI: 'dashboard,explorer' });
    expect((await get(`${base}/dashboard/`)).status).toBe(200);
    expect((await get(`${base}/explorer/`)).status).toBe(200);
    expect(await (await get(`${base}/dashboard/config.json`)).json()).toEqual({ devTokens: false });
    const res = await mint(base, { role: 'CITY_ADMIN' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toMatch(/only in the embedded default/);
    const landing = await (await get(`${base}/`)).text();
    expect(landing).toMatch(/Apollo Sandbox: 本部署未开启 \(off in this deployment\)/);
  });

  test('a dashboard that is configured but not built answers 503 saying how to build it', async () => {
    const base = await gateway({ NODE_ENV: 'development' }, { distDir: path.join(tmp, 'no-build') });
    const res = await get(`${base}/dashboard/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/npm run build:ui/);
  });
});
