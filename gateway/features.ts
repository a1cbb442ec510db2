/**
 * Everything the gateway adds to stock @apollo/gateway, assembled in one place so the server
 * factory wires it with a few lines: the resilient, deduplicating data sources (one per subgraph,
 * sharing one retry budget), the query plan cache size, APQ with a bounded store (and manifest
 * operations), the optional safelist, the response cache and the address-scrubbing formatError.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { Logger } from '../lib/logger';
import { SubgraphDataSource } from './datasource';
import { coalescePlugin, type CoalesceStats } from './coalesce';
import { createGatewayFormatError } from './errors';
import { responseCachePlugin, type ResponseCacheStats } from './response-cache';
import { PersistedQueryStore, loadManifest, safelistPlugin, type Manifest } from './safelist';
import { RetryBudget, SubgraphClient } from './subgraph-client';
import { resolveTuning, type GatewayTuning } from './tuning';

export interface GatewayFeatures {
  tuning: GatewayTuning;
  /** Data sources by subgraph name (stats for /ready, logs and the benchmark). */
  dataSources: Map<string, SubgraphDataSource>;
  manifest?: Manifest;
  responseCacheStats?: ResponseCacheStats;
  /** Identical in-flight operations answered once (on with dedup). */
  coalesceStats?: CoalesceStats;
  createDataSource(name: string, url: string): SubgraphDataSource;
  /** Spread into the ApolloGateway config. */
  gatewayConfig: { experimental_approximateQueryPlanStoreMiB: number };
  /** Spread into the ApolloServer config. */
  serverConfig: {
    persistedQueries: { cache: PersistedQueryStore };
    formatError: ReturnType<typeof createGatewayFormatError>;
  };
  plugins: ApolloServerPlugin<BaseContext>[];
  close(): void;
}

export function createGatewayFeatures(partial: Partial<GatewayTuning> | undefined, logger: Logger): GatewayFeatures {
  const tuning = resolveTuning(partial);
  const budget = new RetryBudget(tuning.retryBudgetPercent);
  const dataSources = new Map<string, SubgraphDataSource>();
  const clients = new Map<string, SubgraphClient>();
  const manifest = tuning.safelistFile ? loadManifest(tuning.safelistFile) : undefined;
  const coalesce = tuning.subgraph.dedupInflight ? coalescePlugin() : undefined;
  const cache = tuning.responseCacheMaxTtlSeconds > 0 ? responseCachePlugin({ maxTtlSeconds: tuning.responseCacheMaxTtlSeconds }) : undefined;
  return {
    tuning,
    dataSources,
    manifest,
    responseCacheStats: cache?.stats,
    coalesceStats: coalesce?.stats,
    createDataSource(name, url) {
      const policy = { ...tuning.subgraph, timeoutMs: tuning.subgraphTimeoutsMs[name] ?? tuning.subgraph.timeoutMs };
      // A supergraph reload builds new data sources while old ones may still be answering:
      // connections are kept per URL and shared, and only closed with the gateway.
      let client = clients.get(url);
      if (!client) clients.set(url, (client = new SubgraphClient(url)));
      const ds = new SubgraphDataSource(name, url, policy, budget, client);
      dataSources.set(name, ds);
      return ds;
    },
    gatewayConfig: { experimental_approximateQueryPlanStoreMiB: tuning.queryPlanCacheMiB },
    serverConfig: {
      persistedQueries: { cache: new PersistedQueryStore(tuning.persistedQueryEntries, manifest) },
      formatError: createGatewayFormatError((err) => logger.error({ err }, 'masked error')),
    },
    // Order matters: a cache hit answers first; otherwise an identical in-flight operation does.
    plugins: [...(manifest ? [safelistPlugin(manifest)] : []), ...(cache ? [cache] : []), ...(coalesce ? [coalesce] : [])],
    close() {
      for (const client of clients.values()) client.close();
      clients.clear();
    },
  };
}
