/**
 * The subgraph server factory: every bureau's and partner's subgraph is built the same way. It reads
 * the SDL file at run time (the only schema text), builds a Federation 2 schema with
 * `@apollo/subgraph`, masks errors, serves GraphQL on `/graphql` (or the `path` option), liveness on
 * `/health`, readiness (database included) on `/ready` and Prometheus metrics on `/metrics`
 * (lib/metrics.ts; requests continue the caller's W3C trace, lib/tracing.ts), and answers federated traces (ftv1) when
 * allowed. Every subgraph also applies the gateway's query limits (lib/limits.ts), refuses control and
 * bidirectional-override characters in text inputs and stores text in NFC (lib/input-hygiene.ts), and,
 * with GATEWAY_SECRET set, answers only the gateway (lib/auth/gateway-secret.ts; required in
 * production). The factory never listens; entry files and tests call `listen()`. Also the CORS layer
 * shared with the gateway (`corsLayer`): preflights are answered there and never reach GraphQL.
 * Guide for partners: docs/partner-guide.md.
 */
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginInlineTrace } from '@apollo/server/plugin/inlineTrace';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import cors from 'cors';
import express from 'express';
import { GraphQLError, parse, type GraphQLFieldResolver, type GraphQLFormattedError, type GraphQLResolveInfo, type GraphQLScalarType } from 'graphql';
import type { Connection } from 'mongoose';
import { isDatabaseUnavailable, pingDatabase, runInTransaction } from './db';
import { loadConfig, SELF_ORIGIN, shutdownGraceFromEnv, type AuthSettings, type HttpTimeouts } from './config';
import { createSubgraphAccess } from './auth/subgraph';
import type { RowScopeOptions } from './auth/directives';
import { createFormatError, ErrorCode } from './errors';
import { assertGatewaySecretConfigured, gatewaySecretSettingsFromConfig, requireGatewaySecret, type GatewaySecretSettings } from './auth/gateway-secret';
import { inputHygienePlugin, normaliseTextArguments } from './input-hygiene';
import { queryLimitsFromConfig, subgraphLimits, type QueryLimits } from './limits';
import { createHttpServer, listen, type Listening } from './http';
import type { Logger } from './logger';
import { createServiceMetrics, instrumentDatabase, subgraphRootFieldLabel } from './metrics';
import { serverSpanMiddleware } from './tracing';

/** A resolver of a field, or Apollo's `{ resolve, subscribe }` form. */
type FieldResolverOf<TContext> =
  | GraphQLFieldResolver<any, TContext, any>
  | { resolve?: GraphQLFieldResolver<any, TContext, any>; subscribe?: GraphQLFieldResolver<any, TContext, any> };
/** `__resolveReference(reference, context, info)`, `__resolveType` and `__isTypeOf(value, context, info)`. */
type TypeResolverOf<TContext> = (value: any, context: TContext, info: GraphQLResolveInfo) => unknown;

/**
 * A resolver map whose resolvers read `TContext`: what graphql-codegen's `Resolvers` type (with
 * `federation: true`) produces, `__resolveReference`, `__resolveType` and `__isTypeOf` included, so a
 * codegen'd map passes as it is, with no cast. Scalars are `GraphQLScalarType`s; enums may map values.
 */
export interface SubgraphResolvers<TContext> {
  [typeName: string]:
    | GraphQLScalarType
    | { [fieldName: string]: FieldResolverOf<TContext> | TypeResolverOf<TContext> | string | number | undefined }
    | undefined;
}

export interface SubgraphServerOptions<TContext extends BaseContext> {
  name: string;
  /** Path of `schema/<name>.graphql`. */
  sdlPath: string;
  // The context type comes from `createContext`; the resolvers are checked against it.
  resolvers: SubgraphResolvers<NoInfer<TContext>>;
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
  /** Where GraphQL is served (default `/graphql`; e.g. `/` for a platform that routes the root). */
  path?: string;
  /**
   * Federated tracing (ftv1): when true, a request carrying `apollo-federation-include-trace: ftv1`
   * gets its trace in `extensions.ftv1` (timings, field names and types, error positions; no field
   * values, no variables; error messages masked). Default: `SUBGRAPH_FTV1` (lib/config.ts; on in the
   * embedded default, off in a deployment unless set).
   */
  ftv1?: boolean;
  /**
   * Query limits (depth through `_entities`, aliases, tokens, cost; lib/limits.ts). Default: the
   * gateway's (MAX_QUERY_*), so a caller reaching the port directly gets no more than through the gateway.
   */
  limits?: QueryLimits;
  /**
   * Secrets accepted in `x-gateway-secret` (lib/auth/gateway-secret.ts). Default: GATEWAY_SECRET and
   * GATEWAY_SECRET_PREVIOUS; none set = no check (the embedded default), refused at `listen()` with
   * NODE_ENV=production. `/health` and `/ready` stay open.
   */
  gatewaySecret?: GatewaySecretSettings;
  /** Slow-client limits (lib/http.ts `createHttpServer`); default HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS. */
  httpTimeouts?: HttpTimeouts;
  /** How long stopping waits for requests in flight before cutting them; default SHUTDOWN_GRACE_MS (10 s). */
  shutdownGraceMs?: number;
}

/** What start-up, seeds and tests need of any subgraph server, whatever its context type. */
export interface ServableSubgraph {
  name: string;
  app: express.Express;
  httpServer: http.Server;
  /** Path GraphQL is served on (`/graphql` unless configured). */
  path: string;
  /** Starts Apollo and listens; `port` 0 picks a free port. */
  listen(port: number, host?: string): Promise<Listening>;
}

export interface SubgraphServer<TContext extends BaseContext> extends ServableSubgraph {
  apollo: ApolloServer<TContext>;
}

const PUBLIC_ERROR_CODES = new Set<string>([...Object.values(ErrorCode), 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_REQUEST']);

export function readSdl(sdlPath: string) {
  return parse(readFileSync(sdlPath, 'utf8'));
}

export function createSubgraphServer<TContext extends BaseContext>(
  opts: SubgraphServerOptions<TContext>,
): SubgraphServer<TContext> {
  const schema = buildSubgraphSchema({
    typeDefs: readSdl(opts.sdlPath),
    // SubgraphResolvers is GraphQLResolverMap widened for __resolveType/__isTypeOf, which
    // buildSubgraphSchema accepts at run time but does not declare.
    // Every mutation is one transaction on a replica set or sharded cluster (see transactionalMutations).
    resolvers: transactionalMutations(opts.resolvers, opts.connection, opts.logger) as GraphQLResolverMap<unknown>,
  });
  const graphqlPath = normalisePath(opts.path ?? '/graphql');
  const ftv1 = opts.ftv1 ?? loadConfig().subgraphFtv1;
  // Access rules from the SDL (@authenticated, @requiresScopes, @rowScope, @pii), token checks and
  // the audit log: one mechanism for every subgraph (lib/auth).
  const access = createSubgraphAccess({ name: opts.name, schema, connection: opts.connection, auth: opts.auth, rows: opts.rows });
  // Text arguments reach every resolver (and the access rules) in NFC; refused text never gets that
  // far (inputHygienePlugin). After the access wrapping, so this wrapper is the outermost.
  normaliseTextArguments(schema);
  const limits = subgraphLimits(opts.limits ?? queryLimitsFromConfig());
  const gatewaySecret = opts.gatewaySecret ?? gatewaySecretSettingsFromConfig();
  const app = express();
  app.disable('x-powered-by');
  // Prometheus metrics (lib/metrics.ts): HTTP requests first, then GraphQL operations and database commands.
  const metrics = createServiceMetrics('subgraph');
  if (metrics.settings.enabled) {
    app.use(metrics.httpMiddleware);
    instrumentDatabase(opts.connection, metrics.registry);
  }
  const httpServer = createHttpServer(app, opts.httpTimeouts);
  const corsOrigins = opts.corsOrigins ?? subgraphCorsOrigins();
  const apollo = new ApolloServer<TContext>({
    schema,
    includeStacktraceInErrorResponses: false,
    // Entry points own SIGINT/SIGTERM and stop every service in order.
    stopOnTerminationSignals: false,
    formatError: databaseUnavailableError(opts.name, opts.logger, createFormatError((err) => opts.logger.error({ err }, 'masked error'))),
    validationRules: limits.validationRules,
    plugins: [
      metrics.plugin(subgraphRootFieldLabel, opts.logger) as ApolloServerPlugin<TContext>,
      ...(limits.plugins as ApolloServerPlugin<TContext>[]),
      inputHygienePlugin<TContext>(),
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: opts.shutdownGraceMs ?? shutdownGraceFromEnv() }),
      // Federated traces only when allowed, and only for callers that ask (`apollo-federation-include-trace:
      // ftv1`, the plugin's rule). A trace holds no field values or variables; error messages are
      // replaced, only the error code from the closed set (lib/errors.ts) is kept.
      ftv1 ? ApolloServerPluginInlineTrace({ includeErrors: { transform: maskTraceError } }) : ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginLandingPageLocalDefault({ embed: { runTelemetry: false }, includeCookies: false }),
      access.plugin as ApolloServerPlugin<TContext>,
      ...(opts.plugins ?? []),
    ],
  });

  // Liveness: 200 while the process answers, even with the database down (a restart would not bring
  // it back; the connection recovers by itself), so an orchestrator does not restart every replica
  // during a database outage. Readiness (/ready) is what says 503 then.
  app.get('/health', async (_req, res) => {
    const db = await pingDatabase(opts.connection);
    res.status(200).json({ status: db ? 'ok' : 'degraded', service: opts.name, database: db ? 'up' : 'down' });
  });
  app.get('/ready', async (_req, res) => {
    const db = await pingDatabase(opts.connection);
    res.status(db ? 200 : 503).json({ ready: db, service: opts.name, database: db ? 'up' : 'down' });
  });
  // Open to the scraper like /health (METRICS_TOKEN protects it; README "Operations").
  if (metrics.settings.enabled) app.get('/metrics', metrics.handler);
  // Everything registered after this (GraphQL, the SDL, routes a subgraph adds to `app`) answers
  // only requests carrying the gateway's secret, checked before any body is read.
  if (gatewaySecret.accepted.length) app.use(requireGatewaySecret(gatewaySecret.accepted));

  return {
    name: opts.name,
    apollo,
    app,
    httpServer,
    path: graphqlPath,
    async listen(port, host = '127.0.0.1') {
      assertGatewaySecretConfigured(opts.name, gatewaySecret);
      await apollo.start();
      app.use(
        graphqlPath,
        corsLayer({ origins: corsOrigins }),
        express.json({ limit: opts.bodyLimit ?? '1mb' }),
        limits.tokenLimit,
        // Continues the caller's W3C trace (the gateway's span) for everything below (lib/tracing.ts).
        serverSpanMiddleware(opts.name),
        expressMiddleware(apollo, { context: async ({ req }) => access.context(req, opts.createContext) }),
      );
      app.use(jsonErrorHandler);
      return listen(httpServer, port, host, graphqlPath, () => apollo.stop());
    },
  };
}

/** `/graphql`, `/`, `/api/graphql`: one leading slash, no trailing one (except the root). */
function normalisePath(p: string): string {
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(p) || p.includes('//')) throw new Error(`subgraph path "${p}" must be an absolute URL path such as /graphql or /`);
  return p.length > 1 ? p.replace(/\/$/, '') : p;
}

/**
 * A field whose database could not be reached (lib/db.ts `isDatabaseUnavailable`: refused or dropped
 * connections, no server within MONGODB_SERVER_SELECTION_TIMEOUT_MS) answers SUBGRAPH_UNAVAILABLE
 * with a message naming the subgraph, never the database's address; the gateway passes it on with
 * the other subgraphs' data. Logged as a warning (with the request's trace id). Every other error
 * goes through `format` (the shared masking).
 */
export function databaseUnavailableError(
  name: string,
  logger: Logger,
  format: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError,
): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => {
    if (!isDatabaseUnavailable(error)) return format(formatted, error);
    logger.warn({ path: formatted.path?.join('.'), error: (error as { originalError?: { name?: string } })?.originalError?.name }, 'database unavailable');
    return {
      message: `the ${name} subgraph's database is unavailable; try again shortly`,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE },
    };
  };
}

/** What an error becomes in a federated trace: no message, only a code from the closed set. */
export function maskTraceError(err: GraphQLError): GraphQLError {
  const code = err.extensions?.code;
  return new GraphQLError('<masked>', { extensions: typeof code === 'string' && PUBLIC_ERROR_CODES.has(code) ? { code } : { code: 'INTERNAL_SERVER_ERROR' } });
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

/**
 * Every Mutation resolver of a subgraph runs as one transaction when the server supports them
 * (`runInTransaction`, lib/db.ts): a raw row and its rollups, a register sync, an import batch commit
 * together or not at all, whatever the resolver calls. An attempt that is rolled back takes its
 * audit-log notes with it (an import's counts are noted inside the resolver) and empties the
 * request's DataLoader caches (rows read inside it). On a standalone server and the embedded engine
 * the resolvers run as before.
 */
export function transactionalMutations<TContext>(resolvers: SubgraphResolvers<TContext>, connection: Connection, logger: Logger): SubgraphResolvers<TContext> {
  const mutation = resolvers.Mutation;
  // No Mutation type, or a scalar of that name: nothing to wrap.
  if (!mutation || typeof mutation !== 'object' || typeof (mutation as { serialize?: unknown }).serialize === 'function') return resolvers;
  const wrapped: Record<string, unknown> = {};
  for (const [field, entry] of Object.entries(mutation)) {
    const resolve = typeof entry === 'function' ? entry : (entry as { resolve?: unknown } | undefined)?.resolve;
    if (field.startsWith('__') || typeof resolve !== 'function') {
      wrapped[field] = entry;
      continue;
    }
    const inTransaction = (parent: unknown, args: unknown, ctx: TransactionalContext, info: GraphQLResolveInfo) => {
      const restoreAudit = ctx?.audit?.checkpoint?.();
      return runInTransaction(connection, async () => resolve(parent, args, ctx, info), {
        onRollback: () => {
          restoreAudit?.();
          for (const loader of Object.values(ctx?.loaders ?? {})) (loader as { clearAll?: () => unknown } | null)?.clearAll?.();
        },
        onFallback: (cause) =>
          logger.warn({ mutation: field, code: (cause as { code?: unknown })?.code }, 'the database aborted the transaction under an error the mutation handles; it ran as plain writes'),
      });
    };
    wrapped[field] = typeof entry === 'function' ? inTransaction : { ...(entry as object), resolve: inTransaction };
  }
  return { ...resolvers, Mutation: wrapped as SubgraphResolvers<TContext>[string] };
}

/** What the transaction wrapper reads of a request context (the access layer's audit collector, the loaders). */
interface TransactionalContext {
  audit?: { checkpoint?: () => () => void };
  loaders?: Record<string, unknown>;
}
