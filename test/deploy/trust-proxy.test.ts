/**
 * GATEWAY_TRUST_PROXY (lib/config.ts, gateway/server.ts): behind a load balancer the gateway's
 * per-IP rate limit keys anonymous callers on the client address the trusted proxy names in
 * X-Forwarded-For; with the default (no trusted proxy) it keys on the connection's address and the
 * header is ignored, so a client cannot choose its own key.
 */
import { ConfigError, loadConfig, parseTrustProxy, unhonouredVariables } from '../../lib/config';
import { startTestDatabase, type Engine } from '../helpers/subgraph';
import { codes, q, startFixtureStack, type FixtureStack } from '../security/helpers';

const QUERY = '{ elderCount(communityId: "x") }';
const LIMIT = 3;

describe('the GATEWAY_TRUST_PROXY setting', () => {
  test('hop counts, named ranges, IPs and CIDRs are read; unset is off; anything else is refused at start-up', () => {
    expect(loadConfig({}).gatewayTrustProxy).toBe(false);
    expect(loadConfig({ GATEWAY_TRUST_PROXY: '1' }).gatewayTrustProxy).toBe(1);
    expect(loadConfig({ GATEWAY_TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::/8 ,192.0.2.7' }).gatewayTrustProxy).toEqual(['loopback', '10.0.0.0/8', 'fd00::/8', '192.0.2.7']);
    expect(parseTrustProxy('off')).toBe(false);
    for (const bad of ['true', '10.0.0.0/33', 'example.com', '10.0.0/8', '1.2.3.4/8/9', '100'])
      expect(() => loadConfig({ GATEWAY_TRUST_PROXY: bad })).toThrow(ConfigError);
    expect(() => loadConfig({ GATEWAY_TRUST_PROXY: 'true' })).toThrow(/GATEWAY_TRUST_PROXY: must be a hop count/);
  });

  test('a subgraph alone refuses it (only the gateway sees clients)', () => {
    expect(unhonouredVariables({ GATEWAY_TRUST_PROXY: '1' }, 'start:subgraph')).toHaveLength(1);
    expect(unhonouredVariables({ GATEWAY_TRUST_PROXY: '1' }, 'start:gateway')).toEqual([]);
  });
});

describe('the per-IP rate limit behind a proxy', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await startTestDatabase();
  });
  afterAll(async () => engine?.stop());

  /** A gateway started with GATEWAY_TRUST_PROXY as given (unset when undefined), and a tiny per-IP limit. */
  async function gatewayWith(trustProxy: string | undefined): Promise<FixtureStack> {
    const saved = process.env.GATEWAY_TRUST_PROXY;
    if (trustProxy === undefined) delete process.env.GATEWAY_TRUST_PROXY;
    else process.env.GATEWAY_TRUST_PROXY = trustProxy;
    try {
      return await startFixtureStack({ engine, security: { rateLimitPerMinute: LIMIT } });
    } finally {
      if (saved === undefined) delete process.env.GATEWAY_TRUST_PROXY;
      else process.env.GATEWAY_TRUST_PROXY = saved;
    }
  }
  const from = (client: string) => ({ 'x-forwarded-for': client });

  async function spend(url: string, headers: Record<string, string>) {
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++) statuses.push((await q(url, QUERY, headers)).status);
    return statuses;
  }

  test('with the load balancer trusted (loopback), each client named in X-Forwarded-For has its own budget', async () => {
    const fx = await gatewayWith('loopback');
    try {
      expect(await spend(fx.gatewayUrl, from('203.0.113.10'))).toEqual([200, 200, 200, 429]);
      // Another client behind the same load balancer is not limited by the first.
      const other = await q(fx.gatewayUrl, QUERY, from('203.0.113.11'));
      expect(other.status).toBe(200);
      // A chain: the client is the address the trusted proxy appended last.
      const chained = await q(fx.gatewayUrl, QUERY, from('198.51.100.1, 203.0.113.10'));
      expect([chained.status, codes(chained)]).toEqual([429, ['RATE_LIMITED']]);
    } finally {
      await fx.stop();
    }
  });

  test('with a hop count of 1 the nearest proxy names the client', async () => {
    const fx = await gatewayWith('1');
    try {
      expect(await spend(fx.gatewayUrl, from('203.0.113.20'))).toEqual([200, 200, 200, 429]);
      expect((await q(fx.gatewayUrl, QUERY, from('203.0.113.21'))).status).toBe(200);
    } finally {
      await fx.stop();
    }
  });

  test.each([
    ['unset (the default)', undefined],
    ['a proxy range the caller is not in', '10.0.0.0/8'],
  ])('with GATEWAY_TRUST_PROXY %s, X-Forwarded-For is ignored: every caller on this address shares one budget', async (_label, setting) => {
    const fx = await gatewayWith(setting);
    try {
      expect(await spend(fx.gatewayUrl, from('203.0.113.30'))).toEqual([200, 200, 200, 429]);
      const spoofed = await q(fx.gatewayUrl, QUERY, from('203.0.113.31'));
      expect([spoofed.status, codes(spoofed)]).toEqual([429, ['RATE_LIMITED']]);
    } finally {
      await fx.stop();
    }
  });
});
