/**
 * The gateway's performance and resilience settings, with defaults, and their mapping from the
 * configuration (lib/config.ts is the only module reading the environment).
 */
import type { Config } from '../lib/config';
import { DEFAULT_SUBGRAPH_POLICY, type SubgraphPolicy } from './datasource';

export interface GatewayTuning {
  /** Default subgraph policy (timeout, dedup, retry). */
  subgraph: SubgraphPolicy;
  /** Per-subgraph timeout overrides (ms). */
  subgraphTimeoutsMs: Record<string, number>;
  retryBudgetPercent: number;
  queryPlanCacheMiB: number;
  /** 0 turns the response cache off. */
  responseCacheMaxTtlSeconds: number;
  /** Safelist manifest file; undefined = any operation is accepted. */
  safelistFile?: string;
  /** Bound on the APQ store. */
  persistedQueryEntries: number;
}

export const DEFAULT_TUNING: GatewayTuning = {
  subgraph: DEFAULT_SUBGRAPH_POLICY,
  subgraphTimeoutsMs: {},
  retryBudgetPercent: 10,
  queryPlanCacheMiB: 30,
  responseCacheMaxTtlSeconds: 10,
  persistedQueryEntries: 5000,
};

export function resolveTuning(partial: Partial<GatewayTuning> = {}): GatewayTuning {
  return {
    ...DEFAULT_TUNING,
    ...partial,
    subgraph: { ...DEFAULT_TUNING.subgraph, ...(partial.subgraph ?? {}) },
    subgraphTimeoutsMs: { ...(partial.subgraphTimeoutsMs ?? {}) },
  };
}

export function tuningFromConfig(config: Config): GatewayTuning {
  const dedup = config.GATEWAY_DEDUP === 'true' || config.GATEWAY_DEDUP === '1';
  const timeouts: Record<string, number> = {};
  for (const pair of (config.GATEWAY_SUBGRAPH_TIMEOUTS ?? '').split(',').filter(Boolean)) {
    const [name, ms] = pair.split('=');
    timeouts[name] = Number(ms);
  }
  return resolveTuning({
    subgraph: { timeoutMs: config.GATEWAY_SUBGRAPH_TIMEOUT_MS, dedupInflight: dedup, dedupRepresentations: dedup, retry: true },
    subgraphTimeoutsMs: timeouts,
    retryBudgetPercent: config.GATEWAY_RETRY_BUDGET_PERCENT,
    queryPlanCacheMiB: config.GATEWAY_QUERY_PLAN_CACHE_MIB,
    responseCacheMaxTtlSeconds: config.GATEWAY_RESPONSE_CACHE_MAX_TTL_S,
    safelistFile: config.GATEWAY_SAFELIST_FILE,
  });
}
