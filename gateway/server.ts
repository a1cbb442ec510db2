/**
 * The gateway factory: @apollo/gateway over a static supergraph file (schema/supergraph.graphql),
 * Apollo Sandbox at /graphql (telemetry off), the landing page, /dashboard and /explorer of
 * gateway/ui.ts, `/health` (liveness) and `/ready` (supergraph
 * loaded and every subgraph reachable). The factory never listens; entry files and tests do. On
 * listening it logs which browser origins CORS allows (README, "Exploring the graph").
 */
import type http from 'node:http';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { disableApolloTelemetry, loadConfig, SELF_ORIGIN, shutdownGraceFromEnv, type HttpTimeouts, type TrustProxySetting } from '../lib/config';
import { createHttpServer, listen, requestIdFrom, type Listening } from '../lib/http';
import type { Logger } from '../lib/logger';
import { createSupergraphSource, resolveSupergraphFile } from './supergraph-source';
import { jsonErrorHandler } from '../lib/subgraph-server';
import type { GatewayContext } from './datasource';
import { createGatewayFeatures, type GatewayFeatures } from './features';
import { registerHealthRoutes } from './health';
import { createGatewaySecurity, gatewaySecurityFromConfig, type GatewaySecurityOptions } from './security';
import type { GatewayTuning } from './tuning';
import { gatewayUiFromConfig, registerUiRoutes, type GatewayUiOptions } from './ui';
import { registerOpen311Proxy } from './open311-proxy';
import { createGatewayMetrics, createServiceMetrics, gatewayOperationLabel, operationNamesOf } from '../lib/metrics';
import { serverSpanMiddleware } from '../lib/tracing';
import { parseManifest, type Manifest } from './safelist';
import { safelistManifest } from '../dashboard/operations';

export interface GatewayOptions {
  /** Path of the composed supergraph (default schema/supergraph.graphql). */
  supergraphPath: string;
  /** Serve a contract's supergraph instead (schema/contracts/<name>.supergraph.graphql), e.g. `public`. */
  contract?: string;
  /** Reload the supergraph file when it changes (default true; gateway/supergraph-source.ts). */
  watchSupergraph?: boolean;
  /** Routing URL overrides by subgraph name (e.g. from `<NAME>_URL` or tests on port 0). */
  subgraphUrls?: Record<string, string>;
  logger: Logger;
  /** Introspection and the Sandbox landing page (on by default in the embedded default). */
  introspection?: boolean;
  bodyLimit?: string;
  /** Timeouts, dedup, caches, safelist (gateway/tuning.ts; `tuningFromConfig(config)`). */
  tuning?: Partial<GatewayTuning>;
  /** Token verification, limits, CORS, rate limit (gateway/security.ts); default from the configuration. */
  security?: Partial<GatewaySecurityOptions>;
  /** Landing page, /dashboard, /explorer (gateway/ui.ts); default from the configuration (GATEWAY_UI). */
  ui?: Partial<GatewayUiOptions>;
  /** Proxies trusted to name the client (X-Forwarded-For) for per-IP limits; default GATEWAY_TRUST_PROXY (none). */
  trustProxy?: TrustProxySetting;
  /** Slow-client limits (lib/http.ts `createHttpServer`); default HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS. */
  httpTimeouts?: HttpTimeouts;
  /** How long stopping waits for requests in flight before cutting them; default SHUTDOWN_GRACE_MS (10 s). */
  shutdownGraceMs?: number;
}

export interface GatewayServer {
  apollo: ApolloServer<GatewayContext>;
  gateway: ApolloGateway;
  app: express.Express;
  httpServer: http.Server;
  /** Subgraph name → URL actually used (after overrides). */
  subgraphs: Map<string, string>;
  /** Data sources, caches and their counters. */
  features: GatewayFeatures;
  listen(port: number, host?: string): Promise<Listening>;
}

export function createGatewayServer(opts: GatewayOptions): GatewayServer {
  disableApolloTelemetry();
  const subgraphs = new Map<string, string>();
  const features = createGatewayFeatures(opts.tuning, opts.logger);
  // Prometheus metrics (lib/metrics.ts): operations labelled by name only when known (safelist or the
  // dashboard's manifest), subgraph fetches, response cache; `/metrics` below.
  const metrics = createServiceMetrics('gateway');
  const gatewayMetrics = createGatewayMetrics(metrics.registry);
  gatewayMetrics.responseCache(features.responseCacheStats);
  const operationLabel = gatewayOperationLabel(operationNamesOf((features.manifest ?? knownOperationsManifest())?.operations ?? []));
  let started = false;
  const gateway = new ApolloGateway({
    ...features.gatewayConfig,
    supergraphSdl: createSupergraphSource({
      file: resolveSupergraphFile(opts.supergraphPath, opts.contract),
      logger: opts.logger,
      watch: opts.watchSupergraph,
    }),
    buildService: ({ name, url }) => {
      const target = opts.subgraphUrls?.[name] ?? url;
      if (!target) throw new Error(`subgraph "${name}" has no routing URL`);
      subgraphs.set(name, target);
      const ds = features.createDataSource(name, target);
      if (metrics.settings.enabled) ds.onFetch = gatewayMetrics.subgraphFetch;
      return ds;
    },
  });
  const app = express();
  app.disable('x-powered-by');
  // Behind a load balancer, `req.ip` (the per-IP rate limit's key) is the client named by trusted proxies.
  const trustProxy = opts.trustProxy ?? loadConfig().gatewayTrustProxy;
  if (trustProxy !== false) app.set('trust proxy', trustProxy);
  if (metrics.settings.enabled) app.use(metrics.httpMiddleware);
  const httpServer = createHttpServer(app, opts.httpTimeouts);
  const security = createGatewaySecurity({
    ...gatewaySecurityFromConfig(),
    ...(opts.introspection === undefined ? {} : { introspection: opts.introspection }),
    ...opts.security,
    // An allowlist given by the caller is not the configuration's (the start-up line says so).
    ...(opts.security?.corsOrigins && !opts.security.corsOriginsSource ? { corsOriginsSource: undefined } : {}),
  });
  const introspection = security.options.introspection;
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection,
    includeStacktraceInErrorResponses: false,
    // Entry points own SIGINT/SIGTERM and stop every service in order.
    stopOnTerminationSignals: false,
    ...features.serverConfig,
    csrfPrevention: security.apollo.csrfPrevention,
    allowBatchedHttpRequests: security.apollo.allowBatchedHttpRequests,
    validationRules: security.apollo.validationRules,
    plugins: [
      metrics.plugin(operationLabel, opts.logger),
      ...security.apollo.plugins,
      ...features.plugins,
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: opts.shutdownGraceMs ?? shutdownGraceFromEnv() }),
      ...(introspection ? [ApolloServerPluginLandingPageLocalDefault({ embed: { runTelemetry: false }, includeCookies: false })] : []),
    ],
  });

  registerHealthRoutes(app, { subgraphs, dataSources: features.dataSources, isLoaded: () => started });
  // Same port as GraphQL, open like /health unless METRICS_TOKEN is set (README "Operations").
  if (metrics.settings.enabled) app.get('/metrics', metrics.handler);
  registerUiRoutes(app, { ...gatewayUiFromConfig(), auth: security.options.auth, sandbox: introspection, ...opts.ui });
  // Open311 GeoReport v2 REST (/open311/v2/*), served by the governance subgraph (gateway/open311-proxy.ts).
  registerOpen311Proxy(app, () => subgraphs.get('governance'));

  return {
    apollo,
    gateway,
    app,
    httpServer,
    subgraphs,
    features,
    async listen(port, host = '127.0.0.1') {
      await apollo.start();
      started = true;
      app.use(
        '/graphql',
        ...security.middleware,
        express.json({ limit: opts.bodyLimit ?? security.options.bodyLimit }),
        ...security.afterBody,
        // The caller's W3C trace (or a new one) around the operation (lib/tracing.ts).
        serverSpanMiddleware('gateway'),
        // Fair use (gateway/security.ts): the caller's concurrency slot around the request, its cost budget per operation.
        security.guard(
          expressMiddleware(apollo, {
            context: async ({ req }) => ({
              authorization: req.headers.authorization,
              requestId: requestIdFrom(req.headers['x-request-id']),
              auth: security.authOf(req),
              fairUse: security.callerOf(req),
            }),
          }),
        ),
      );
      // `/` is the landing page of gateway/ui.ts (a redirect to /graphql when no page is on).
      app.use(jsonErrorHandler);
      const running = await listen(httpServer, port, host, '/graphql', async () => {
        started = false;
        await apollo.stop();
        features.close();
        // The shared rate-limit store's client (RATE_LIMIT_STORE=mongodb), if any.
        await security.close();
      });
      logCorsAllowlist(opts.logger, security.options, running.url.replace(/\/graphql$/, ''));
      return running;
    },
  };
}

/** Start-up line: which browser origins may call the gateway, and why (lib/config.ts `corsAllowlist`). */
function logCorsAllowlist(logger: Logger, options: GatewaySecurityOptions, ownOrigin: string): void {
  const origins = options.corsOrigins.map((o) => (o === SELF_ORIGIN ? `${ownOrigin} (self)` : o));
  const source = options.corsOriginsSource ?? 'set by the caller';
  logger.info(
    { corsOrigins: origins, source },
    origins.length
      ? `CORS: browser pages from ${origins.join(', ')} may call the gateway (${source}; CORS_ORIGINS sets the list)`
      : `CORS: no browser origin may call the gateway cross-origin (${source}; CORS_ORIGINS sets the list)`,
  );
}

/**
 * Without a safelist, the operations the gateway names in its metrics are the dashboard's
 * (dashboard/operations/*.graphql, printed as the dashboard sends them); every other is `other`.
 */
function knownOperationsManifest(): Manifest | undefined {
  try {
    return parseManifest(safelistManifest());
  } catch {
    return undefined;
  }
}
