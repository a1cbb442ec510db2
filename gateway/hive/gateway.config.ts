/**
 * Hive Gateway over the project's committed supergraph: another federation engine serving
 * `schema/supergraph.graphql` unchanged, for a city that already runs Hive Gateway.
 *
 *   npm run start:hive
 *
 * runs `hive-gateway supergraph --config-path gateway/hive/gateway.config.ts` (through tsx, so this
 * TypeScript file loads). Settings come from the project's configuration (lib/config.ts), like
 * `npm run start:gateway`:
 *
 * - `PORT` (default 4000) and `HOST` (default 127.0.0.1; Hive's own default would be 0.0.0.0);
 * - `SUPERGRAPH_FILE` (default schema/supergraph.graphql), re-read every 10 s when it changes;
 * - `<NAME>_URL`: routing URL of a subgraph instead of the one in the supergraph, e.g.
 *   `GOVERNANCE_URL=http://governance:4002/graphql`;
 * - `LOG_LEVEL`.
 *
 * What it does and does not do:
 *
 * - Access rules, audit and small-count suppression live in the subgraphs (they verify the bearer
 *   token and enforce `@authenticated`, `@requiresScopes`, `@rowScope` and `@pii` themselves), so
 *   this config forwards the caller's `Authorization` header to every subgraph, plus `x-request-id`
 *   (the audit log's request id) and W3C trace context. Hive Gateway does not verify the token
 *   itself here; a subgraph refuses a bad one with UNAUTHENTICATED. With `GATEWAY_SECRET` set it
 *   also sends the gateway's secret (`x-gateway-secret`) on every subgraph call, as the project's
 *   gateway does, so subgraphs that answer only the gateway answer this one (a caller's own
 *   `x-gateway-secret` header is never passed on).
 * - No usage reporting, no tracing export, no registry: `reporting` is not set, and the process
 *   refuses to start when a Hive or Apollo GraphOS credential is present in the environment
 *   (HIVE_REGISTRY_TOKEN, HIVE_USAGE_ACCESS_TOKEN, HIVE_TRACE_ACCESS_TOKEN, HIVE_CDN_KEY, APOLLO_KEY,
 *   APOLLO_GRAPH_REF), so nothing leaves the machine unless an operator changes this file.
 * - `/health` and `/ready` answer like the project's gateway paths (probes are the same).
 * - Not included: the project gateway's GraphQL Armor limits, per-token rate limit, response cache,
 *   safelist, CORS allowlist and contract serving (gateway/README.md). Put equivalent Hive plugins
 *   or a proxy in front when this engine faces the internet.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, reportingCredentialsIn } from '../../lib/config';
import { GATEWAY_SECRET_HEADER } from '../../lib/auth/gateway-secret';

export interface HiveGatewaySettings {
  /** The supergraph file (default schema/supergraph.graphql). */
  supergraphFile: string;
  /** Routing URL overrides by subgraph name. */
  subgraphUrls: Record<string, string>;
  port: number;
  host: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Sent to every subgraph in `x-gateway-secret` (GATEWAY_SECRET), if set. */
  gatewaySecret?: string;
}

/** Headers of the caller sent on to every subgraph. */
export const PROPAGATED_HEADERS = ['authorization', 'x-request-id', 'traceparent', 'tracestate'] as const;

/**
 * The options of Hive Gateway's `GatewayCLIConfig` this file sets. The type is written out here
 * rather than imported: `@graphql-hive/gateway`'s types augment graphql's `GraphQLErrorExtensions`
 * (GraphQL Yoga's `http.headers` as a record), which would change how the rest of the project
 * typechecks. `defineConfig` is the identity function, so a plain object is the same config.
 */
export interface HiveGatewayConfig {
  supergraph: string;
  pollingInterval: number;
  port: number;
  host: string;
  fork: number;
  logging: HiveGatewaySettings['logLevel'];
  transportEntries: Record<string, { location: string }>;
  propagateHeaders: { fromClientToSubgraphs(payload: { request: Request }): Record<string, string> };
  maskedErrors: boolean;
  healthCheckEndpoint: string;
  readinessCheckEndpoint: string;
  landingPage: boolean;
  disableWebsockets: boolean;
}

/** The Hive Gateway configuration for these settings. */
export function hiveGatewayConfig(s: HiveGatewaySettings): HiveGatewayConfig {
  return {
    supergraph: s.supergraphFile,
    pollingInterval: 10_000,
    port: s.port,
    host: s.host,
    fork: 1,
    logging: s.logLevel,
    // Subgraph URLs of this deployment instead of the supergraph's (as `<NAME>_URL` at our gateway).
    transportEntries: Object.fromEntries(Object.entries(s.subgraphUrls).map(([name, location]) => [name, { location }])),
    propagateHeaders: {
      fromClientToSubgraphs: ({ request }) => {
        const out: Record<string, string> = {};
        for (const h of PROPAGATED_HEADERS) {
          const v = request.headers.get(h);
          if (v) out[h] = v;
        }
        if (s.gatewaySecret) out[GATEWAY_SECRET_HEADER] = s.gatewaySecret;
        return out;
      },
    },
    maskedErrors: true,
    healthCheckEndpoint: '/health',
    readinessCheckEndpoint: '/ready',
    landingPage: false,
    disableWebsockets: true,
  };
}

/** The subgraph names of a supergraph (its `join__Graph` enum). */
export function subgraphNamesOf(supergraphSdl: string): string[] {
  return [...supergraphSdl.matchAll(/@join__graph\(name: "([^"]+)"/g)].map((m) => m[1]!);
}

/**
 * Settings from the project's configuration (environment), as `npm run start:gateway` reads them.
 * Relative paths are taken from the working directory (npm scripts run at the repository root;
 * `hive-gateway` loads this file as an ES module, where `__dirname` does not exist).
 */
export function hiveSettingsFromConfig(env?: NodeJS.ProcessEnv): HiveGatewaySettings {
  const config = loadConfig(env);
  const supergraphFile = path.resolve(config.SUPERGRAPH_FILE ?? 'schema/supergraph.graphql');
  const subgraphUrls: Record<string, string> = {};
  for (const name of subgraphNamesOf(readFileSync(supergraphFile, 'utf8'))) {
    const url = config.subgraphUrl(name);
    if (url) subgraphUrls[name] = url;
  }
  const level = config.LOG_LEVEL;
  return {
    supergraphFile,
    subgraphUrls,
    port: config.PORT,
    host: config.HOST,
    logLevel: level === 'trace' ? 'debug' : level === 'fatal' || level === 'silent' ? 'error' : level,
    ...(config.GATEWAY_SECRET ? { gatewaySecret: config.GATEWAY_SECRET } : {}),
  };
}

const credentials = reportingCredentialsIn();
if (credentials.length) {
  throw new Error(`gateway/hive/gateway.config.ts keeps usage reporting off; unset ${credentials.join(', ')} (or write a config of your own)`);
}

/** What `hive-gateway` loads from this file. */
export const gatewayConfig = hiveGatewayConfig(hiveSettingsFromConfig());
