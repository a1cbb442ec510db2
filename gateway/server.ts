/**
 * The gateway factory: @apollo/gateway over a static supergraph file (schema/supergraph.graphql),
 * Apollo Sandbox as the landing page (telemetry off), `/health` (liveness) and `/ready` (supergraph
 * loaded and every subgraph reachable). The factory never listens; entry files and tests do.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { disableApolloTelemetry } from '../lib/config';
import { createFormatError } from '../lib/errors';
import { listen, type Listening } from '../lib/http';
import type { Logger } from '../lib/logger';
import { createSupergraphSource, resolveSupergraphFile } from './supergraph-source';
import { jsonErrorHandler } from '../lib/subgraph-server';
import { SubgraphDataSource, type GatewayContext } from './datasource';

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
}

export interface GatewayServer {
  apollo: ApolloServer<GatewayContext>;
  gateway: ApolloGateway;
  app: express.Express;
  httpServer: http.Server;
  /** Subgraph name → URL actually used (after overrides). */
  subgraphs: Map<string, string>;
  listen(port: number, host?: string): Promise<Listening>;
}

export function createGatewayServer(opts: GatewayOptions): GatewayServer {
  disableApolloTelemetry();
  const subgraphs = new Map<string, string>();
  const gateway = new ApolloGateway({
    supergraphSdl: createSupergraphSource({
      file: resolveSupergraphFile(opts.supergraphPath, opts.contract),
      logger: opts.logger,
      watch: opts.watchSupergraph,
    }),
    buildService: ({ name, url }) => {
      const target = opts.subgraphUrls?.[name] ?? url;
      if (!target) throw new Error(`subgraph "${name}" has no routing URL`);
      subgraphs.set(name, target);
      return new SubgraphDataSource(name, target);
    },
  });
  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const introspection = opts.introspection ?? true;
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection,
    includeStacktraceInErrorResponses: false,
    formatError: createFormatError((err) => opts.logger.error({ err }, 'masked error')),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ...(introspection ? [ApolloServerPluginLandingPageLocalDefault({ embed: { runTelemetry: false }, includeCookies: false })] : []),
    ],
  });

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', service: 'gateway' });
  });
  app.get('/ready', async (_req, res) => {
    const checks = await Promise.all(
      [...subgraphs].map(async ([name, url]) => ({ name, up: await subgraphHealthy(url) })),
    );
    const ready = subgraphs.size > 0 && checks.every((c) => c.up);
    res.status(ready ? 200 : 503).json({
      ready,
      supergraph: subgraphs.size > 0 ? 'loaded' : 'not loaded',
      subgraphs: Object.fromEntries(checks.map((c) => [c.name, c.up ? 'up' : 'down'])),
    });
  });

  return {
    apollo,
    gateway,
    app,
    httpServer,
    subgraphs,
    async listen(port, host = '127.0.0.1') {
      await apollo.start();
      app.use(
        '/graphql',
        express.json({ limit: opts.bodyLimit ?? '1mb' }),
        expressMiddleware(apollo, {
          context: async ({ req }) => ({
            authorization: req.headers.authorization,
            requestId: (req.headers['x-request-id'] as string | undefined) ?? randomUUID(),
          }),
        }),
      );
      // Sandbox lives at the root as well as on /graphql.
      app.get('/', (_req, res) => res.redirect('/graphql'));
      app.use(jsonErrorHandler);
      return listen(httpServer, port, host, '/graphql', () => apollo.stop());
    },
  };
}

/** A subgraph is up when its `/health` answers 200 within a second. */
async function subgraphHealthy(graphqlUrl: string): Promise<boolean> {
  try {
    const res = await fetch(graphqlUrl.replace(/\/graphql\/?$/, '') + '/health', { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}
