/**
 * The subgraph server factory: every bureau's subgraph is built the same way. It reads the SDL file
 * at run time (the only schema text), builds a Federation 2 schema with `@apollo/subgraph`, masks
 * errors, serves GraphQL on `/graphql`, liveness on `/health` and readiness (database included) on
 * `/ready`. The factory never listens; entry files and tests call `listen()`. Also the CORS layer
 * shared with the gateway (`corsLayer`): preflights are answered there and never reach GraphQL.
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
import cors from 'cors';
import express from 'express';
import { parse } from 'graphql';
import type { Connection } from 'mongoose';
import { pingDatabase } from './db';
import { loadConfig, SELF_ORIGIN, type AuthSettings } from './config';
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
  /**
   * Browser origins allowed by CORS (`self` = the subgraph's own origin). Default: the configured
   * allowlist (CORS_ORIGINS or its default) outside production, none with NODE_ENV=production
   * (browsers go through the gateway there).
   */
  corsOrigins?: readonly string[];
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
  const corsOrigins = opts.corsOrigins ?? subgraphCorsOrigins();
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
        corsLayer({ origins: corsOrigins }),
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

/** A subgraph's default CORS allowlist (see `SubgraphServerOptions.corsOrigins`). */
export function subgraphCorsOrigins(env?: NodeJS.ProcessEnv): string[] {
  const config = loadConfig(env);
  return config.NODE_ENV === 'production' ? [] : config.gatewaySecurity.corsOrigins;
}

/**
 * Request headers a browser may send cross-origin: what the project's clients and GraphQL IDEs send
 * (JSON bodies, the bearer token, Apollo's CSRF-prevention headers, Apollo client awareness, W3C
 * trace context, the request id).
 */
export const CORS_ALLOWED_HEADERS = [
  'content-type',
  'authorization',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'apollographql-client-name',
  'apollographql-client-version',
  'traceparent',
  'tracestate',
  'x-request-id',
];

export interface CorsLayerOptions {
  /** Allowed origins (`scheme://host[:port]`, lower case) and `self`. */
  origins: readonly string[];
  /** Response headers a page may read besides the CORS-safelisted ones. */
  exposedHeaders?: string[];
}

/** True when `origin` is on the list; `self` matches the origin whose host is the request's Host. */
export function originAllowed(origin: string, origins: readonly string[], host: string | undefined): boolean {
  const o = origin.toLowerCase();
  if (origins.includes(o)) return true;
  if (!host || !origins.includes(SELF_ORIGIN)) return false;
  try {
    const url = new URL(o);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * The CORS layer, mounted before body parsing. Every OPTIONS request is answered here (204) and never
 * reaches GraphQL: with the `Access-Control-Allow-*` headers when the origin is allowed, without them
 * otherwise (the browser then refuses the cross-origin call). Actual requests from an allowed origin
 * get `Access-Control-Allow-Origin`; others pass on without it (same-origin pages and desktop clients
 * are unaffected; cross-site pages cannot read the answer, and CSRF prevention refuses simple
 * requests). No credentials: callers send a bearer token, never cookies.
 */
export function corsLayer(opts: CorsLayerOptions): express.RequestHandler {
  const allow = cors({
    origin: true, // reflect: only reached for allowed origins
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: opts.exposedHeaders,
    maxAge: 600,
    preflightContinue: false,
    optionsSuccessStatus: 204,
  });
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin !== undefined && originAllowed(origin, opts.origins, req.headers.host)) {
      // A page on a public site calling a service on this machine (Private Network Access preflight).
      if (req.method === 'OPTIONS' && req.headers['access-control-request-private-network'] === 'true') res.set('access-control-allow-private-network', 'true');
      return allow(req, res, next);
    }
    res.vary('Origin');
    if (req.method !== 'OPTIONS') return next();
    res.set('allow', 'GET, POST, OPTIONS').status(204).end();
  };
}
