/**
 * Gateway tuning from the configuration, the retry budget and representation dedup helpers.
 */
import { loadConfig, ConfigError } from '../../lib/config';
import { DEFAULT_TUNING, tuningFromConfig } from '../../gateway/tuning';
import { RetryBudget } from '../../gateway/subgraph-client';
import { dedupeRepresentations, expandEntities } from '../../gateway/datasource';

describe('gateway tuning from the configuration', () => {
  test('defaults: 1.5 s subgraph timeout, dedup on, 10% retry budget, 30 MiB plan cache, 10 s response cache, no safelist', () => {
    const t = tuningFromConfig(loadConfig({}));
    expect(t.subgraph).toEqual({ timeoutMs: 1500, dedupInflight: true, dedupRepresentations: true, retry: true });
    expect(t).toMatchObject({ retryBudgetPercent: 10, queryPlanCacheMiB: 30, responseCacheMaxTtlSeconds: 10, safelistFile: undefined });
    expect(DEFAULT_TUNING.subgraph.timeoutMs).toBe(1500);
  });

  test('every variable is read, per-subgraph timeouts included', () => {
    const t = tuningFromConfig(
      loadConfig({
        GATEWAY_SUBGRAPH_TIMEOUT_MS: '900',
        GATEWAY_SUBGRAPH_TIMEOUTS: 'elderly=3000,renovation=2500',
        GATEWAY_RETRY_BUDGET_PERCENT: '5',
        GATEWAY_DEDUP: 'false',
        GATEWAY_QUERY_PLAN_CACHE_MIB: '64',
        GATEWAY_RESPONSE_CACHE_MAX_TTL_S: '0',
        GATEWAY_SAFELIST_FILE: '/etc/city/manifest.json',
      }),
    );
    expect(t.subgraph).toMatchObject({ timeoutMs: 900, dedupInflight: false, dedupRepresentations: false });
    expect(t.subgraphTimeoutsMs).toEqual({ elderly: 3000, renovation: 2500 });
    expect(t).toMatchObject({ retryBudgetPercent: 5, queryPlanCacheMiB: 64, responseCacheMaxTtlSeconds: 0, safelistFile: '/etc/city/manifest.json' });
  });

  test('invalid values are reported by name', () => {
    expect(() => loadConfig({ GATEWAY_SUBGRAPH_TIMEOUT_MS: '10', GATEWAY_SUBGRAPH_TIMEOUTS: 'elderly:3000' })).toThrow(ConfigError);
    try {
      loadConfig({ GATEWAY_SUBGRAPH_TIMEOUT_MS: '10', GATEWAY_SUBGRAPH_TIMEOUTS: 'elderly:3000' });
    } catch (e) {
      const problems = (e as ConfigError).problems.join('\n');
      expect(problems).toContain('GATEWAY_SUBGRAPH_TIMEOUT_MS');
      expect(problems).toContain('GATEWAY_SUBGRAPH_TIMEOUTS');
    }
  });
});

describe('retry budget', () => {
  test('retries add at most the configured share of requests over the window, plus a small floor', () => {
    let now = 0;
    const budget = new RetryBudget(10, 2, 10, () => now);
    for (let i = 0; i < 100; i++) budget.recordRequest();
    let granted = 0;
    for (let i = 0; i < 50; i++) if (budget.tryRetry()) granted++;
    expect(granted).toBe(12); // 10% of 100 + floor of 2
    now += 11_000; // the window slides: old requests and retries no longer count
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
  });
});

describe('representation dedup', () => {
  test('distinct representations are sent once and the answer is re-expanded in order, errors remapped', () => {
    const reps = [
      { __typename: 'User', id: '1' },
      { __typename: 'User', id: '2' },
      { __typename: 'User', id: '1' },
      { __typename: 'User', id: '3' },
      { __typename: 'User', id: '2' },
    ];
    const exp = dedupeRepresentations(reps)!;
    expect(exp.unique).toEqual([reps[0], reps[1], reps[3]]);
    const response = {
      data: { _entities: [{ name: 'one' }, null, { name: 'three' }] },
      errors: [{ message: 'user 2 not found', path: ['_entities', 1, 'name'] }],
    };
    const out = expandEntities(response as any, exp);
    expect((out.data as any)._entities).toEqual([{ name: 'one' }, null, { name: 'one' }, { name: 'three' }, null]);
    // Positions get their own objects: the gateway merges later fetches into them.
    expect((out.data as any)._entities[0]).not.toBe((out.data as any)._entities[2]);
    expect(out.errors?.map((e: any) => e.path)).toEqual([
      ['_entities', 1, 'name'],
      ['_entities', 4, 'name'],
    ]);
  });

  test('nothing changes when no representation repeats', () => {
    expect(dedupeRepresentations([{ __typename: 'User', id: '1' }, { __typename: 'User', id: '2' }])).toBeUndefined();
    expect(dedupeRepresentations(undefined)).toBeUndefined();
  });
});
