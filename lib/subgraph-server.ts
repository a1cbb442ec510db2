/**
 * The subgraph server factory: every bureau's subgraph is built the same way. It reads the SDL file
 * at run time (the only schema text), builds a Federation 2 schema with `@apollo/subgraph`, masks
 * errors, serves GraphQL on `/graphql`, liveness on `/health` and readiness (database included) on
 * `/ready`. The factory never listens; entry files and tests call `listen()`.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import express from 'express';
import { parse } from 'graphql';
import type { Connection } from 'mongoose';
import { pingDatabase } from './db';
import type { AuthSettings } from './config';
import { createSubgraphAccess } from './auth/subgraph';
import type { RowScopeOptions } from './auth/directives';
import { createFormatError } from './errors';
import { listen, type Listening } from './http';
import type { Logger } from './logger';

export interface SubgraphServerOptions<TContext extends BaseContext> {
  name: string;
  /** Path of `schema/<name>.graphql`. */
  sdlPath: string;
  resolvers: GraphQLResolverMap<TContext>;
  connection: Connection;
  createContext: (req: express.Request) => Promise<TContext> | TContext;
  logger: Logger;
  plugins?: ApolloServerPlugin<TContext>[];
  /** Largest accepted request body (default 1 MB). */
  bodyLimit?: string;
  /** Token verification (default from the configuration: JWKS URL in production, local keys otherwise). */
  auth?: AuthSettings;
  /**
   * How `@rowScope` reads a row's area (default: communityId, districtCode, careTeamId, … fields),
   * field maps of row-scoped types filtered in the database, loaders of mutation targets.
   */
  rows?: RowScopeOptions;
}

export interface SubgraphServer<TContext extends BaseContext> {
  name: string;
  apollo: ApolloServer<TContext>;
  app: express.Express;
  httpServer: http.Server;
  /** Starts Apollo and listens; `port` 0 picks a free port. */
  listen(port: number, host?: string): Promise<Listening>;
}

export function readSdl(sdlPath: string) {
  return parse(readFileSync(sdlPath, 'utf8'));
}

export function createSubgraphServer<TContext extends BaseContext>(
  opts: SubgraphServerOptions<TContext>,
): SubgraphServer<TContext> {
  const schema = buildSubgraphSchema({
    typeDefs: readSdl(opts.sdlPath),
    resolvers: opts.resolvers as GraphQLResolverMap<unknown>,
  });
  // Access rules from the SDL (@authenticated, @requiresScopes, @rowScope, @pii), token checks and
  // the audit log: one mechanism for every subgraph (lib/auth).
  const access = createSubgraphAccess({ name: opts.name, schema, connection: opts.connection, auth: opts.auth, rows: opts.rows });
  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const apollo = new ApolloServer<TContext>({
    schema,
    includeStacktraceInErrorResponses: false,
    // Entry points own SIGINT/SIGTERM and stop every service in order.
    stopOnTerminationSignals: false,
    formatError: createFormatError((err) => opts.logger.error({ err }, 'masked error')),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // No Apollo Studio here: federated traces would only cost time.
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginLandingPageLocalDefault({ embed: { runTelemetry: false }, includeCookies: false }),
      access.plugin as ApolloServerPlugin<TContext>,
      ...(opts.plugins ?? []),
    ],
  });

  app.get('/health', async (_req, res) => {
    const db = await pingDatabase(opts.connection);
    res.status(db ? 200 : 503).json({ status: db ? 'ok' : 'degraded', service: opts.name, database: db ? 'up' : 'down' });
  });
  app.get('/ready', async (_req, res) => {
    const db = await pingDatabase(opts.connection);
    res.status(db ? 200 : 503).json({ ready: db, service: opts.name, database: db ? 'up' : 'down' });
  });

  return {
    name: opts.name,
    apollo,
    app,
    httpServer,
    async listen(port, host = '127.0.0.1') {
      await apollo.start();
      app.use(
        '/graphql',
        express.json({ limit: opts.bodyLimit ?? '1mb' }),
        expressMiddleware(apollo, { context: async ({ req }) => access.context(req, opts.createContext) }),
      );
      app.use(jsonErrorHandler);
      return listen(httpServer, port, host, '/graphql', () => apollo.stop());
    },
  };
}

/** Express error handler: malformed JSON or oversized bodies get a clear 4xx, never a stack trace. */
export function jsonErrorHandler(err: unknown, _req: express.Request, res: express.Response, next: express.NextFunction): void {
  if (res.headersSent) return next(err);
  const e = err as { status?: number; type?: string; message?: string };
  const status = typeof e.status === 'number' && e.status >= 400 && e.status < 500 ? e.status : 500;
  const message =
    e.type === 'entity.too.large'
      ? 'request body too large'
      : e.type === 'entity.parse.failed'
        ? 'request body is not valid JSON'
        : status < 500
          ? (e.message ?? 'bad request')
          : 'internal server error';
  res.status(status).json({ errors: [{ message, extensions: { code: status < 500 ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR' } }] });
}
