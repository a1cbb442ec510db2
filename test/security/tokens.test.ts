/**
 * Token handling, at the gateway and at a subgraph reached directly (a subgraph does not trust the
 * gateway): only well-signed, unexpired tokens for this issuer and audience are accepted.
 */
import { generateKeyPair, SignJWT } from 'jose';
import { localAuth, startFixtureStack, startJwksServer, signWith, token, bearer, q, codes, type FixtureStack } from './helpers';
import { fixtureServer } from './fixture/elderly-fixture';
import { connectDatabase } from '../../lib/db';
import { uniqueDbName } from '../helpers/subgraph';
import type { AuthSettings } from '../../lib/config';

const PHONE = '{ elder(id: "el_a1") { id phone } }';

let fx: FixtureStack;
beforeAll(async () => {
  fx = await startFixtureStack({ security: { rateLimitPerMinute: 10_000 } });
});
afterAll(async () => fx?.stop());

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe.each([
  ['the gateway', () => fx.gatewayUrl],
  ['a subgraph reached directly', () => fx.subgraphUrl],
])('tokens presented to %s', (_where, url) => {
  test('a valid civil-affairs token reads the phone number', async () => {
    const r = await q(url(), PHONE, bearer(await token(fx.auth, { role: 'CIVIL_AFFAIRS' })));
    expect(r.errors).toBeUndefined();
    expect(r.data.elder.phone).toBe('13800000001');
  });

  test('an expired token is refused with 401 UNAUTHENTICATED', async () => {
    const t = await token(fx.auth, { role: 'CIVIL_AFFAIRS', ttl: -60 });
    const r = await q(url(), PHONE, bearer(t));
    expect(r.status).toBe(401);
    expect(codes(r)).toEqual(['UNAUTHENTICATED']);
    expect(r.errors![0]!.message).toMatch(/expired/);
    expect(r.data?.elder?.phone).toBeUndefined();
  });

  test('a token signed by another key (wrong signature) is refused', async () => {
    const other = { ...fx.auth, keyDir: localAuth().keyDir };
    const r = await q(url(), PHONE, bearer(await token(other, { role: 'CITY_ADMIN' })));
    expect(r.status).toBe(401);
    expect(codes(r)).toEqual(['UNAUTHENTICATED']);
  });

  test('a tampered token (role raised in the payload) is refused', async () => {
    const [h, , s] = (await token(fx.auth, { role: 'HOUSING_BUREAU' })).split('.');
    const payload = { sub: 'x', role: 'CITY_ADMIN', iss: fx.auth.issuer, aud: fx.auth.audience, exp: Math.floor(Date.now() / 1000) + 600 }; // wall-clock: jose checks exp against the real time
    const r = await q(url(), PHONE, bearer(`${h}.${b64(payload)}.${s}`));
    expect(r.status).toBe(401);
    expect(codes(r)).toEqual(['UNAUTHENTICATED']);
  });

  test.each([
    ['audience', { aud: 'another-graph' }],
    ['issuer', { iss: 'https://evil.example' }],
  ])('a token for the wrong %s is refused', async (_what, o) => {
    const keys = await import('../../lib/auth/keys').then((m) => m.loadOrCreateLocalKeys(fx.auth.keyDir));
    const t = await signWith(keys.privateKey, 'ES256', keys.kid, { role: 'CITY_ADMIN' }, o);
    const r = await q(url(), PHONE, bearer(t));
    expect(r.status).toBe(401);
    expect(codes(r)).toEqual(['UNAUTHENTICATED']);
  });

  test('an unsigned token (alg: none) is refused', async () => {
    const payload = { sub: 'x', role: 'CITY_ADMIN', iss: fx.auth.issuer, aud: fx.auth.audience, exp: Math.floor(Date.now() / 1000) + 600 }; // wall-clock: jose checks exp against the real time
    const r = await q(url(), PHONE, bearer(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`));
    expect(r.status).toBe(401);
    expect(codes(r)).toEqual(['UNAUTHENTICATED']);
  });

  test('garbage in the Authorization header is refused', async () => {
    for (const h of ['Basic dXNlcjpwYXNz', 'Bearer not-a-jwt', 'Bearer a.b.c']) {
      const r = await q(url(), PHONE, { authorization: h });
      expect(r.status).toBe(401);
      expect(codes(r)).toEqual(['UNAUTHENTICATED']);
    }
  });

  test('a role the token may not claim (PUBLIC, unknown, care team without a team) is refused', async () => {
    const keys = await import('../../lib/auth/keys').then((m) => m.loadOrCreateLocalKeys(fx.auth.keyDir));
    for (const claims of [{ role: 'PUBLIC' }, { role: 'SUPERUSER' }, { role: 'CARE_TEAM' }]) {
      const r = await q(url(), PHONE, bearer(await signWith(keys.privateKey, 'ES256', keys.kid, claims)));
      expect(r.status).toBe(401);
    }
  });

  test('no token on a protected field: null and UNAUTHENTICATED for that field; public fields still answer', async () => {
    const r = await q(url(), '{ elderCount(communityId: "cm_320104_0001") elder(id: "el_a1") { phone } }');
    expect(r.status).toBe(200);
    expect(r.data.elder).toBeNull();
    expect(r.data.elderCount).toBeNull(); // 2 < 5: suppressed for the public
    expect(codes(r)).toEqual(['UNAUTHENTICATED']);
    expect(r.errors![0]!.path).toEqual(['elder']);
  });
});

describe('a subgraph configured for production keys (JWKS URL)', () => {
  let jwks: Awaited<ReturnType<typeof startJwksServer>>;
  let prodAuth: AuthSettings;
  let url: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    jwks = await startJwksServer();
    prodAuth = { mode: 'jwks', issuer: 'https://idp.city.example', audience: 'city-community-graph', jwksUrl: jwks.url, keyDir: '/nonexistent' };
    const conn = await connectDatabase({ uri: fx.engine.uri, dbName: uniqueDbName('security_prod') });
    const running = await fixtureServer(conn, prodAuth).server.listen(0);
    url = running.url;
    close = async () => {
      await running.close();
      await conn.close();
    };
  });
  afterAll(async () => {
    await close?.();
    await jwks?.close();
  });

  test('refuses a token signed by the embedded default dev key', async () => {
    const dev = await token({ ...fx.auth, issuer: prodAuth.issuer }, { role: 'CITY_ADMIN' });
    const r = await q(url, PHONE, bearer(dev));
    expect(r.status).toBe(401);
    expect(codes(r)).toEqual(['UNAUTHENTICATED']);
  });

  test('accepts a token signed by the identity provider key in the JWKS', async () => {
    const t = await signWith(jwks.privateKey, 'RS256', jwks.kid, { role: 'CIVIL_AFFAIRS' }, { iss: prodAuth.issuer });
    const r = await q(url, PHONE, bearer(t));
    expect(r.errors).toBeUndefined();
    expect(r.data.elder.phone).toBe('13800000001');
  });

  test('refuses an HS256 token whose secret is the public key (algorithm confusion)', async () => {
    const publicJwk = await (await fetch(jwks.url)).text();
    const t = await new SignJWT({ role: 'CITY_ADMIN' })
      .setProtectedHeader({ alg: 'HS256', kid: jwks.kid })
      .setSubject('x')
      .setIssuer(prodAuth.issuer)
      .setAudience(prodAuth.audience)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(publicJwk));
    const r = await q(url, PHONE, bearer(t));
    expect(r.status).toBe(401);
    expect(codes(r)).toEqual(['UNAUTHENTICATED']);
  });

  test('refuses a token signed by an unknown key that claims the identity provider key id', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const t = await signWith(privateKey, 'RS256', jwks.kid, { role: 'CITY_ADMIN' }, { iss: prodAuth.issuer });
    const r = await q(url, PHONE, bearer(t));
    expect(r.status).toBe(401);
  });
});
