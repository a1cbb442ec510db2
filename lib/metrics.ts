/**
 * Prometheus metrics (prom-client) for the gateway and every subgraph, served at `/metrics`.
 *
 * Two registries per endpoint: the service's own (requests, latency, errors, in-flight requests,
 * subgraph fetches, response cache, database commands) and the process's (heap, event-loop lag, GC,
 * the embedded engine's counters). `npm start` runs every service in one process, so there the
 * process series appear on every endpoint alike; in a deployment each service is its own process.
 *
 * Label sets are bounded: operation names only from a manifest of known operations (the safelist,
 * or the dashboard's operations) else `other`; a subgraph labels by root field (schema-bounded);
 * error codes, database commands and collections are capped (`BoundedLabel`). Never ids, tokens,
 * variables or query text.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ApolloServerPlugin, BaseContext, GraphQLRequestContext } from '@apollo/server';
import type express from 'express';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import type { Connection } from 'mongoose';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { metricsFromEnv, type MetricsSettings } from './config';
import type { Logger } from './logger';
import { tracer, tracesExported } from './tracing';

/** Latency buckets (seconds) for GraphQL requests and subgraph fetches: 5 ms … 10 s. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Database command buckets: 0.5 ms … 5 s. */
const DB_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

/**
 * A label whose values come from outside the code (error codes, collection names): the first `max`
 * distinct values that look like identifiers are kept, anything else becomes `other`.
 */
export class BoundedLabel {
  private readonly seen = new Set<string>();
  constructor(
    private readonly max: number,
    private readonly pattern = /^[A-Za-z_][A-Za-z0-9_.$-]{0,63}$/,
  ) {}
  of(value: unknown): string {
    if (typeof value !== 'string' || !this.pattern.test(value)) return 'other';
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max) return 'other';
    this.seen.add(value);
    return value;
  }
}

// ---------------------------------------------------------------------------------------------
// process registry
// ---------------------------------------------------------------------------------------------

/** Process-wide series: heap, event-loop lag, GC (prom-client's defaults) and the embedded engine. */
export const processRegistry = new Registry();
let processDefaults = false;

function ensureProcessMetrics(): void {
  if (processDefaults) return;
  processDefaults = true;
  collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: 20 });
}

/** What the embedded engine reports (embedded-mongo `EmbeddedMongo.counters()`). */
export interface EngineCounters {
  docsExamined: number;
  indexLookups: number;
  collScans: number;
  journalSyncs: number;
  journalSyncSeconds: number;
  journalRecords: number;
}

let engineSource: { counters(): EngineCounters } | undefined;

/**
 * Publishes the counters of the embedded engine running in this process (its worker thread shares
 * them in memory; reading costs no round trip). The latest engine registered is the one reported.
 */
export function registerEmbeddedEngineMetrics(source: { counters(): EngineCounters }): void {
  ensureProcessMetrics();
  const first = engineSource === undefined;
  engineSource = source;
  if (!first) return;
  const counter = (name: string, help: string, pick: (c: EngineCounters) => number) =>
    new Counter({
      name,
      help,
      registers: [processRegistry],
      collect() {
        if (!engineSource) return;
        this.reset();
        this.inc(pick(engineSource.counters()));
      },
    });
  counter('embedded_engine_documents_examined_total', 'Documents the embedded engine examined to answer queries (collection scans and index candidates).', (c) => c.docsExamined);
  counter('embedded_engine_index_lookups_total', 'Index lookups made by the embedded engine.', (c) => c.indexLookups);
  counter('embedded_engine_collection_scans_total', 'Full collection scans made by the embedded engine.', (c) => c.collScans);
  counter('embedded_engine_journal_fsyncs_total', 'Journal commits (one fdatasync each) of the embedded engine.', (c) => c.journalSyncs);
  counter('embedded_engine_journal_fsync_seconds_total', 'Time spent in journal fdatasync by the embedded engine; divided by the fsync count it is the mean fsync time.', (c) => c.journalSyncSeconds);
  counter('embedded_engine_journal_records_total', 'Journal records written by the embedded engine.', (c) => c.journalRecords);
}

// ---------------------------------------------------------------------------------------------
// per-service metrics
// ---------------------------------------------------------------------------------------------

export type ServiceKind = 'gateway' | 'subgraph';

export interface ServiceMetrics {
  registry: Registry;
  settings: MetricsSettings;
  /** Counts every HTTP request by route and status (mount first). */
  httpMiddleware: express.RequestHandler;
  /** `GET /metrics` (bearer token checked when METRICS_TOKEN is set). */
  handler: express.RequestHandler;
  /**
   * Requests, latency, errors and in-flight operations; with a logger, one `debug` line per
   * operation (label, outcome, error codes, milliseconds; with the trace id, lib/logger.ts).
   */
  plugin(label: (ctx: GraphQLRequestContext<BaseContext>) => string, logger?: Logger): ApolloServerPlugin<BaseContext>;
}

const KNOWN_ROUTES = new Set(['/graphql', '/health', '/ready', '/metrics', '/dashboard', '/explorer', '/']);

export function createServiceMetrics(kind: ServiceKind, settings: MetricsSettings = metricsFromEnv()): ServiceMetrics {
  ensureProcessMetrics();
  const registry = new Registry();
  const http = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route and status class, including those refused before GraphQL (rate limit, body size).',
    labelNames: ['route', 'status'],
    registers: [registry],
  });
  const p = kind; // metric prefix: gateway_… or subgraph_…
  const labelName = kind === 'gateway' ? 'operation' : 'root_field';
  const requests = new Counter({ name: `${p}_requests_total`, help: `GraphQL operations by ${labelName} and outcome (ok, error).`, labelNames: [labelName, 'outcome'], registers: [registry] });
  const duration = new Histogram({ name: `${p}_request_duration_seconds`, help: `GraphQL operation latency by ${labelName}.`, labelNames: [labelName], buckets: REQUEST_BUCKETS, registers: [registry] });
  const errors = new Counter({ name: `${p}_errors_total`, help: `Errors in GraphQL responses by ${labelName} and extensions.code.`, labelNames: [labelName, 'code'], registers: [registry] });
  const inFlight = new Gauge({ name: `${p}_requests_in_flight`, help: 'GraphQL operations being processed now.', registers: [registry] });
  const codes = new BoundedLabel(60, /^[A-Z][A-Z0-9_]{0,63}$/);

  const httpMiddleware: express.RequestHandler = (req, res, next) => {
    res.once('finish', () => {
      const route = KNOWN_ROUTES.has(req.baseUrl || req.path) ? req.baseUrl || req.path : routeOf(req.path);
      http.inc({ route, status: `${Math.floor(res.statusCode / 100)}xx` });
    });
    next();
  };

  const handler: express.RequestHandler = (req, res, next) => {
    if (settings.token && !bearerMatches(req.headers.authorization, settings.token)) {
      res.status(401).set('www-authenticate', 'Bearer realm="metrics"').json({ errors: [{ message: 'metrics require Authorization: Bearer <METRICS_TOKEN>', extensions: { code: 'UNAUTHENTICATED' } }] });
      return;
    }
    Promise.all([registry.metrics(), processRegistry.metrics()]).then(
      ([own, proc]) => res.set('content-type', registry.contentType).set('cache-control', 'no-store').send(own + proc),
      next,
    );
  };

  return {
    registry,
    settings,
    httpMiddleware,
    handler,
    plugin(label, logger) {
      return {
        async requestDidStart() {
          const t0 = performance.now();
          inFlight.inc();
          let name = 'other';
          let done = false;
          return {
            async didResolveOperation(ctx) {
              name = label(ctx);
            },
            async willSendResponse(ctx) {
              if (done) return;
              done = true;
              inFlight.dec();
              const body = ctx.response.body;
              const errs = body.kind === 'single' ? body.singleResult.errors : body.initialResult.errors;
              if (!ctx.operation && name === 'other') name = ctx.errors?.length ? 'invalid' : name;
              const seconds = (performance.now() - t0) / 1000;
              const outcome = errs?.length ? 'error' : 'ok';
              const errorCodes = (errs ?? []).map((e) => codes.of(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
              duration.observe({ [labelName]: name }, seconds);
              requests.inc({ [labelName]: name, outcome });
              for (const code of errorCodes) errors.inc({ [labelName]: name, code });
              logger?.debug({ [labelName]: name, outcome, ...(errorCodes.length ? { codes: [...new Set(errorCodes)] } : {}), ms: Math.round(seconds * 1000), requestId: requestIdOf(ctx.contextValue) }, 'graphql request');
            },
          };
        },
      };
    },
  };
}

/** The request id the service's context carries (gateway and subgraphs alike), if any. */
function requestIdOf(ctx: unknown): string | undefined {
  const id = (ctx as { requestId?: unknown } | undefined)?.requestId;
  return typeof id === 'string' ? id : undefined;
}

/** `/open311/v2/...` → `/open311`; anything else unknown → `other` (paths may hold ids). */
function routeOf(p: string): string {
  if (p.startsWith('/open311/')) return '/open311';
  if (p.startsWith('/dashboard')) return '/dashboard';
  if (p.startsWith('/explorer')) return '/explorer';
  return 'other';
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!m) return false;
  // Constant-time on the digests, whatever the lengths.
  return timingSafeEqual(createHash('sha256').update(m[1]).digest(), createHash('sha256').update(token).digest());
}

// ---------------------------------------------------------------------------------------------
// operation labels
// ---------------------------------------------------------------------------------------------

/**
 * Operation names by sha256 of the operation text, from manifest bodies (Apollo persisted-query
 * manifest bodies, safelist.ts `Manifest.operations`). An operation is labelled with its name only
 * when its text is one of these; anything else is `other`, so callers cannot grow the label set.
 */
export function operationNamesOf(bodies: Iterable<[string, string]>): Map<string, string> {
  const names = new Map<string, string>();
  for (const [hash, body] of bodies) {
    if (!body) continue;
    try {
      const ops = parse(body).definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
      if (ops.length === 1 && ops[0].name) names.set(hash.toLowerCase(), ops[0].name.value);
    } catch {
      // a manifest body that does not parse is refused elsewhere; it just gets no label here
    }
  }
  return names;
}

/** The gateway's label: the known operation's name, else `other`. */
export function gatewayOperationLabel(names: Map<string, string>) {
  return (ctx: GraphQLRequestContext<BaseContext>): string => (ctx.queryHash && names.get(ctx.queryHash)) || 'other';
}

/**
 * A subgraph's label: its single root field (`_entities` for entity fetches), `multiple` when the
 * operation selects several. Root fields exist in the schema (the operation was validated), so the
 * set is bounded by the schema.
 */
export function subgraphRootFieldLabel(ctx: GraphQLRequestContext<BaseContext>): string {
  const sel = ctx.operation?.selectionSet.selections ?? [];
  const fields = new Set<string>();
  for (const s of sel) {
    if (s.kind === Kind.FIELD) fields.add(s.name.value);
    else return 'multiple';
  }
  if (fields.size === 1) return `${ctx.operation!.operation === 'query' ? '' : `${ctx.operation!.operation}.`}${[...fields][0]}`;
  return fields.size ? 'multiple' : 'other';
}

// ---------------------------------------------------------------------------------------------
// gateway: subgraph fetches and response cache
// ---------------------------------------------------------------------------------------------

export type FetchOutcome = 'ok' | 'error' | 'unavailable';

export interface GatewayMetrics {
  /** One subgraph call (after merging) took `seconds` and ended so. */
  subgraphFetch(subgraph: string, seconds: number, outcome: FetchOutcome): void;
  /** Publishes the response cache's counters (gateway/response-cache.ts). */
  responseCache(stats: { hits: number; misses: number; stores: number } | undefined): void;
}

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  const subgraphs = new BoundedLabel(200);
  const fetches = new Counter({ name: 'gateway_subgraph_fetches_total', help: 'Subgraph calls by subgraph and outcome (ok, error: GraphQL errors, unavailable: timeout, connection or bad answer).', labelNames: ['subgraph', 'outcome'], registers: [registry] });
  const fetchDuration = new Histogram({ name: 'gateway_subgraph_fetch_duration_seconds', help: 'Subgraph call latency by subgraph (retry included).', labelNames: ['subgraph'], buckets: REQUEST_BUCKETS, registers: [registry] });
  let cacheStats: { hits: number; misses: number; stores: number } | undefined;
  new Counter({
    name: 'gateway_response_cache_lookups_total',
    help: 'Response cache lookups of queries by result (hit, miss).',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      if (!cacheStats) return;
      this.reset();
      this.inc({ result: 'hit' }, cacheStats.hits);
      this.inc({ result: 'miss' }, cacheStats.misses);
    },
  });
  new Counter({
    name: 'gateway_response_cache_stores_total',
    help: 'Responses stored in the response cache.',
    registers: [registry],
    collect() {
      if (!cacheStats) return;
      this.reset();
      this.inc(cacheStats.stores);
    },
  });
  return {
    subgraphFetch(subgraph, seconds, outcome) {
      // Names come from the supergraph (the data source's name), capped all the same.
      const label = subgraphs.of(subgraph);
      fetches.inc({ subgraph: label, outcome });
      fetchDuration.observe({ subgraph: label }, seconds);
    },
    responseCache(stats) {
      cacheStats = stats;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// database commands (driver command monitoring) and their spans
// ---------------------------------------------------------------------------------------------

interface StartedCommand {
  command: string;
  collection: string;
  span?: Span;
}

/**
 * Database command latency by command and collection, from the driver's command monitoring (the
 * connection must be opened with `monitorCommands`, lib/db.ts does by default), and one CLIENT span
 * per command, child of the request's span, when traces are exported. Only the command name and the
 * collection are read, never filters or documents.
 */
export function instrumentDatabase(conn: Connection, registry: Registry): void {
  const hist = new Histogram({
    name: 'mongodb_command_duration_seconds',
    help: 'Database command latency by command, collection and outcome (ok, error), as the driver measures it.',
    labelNames: ['command', 'collection', 'outcome'],
    buckets: DB_BUCKETS,
    registers: [registry],
  });
  const commands = new BoundedLabel(40);
  const collections = new BoundedLabel(200);
  const started = new Map<string, StartedCommand>();
  const client = conn.getClient();
  const key = (ev: { connectionId?: unknown; requestId: number }) => `${String(ev.connectionId)}:${ev.requestId}`;
  client.on('commandStarted', (ev) => {
    const command = commands.of(ev.commandName);
    const target = ev.commandName === 'getMore' ? ev.command.collection : ev.command[ev.commandName];
    const collection = typeof target === 'string' ? collections.of(target) : 'none';
    const entry: StartedCommand = { command, collection };
    if (tracesExported() && trace.getSpan(context.active())) {
      entry.span = tracer().startSpan(
        `mongodb ${command}${collection === 'none' ? '' : ` ${collection}`}`,
        { kind: SpanKind.CLIENT, attributes: { 'db.system': 'mongodb', 'db.namespace': ev.databaseName, 'db.operation.name': command, 'db.collection.name': collection } },
        context.active(),
      );
    }
    // A command whose reply never comes (connection torn down) leaves an entry: keep the map bounded.
    if (started.size > 10_000) started.clear();
    started.set(key(ev), entry);
  });
  const finish = (ev: { connectionId?: unknown; requestId: number; duration: number; commandName: string }, outcome: 'ok' | 'error') => {
    const k = key(ev);
    const entry = started.get(k);
    if (!entry) return;
    started.delete(k);
    hist.observe({ command: entry.command, collection: entry.collection, outcome }, ev.duration / 1000);
    if (entry.span) {
      if (outcome === 'error') entry.span.setStatus({ code: SpanStatusCode.ERROR });
      entry.span.end();
    }
  };
  client.on('commandSucceeded', (ev) => finish(ev, 'ok'));
  client.on('commandFailed', (ev) => finish(ev, 'error'));
}
