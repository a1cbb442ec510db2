/**
 * Abuse resistance at the gateway: query limits (GraphQL Armor), body size, malformed JSON,
 * operator injection in filter arguments, CORS allowlist, CSRF prevention, introspection off in
 * production settings, per-token rate limit. Every refusal is a clear 4xx-style GraphQL error and
 * the services keep serving.
 */
import { startFixtureStack, token, bearer, post, q, codes, type FixtureStack } from './helpers';

let fx: FixtureStack;
beforeAll(async () => {
  fx = await startFixtureStack({
    security: { rateLimitPerMinute: 10_000, maxDepth: 6, maxAliases: 10, maxTokens: 1000, maxCost: 150, corsOrigins: ['https://dashboard.city.example'] },
  });
});
afterAll(async () => fx?.stop());

async function stillServing() {
  const r = await q(fx.gatewayUrl, '{ elderCount(communityId: "cm_320104_0001") }');
  expect(r.status).toBe(200);
  expect(r.errors).toBeUndefined();
}

const nested = (depth: number) => {
  let sel = 'id';
  for (let i = 0; i < depth; i++) sel = `neighbours { ${sel} }`;
  return `{ elders { ${sel} } }`;
};

describe('query limits', () => {
  test('a query within the limits answers', async () => {
    const r = await q(fx.gatewayUrl, nested(3), bearer(await token(fx.auth, { role: 'CIVIL_AFFAIRS' })));
    expect(r.errors).toBeUndefined();
  });

  test('an over-deep query is refused before execution', async () => {
    const r = await q(fx.gatewayUrl, nested(12));
    expect(r.status).toBe(400);
    expect(codes(r)[0]).toMatch(/GRAPHQL_VALIDATION_FAILED|BAD_USER_INPUT/);
    expect(r.errors!.map((e) => e.message).join(' ')).toMatch(/depth limit of 6 exceeded/i);
    await stillServing();
  });

  test('alias flooding is refused', async () => {
    const aliases = Array.from({ length: 50 }, (_, i) => `a${i}: elderCount(communityId: "x")`).join(' ');
    const r = await q(fx.gatewayUrl, `{ ${aliases} }`);
    expect(r.status).toBe(400);
    expect(r.errors!.some((e) => /alias/i.test(e.message))).toBe(true);
    await stillServing();
  });

  test('an over-wide query (too many tokens) is refused', async () => {
    const fields = Array.from({ length: 600 }, () => 'id ageBand').join(' ');
    const r = await q(fx.gatewayUrl, `{ elders { ${fields} } }`);
    expect(r.status).toBe(400);
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0]!.message).toMatch(/more than 1000 tokens/i);
    await stillServing();
  });

  test('a costly query is refused', async () => {
    // 9 aliases (under the alias limit) of a depth-5 selection (under the depth limit): cost ≈ 190 > 150.
    const r = await q(fx.gatewayUrl, `{ ${Array.from({ length: 9 }, (_, i) => `a${i}: ${nested(3).slice(2, -2)}`).join(' ')} }`);
    expect(r.status).toBe(400);
    expect(r.errors!.map((e) => e.message).join(' ')).toMatch(/cost limit of 150 exceeded/i);
    await stillServing();
  });
});

describe('bodies', () => {
  test('a 10 MB body answers 413 with a JSON GraphQL error', async () => {
    const big = JSON.stringify({ query: '{ elderCount(communityId: "x") }', variables: { pad: 'x'.repeat(10 * 1024 * 1024) } });
    const r = await post(fx.gatewayUrl, big);
    expect(r.status).toBe(413);
    expect(r.errors![0]!.message).toMatch(/too large/);
    await stillServing();
  });

  test('malformed JSON answers 400 with a JSON GraphQL error, no stack trace', async () => {
    const r = await post(fx.gatewayUrl, '{"query": "{ elderCount(communityId: \\"x\\") }"');
    expect(r.status).toBe(400);
    expect(r.errors![0]!.message).toMatch(/not valid JSON/);
    expect(JSON.stringify(r)).not.toMatch(/at .*\.js|node_modules|stack/);
    await stillServing();
  });

  test('a syntax error answers 400 GRAPHQL_PARSE_FAILED', async () => {
    const r = await q(fx.gatewayUrl, '{ elders { id } } }');
    expect(r.status).toBe(400);
    expect(codes(r)).toEqual(['GRAPHQL_PARSE_FAILED']);
  });
});

describe('operator injection in filter arguments', () => {
  const attempts: [string, unknown][] = [
    ['object with $ne', { $ne: null }],
    ['object with $gt', { $gt: '' }],
    ['object with $where', { $where: 'sleep(1000)' }],
    ['object with $regex', { $regex: '.*' }],
    ['array', ['el_a1', { $ne: null }]],
  ];
  for (const arg of ['communityId', 'name', 'livingArrangement']) {
    test.each(attempts)(`${arg}: %s in variables is refused as BAD_USER_INPUT`, async (_what, value) => {
      const r = await q(fx.gatewayUrl, 'query($f: ElderFilter) { elders(filter: $f) { id } }', bearer(await token(fx.auth, { role: 'CIVIL_AFFAIRS' })), { f: { [arg]: value } });
      expect(r.status).toBe(400);
      expect(codes(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.data?.elders).toBeUndefined();
    });

    test(`${arg}: an object literal in the query is refused as a validation error`, async () => {
      for (const literal of ['{ $ne: null }', '{ ne: null }', '["a", "b"]']) {
        const r = await q(fx.gatewayUrl, `{ elders(filter: { ${arg}: ${literal} }) { id } }`);
        expect(r.status).toBe(400);
        expect(codes(r)[0]).toMatch(/GRAPHQL_(VALIDATION|PARSE)_FAILED/);
      }
    });

    test(`${arg}: an operator-looking string is only a string (matches nothing)`, async () => {
      const r = await q(fx.gatewayUrl, 'query($f: ElderFilter) { elders(filter: $f) { id } }', bearer(await token(fx.auth, { role: 'CIVIL_AFFAIRS' })), { f: { [arg]: '{"$ne": null}' } });
      expect(r.errors).toBeUndefined();
      expect(r.data.elders).toEqual([]);
    });
  }
});

describe('browser-facing protections', () => {
  test('CORS: an allow-listed origin is granted, others are not', async () => {
    const ok = await fetch(fx.gatewayUrl, { method: 'OPTIONS', headers: { origin: 'https://dashboard.city.example', 'access-control-request-method': 'POST' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://dashboard.city.example');
    const bad = await fetch(fx.gatewayUrl, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('CSRF prevention: a simple GET without a preflight header is refused', async () => {
    const res = await fetch(`${fx.gatewayUrl}?query=${encodeURIComponent('{ elderCount(communityId: "x") }')}`);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/CSRF|preflight/i);
  });

  test('introspection is on in the embedded default', async () => {
    const r = await q(fx.gatewayUrl, '{ __schema { queryType { name } } }');
    expect(r.data.__schema.queryType.name).toBe('Query');
  });
});

describe('production settings', () => {
  let prod: FixtureStack;
  beforeAll(async () => {
    prod = await startFixtureStack({ engine: fx.engine, security: { introspection: false, rateLimitPerMinute: 5 } });
  });
  afterAll(async () => prod?.stop());

  test('introspection is off and field suggestions are not given', async () => {
    const r = await q(prod.gatewayUrl, '{ __schema { queryType { name } } }');
    expect(r.status).toBe(400);
    expect(r.errors![0]!.message).toMatch(/introspection/i);
    const typo = await q(prod.gatewayUrl, '{ elderCont(communityId: "x") }');
    expect(typo.errors![0]!.message).not.toMatch(/Did you mean/);
  });

  test('the rate limit answers 429 RATE_LIMITED per token, other callers are unaffected', async () => {
    const t1 = bearer(await token(prod.auth, { role: 'CIVIL_AFFAIRS', subject: 'busy-client' }));
    const results = [];
    for (let i = 0; i < 7; i++) results.push(await q(prod.gatewayUrl, '{ elderCount(communityId: "x") }', t1));
    expect(results.slice(0, 5).every((r) => r.status === 200)).toBe(true);
    const limited = results[6]!;
    expect(limited.status).toBe(429);
    expect(codes(limited)).toEqual(['RATE_LIMITED']);
    expect(limited.errors![0]!.message).toMatch(/rate limit exceeded: at most 5 requests per minute/);
    const other = await q(prod.gatewayUrl, '{ elderCount(communityId: "x") }', bearer(await token(prod.auth, { role: 'CIVIL_AFFAIRS', subject: 'calm-client' })));
    expect(other.status).toBe(200);
  });
});
