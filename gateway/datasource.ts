/**
 * How the gateway talks to subgraphs. Forwards the caller's identity (Authorization) and a request
 * id, so each subgraph can verify the token itself and logs can be correlated. On top of the stock
 * `RemoteGraphQLDataSource` it:
 *  - sends each distinct `_entities` representation once and re-expands the answer in the original
 *    order (error paths remapped), where stock @apollo/gateway sends every duplicate;
 *  - merges identical in-flight subgraph calls (same subgraph, query, variables and forwarded
 *    identity) into one HTTP request; mutations are never merged;
 *  - reuses keep-alive connections, applies a per-subgraph deadline, and retries an idempotent
 *    query at most once on a connection failure within a shared retry budget (never a mutation);
 *  - turns a slow, down or garbage-answering subgraph into a `SUBGRAPH_UNAVAILABLE` error naming
 *    the subgraph (never its URL, host, port or errno), so the other subgraphs' data still comes back.
 */
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { GATEWAY_SECRET_HEADER, gatewaySecretToSend } from '../lib/auth/gateway-secret';
import type { FetchOutcome } from '../lib/metrics';
import { injectTraceContext, withClientSpan } from '../lib/tracing';
import { RetryBudget, SubgraphCallError, SubgraphClient, isRetryable, type RawSubgraphResponse } from './subgraph-client';

export interface GatewayContext {
  authorization?: string;
  requestId: string;
}

export const SUBGRAPH_UNAVAILABLE = 'SUBGRAPH_UNAVAILABLE';

export interface SubgraphPolicy {
  /** Deadline for one subgraph call, retry included (default 1500 ms). */
  timeoutMs: number;
  /** Send each distinct `_entities` representation once (default true). */
  dedupRepresentations: boolean;
  /** Merge identical in-flight calls (default true). */
  dedupInflight: boolean;
  /** One retry for queries on connection failures, within the budget (default true). */
  retry: boolean;
  /** Sent in `x-gateway-secret` on every call (default: GATEWAY_SECRET; subgraphs check it, lib/auth/gateway-secret.ts). */
  gatewaySecret?: string;
}

export const DEFAULT_SUBGRAPH_POLICY: SubgraphPolicy = {
  timeoutMs: 1500,
  dedupRepresentations: true,
  dedupInflight: true,
  retry: true,
};

/** Counters per subgraph, for /ready, logs and the benchmark. */
export interface SubgraphStats {
  /** Operations the gateway asked this subgraph for (before merging). */
  requests: number;
  /** HTTP calls actually sent (after merging, retries included). */
  fetches: number;
  /** Calls that joined an identical in-flight call instead of sending their own. */
  merged: number;
  representationsAsked: number;
  representationsSent: number;
  retries: number;
  failures: number;
  lastFailure?: { at: string; reason: string };
}

type Ctx = GatewayContext & Record<string, any>;
type Options = GraphQLDataSourceProcessOptions<Ctx>;
type GqlError = { message: string; path?: (string | number)[]; extensions?: Record<string, unknown>; [k: string]: unknown };

const IDENTITY_EXCLUDED_HEADERS = new Set(['x-request-id', 'traceparent', 'tracestate', 'content-length']);

export class SubgraphDataSource extends RemoteGraphQLDataSource<Ctx> {
  readonly policy: SubgraphPolicy;
  readonly stats: SubgraphStats = {
    requests: 0,
    fetches: 0,
    merged: 0,
    representationsAsked: 0,
    representationsSent: 0,
    retries: 0,
    failures: 0,
  };
  /** Told of every call's latency and outcome (the gateway's metrics, lib/metrics.ts). */
  onFetch?: (subgraph: string, seconds: number, outcome: FetchOutcome) => void;
  private readonly client: SubgraphClient;
  private readonly budget: RetryBudget;
  private readonly inflight = new Map<string, Promise<RawSubgraphResponse>>();

  constructor(
    readonly name: string,
    url: string,
    policy: Partial<SubgraphPolicy> = {},
    budget: RetryBudget = new RetryBudget(),
    /** Shared keep-alive client (a supergraph reload reuses the connections of the same URL). */
    client: SubgraphClient = new SubgraphClient(url),
  ) {
    super({ url });
    this.policy = { ...DEFAULT_SUBGRAPH_POLICY, gatewaySecret: gatewaySecretToSend(), ...policy };
    this.client = client;
    this.budget = budget;
  }

  override willSendRequest({ request, context }: Options): void {
    if (!request.http) return;
    if (context?.authorization) request.http.headers.set('authorization', context.authorization);
    if (context?.requestId) request.http.headers.set('x-request-id', context.requestId);
    if (this.policy.gatewaySecret) request.http.headers.set(GATEWAY_SECRET_HEADER, this.policy.gatewaySecret);
  }

  override async process(options: Options): Promise<GatewayGraphQLResponse> {
    const { request, context } = options;
    const headers = new Headers();
    if (request.http?.headers) for (const [k, v] of request.http.headers) headers.append(k, v);
    headers.set('content-type', 'application/json');
    request.http = { method: 'POST', url: this.url!, headers };
    if (this.willSendRequest) await this.willSendRequest(options);
    if (!request.query) throw new Error('Missing query');

    const isMutation = /^\s*(mutation|subscription)\b/.test(request.query);
    let variables = request.variables ?? {};
    const expansion = this.policy.dedupRepresentations ? dedupeRepresentations(variables.representations) : undefined;
    if (expansion) variables = { ...variables, representations: expansion.unique };
    if (Array.isArray(request.variables?.representations)) {
      this.stats.representationsAsked += request.variables.representations.length;
    }
    this.stats.requests++;

    const body = JSON.stringify({
      query: request.query,
      variables,
      ...(request.operationName ? { operationName: request.operationName } : {}),
      ...(request.extensions ? { extensions: request.extensions } : {}),
    });
    const sendHeaders: Record<string, string> = {};
    for (const [k, v] of request.http.headers) sendHeaders[k] = v;

    let raw: RawSubgraphResponse;
    const t0 = performance.now();
    try {
      // A CLIENT span per call; its W3C context goes to the subgraph in `traceparent` (lib/tracing.ts).
      raw = await withClientSpan(`gateway fetch ${this.name}`, { 'graphql.subgraph.name': this.name }, (_span, ctx) => {
        injectTraceContext(sendHeaders, ctx);
        return this.call(body, sendHeaders, !isMutation, Array.isArray(variables.representations) ? variables.representations.length : 0);
      });
    } catch (err) {
      this.onFetch?.(this.name, (performance.now() - t0) / 1000, 'unavailable');
      this.restrictCachePolicy(options, undefined);
      return this.unavailable(err);
    }
    const parsed = this.parse(raw);
    this.onFetch?.(this.name, (performance.now() - t0) / 1000, !parsed.ok ? 'unavailable' : parsed.response.errors?.length ? 'error' : 'ok');
    this.restrictCachePolicy(options, parsed.ok ? raw.headers['cache-control'] : undefined);
    if (!parsed.ok) return parsed.response;
    let response = parsed.response;
    if (expansion) response = expandEntities(response, expansion);
    if (this.didReceiveResponse) {
      const http = { status: raw.status, headers: new Headers(raw.headers as Record<string, string>), url: '' };
      response = await this.didReceiveResponse({
        response: { ...response, http } as any,
        request,
        context: context as Ctx,
        pathInIncomingRequest: options.kind === GraphQLDataSourceRequestKind.INCOMING_OPERATION ? options.pathInIncomingRequest : undefined,
      });
    }
    return response;
  }

  /** Sends the call, joining an identical one already in flight (queries only). */
  private call(body: string, headers: Record<string, string>, idempotent: boolean, representations: number): Promise<RawSubgraphResponse> {
    if (!idempotent || !this.policy.dedupInflight) return this.send(body, headers, idempotent, representations);
    const key = identityKey(headers) + '\n' + body;
    const existing = this.inflight.get(key);
    if (existing) {
      this.stats.merged++;
      return existing;
    }
    const p = this.send(body, headers, idempotent, representations);
    this.inflight.set(key, p);
    const clear = () => {
      if (this.inflight.get(key) === p) this.inflight.delete(key);
    };
    p.then(clear, clear);
    return p;
  }

  private async send(body: string, headers: Record<string, string>, idempotent: boolean, representations: number): Promise<RawSubgraphResponse> {
    const deadline = Date.now() + this.policy.timeoutMs;
    this.budget.recordRequest();
    for (let attempt = 0; ; attempt++) {
      this.stats.fetches++;
      this.stats.representationsSent += representations;
      try {
        const raw = await this.client.post(body, headers, deadline - Date.now());
        if (raw.status >= 500 && !looksLikeGraphQL(raw)) throw new SubgraphCallError('http-status', `HTTP ${raw.status}`, raw.status);
        return raw;
      } catch (err) {
        const remaining = deadline - Date.now();
        const canRetry = idempotent && this.policy.retry && attempt === 0 && isRetryable(err) && remaining > 20 && this.budget.tryRetry();
        if (!canRetry) throw err;
        this.stats.retries++;
      }
    }
  }

  private parse(raw: RawSubgraphResponse): { ok: true; response: GatewayGraphQLResponse } | { ok: false; response: GatewayGraphQLResponse } {
    let body: unknown;
    try {
      body = JSON.parse(raw.text);
    } catch {
      return { ok: false, response: this.unavailable(new SubgraphCallError('http-status', `unparsable body (HTTP ${raw.status})`, raw.status), 'returned an invalid response') };
    }
    const obj = body as { data?: unknown; errors?: unknown; extensions?: unknown };
    const shapeOk =
      obj !== null &&
      typeof obj === 'object' &&
      !Array.isArray(obj) &&
      ('data' in obj || 'errors' in obj) &&
      (obj.data === undefined || obj.data === null || (typeof obj.data === 'object' && !Array.isArray(obj.data))) &&
      (obj.errors === undefined || Array.isArray(obj.errors));
    if (!shapeOk) {
      return { ok: false, response: this.unavailable(new SubgraphCallError('http-status', `not a GraphQL response (HTTP ${raw.status})`, raw.status), 'returned an invalid response') };
    }
    if (raw.status >= 400 && !Array.isArray(obj.errors)) {
      return { ok: false, response: this.unavailable(new SubgraphCallError('http-status', `HTTP ${raw.status}`, raw.status), `answered HTTP ${raw.status}`) };
    }
    const response = obj as GatewayGraphQLResponse;
    if (raw.status === 401 || raw.status === 403) {
      const code = raw.status === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN';
      response.errors = (response.errors ?? []).map((e) => ({ ...e, extensions: { code, ...(e.extensions ?? {}) } })) as typeof response.errors;
    }
    return { ok: true, response };
  }

  private unavailable(err: unknown, why?: string): GatewayGraphQLResponse {
    this.stats.failures++;
    const reason =
      why ??
      (err instanceof SubgraphCallError
        ? err.reason === 'timeout'
          ? `did not answer within ${this.policy.timeoutMs} ms`
          : err.reason === 'connection'
            ? 'could not be reached'
            : `answered HTTP ${err.status ?? 'error'}`
        : 'failed');
    this.stats.lastFailure = { at: new Date().toISOString(), reason: err instanceof SubgraphCallError ? `${reason} (${err.detail})` : reason };
    return {
      errors: [
        {
          message: `subgraph "${this.name}" is unavailable: it ${reason}`,
          extensions: { code: SUBGRAPH_UNAVAILABLE, subgraph: this.name },
        } as any,
      ],
    };
  }

  /** The stock data source's cache-hint handling: a subgraph's Cache-Control restricts the response's. */
  private restrictCachePolicy(options: Options, cacheControl: string | undefined): void {
    if (!this.honorSubgraphCacheControlHeader || options.kind !== GraphQLDataSourceRequestKind.INCOMING_OPERATION) return;
    const policy = options.incomingRequestContext.overallCachePolicy as { restrict?: (hint: { maxAge?: number; scope?: 'PUBLIC' | 'PRIVATE' }) => void } | undefined;
    if (!policy || typeof policy.restrict !== 'function') return;
    const hint: { maxAge: number; scope?: 'PUBLIC' | 'PRIVATE' } = { maxAge: 0 };
    for (const part of (cacheControl ?? '').split(',')) {
      const [k, v] = part.trim().toLowerCase().split('=');
      if (k === 'max-age' && v && /^\d+$/.test(v)) hint.maxAge = Number(v);
      else if (k === 'private') hint.scope = 'PRIVATE';
      else if (k === 'public') hint.scope = 'PUBLIC';
    }
    policy.restrict(hint);
  }

  close(): void {
    this.client.close();
  }
}

function looksLikeGraphQL(raw: RawSubgraphResponse): boolean {
  return (raw.headers['content-type'] ?? '').includes('json') && raw.text.startsWith('{');
}

function identityKey(headers: Record<string, string>): string {
  return Object.keys(headers)
    .filter((k) => !IDENTITY_EXCLUDED_HEADERS.has(k.toLowerCase()))
    .sort()
    .map((k) => `${k.toLowerCase()}:${headers[k]}`)
    .join('\n');
}

interface Expansion {
  unique: unknown[];
  /** Original position → index into `unique`. */
  indexOf: number[];
}

/** Distinct representations (by content) and where each original one went; undefined if none repeat. */
export function dedupeRepresentations(reps: unknown): Expansion | undefined {
  if (!Array.isArray(reps) || reps.length < 2) return undefined;
  const seen = new Map<string, number>();
  const unique: unknown[] = [];
  const indexOf = new Array<number>(reps.length);
  for (let i = 0; i < reps.length; i++) {
    const key = JSON.stringify(reps[i]);
    let j = seen.get(key);
    if (j === undefined) {
      j = unique.length;
      seen.set(key, j);
      unique.push(reps[i]);
    }
    indexOf[i] = j;
  }
  return unique.length === reps.length ? undefined : { unique, indexOf };
}

/** Re-expands `_entities` (and error paths) to the original representation order. */
export function expandEntities(response: GatewayGraphQLResponse, { unique, indexOf }: Expansion): GatewayGraphQLResponse {
  const data = response.data as { _entities?: unknown } | null | undefined;
  const entities = data?._entities;
  const out: GatewayGraphQLResponse = { ...response };
  if (Array.isArray(entities) && entities.length === unique.length) {
    const used = new Uint8Array(unique.length);
    // The gateway merges later fetches into these objects: every position gets its own copy.
    out.data = { ...data, _entities: indexOf.map((j) => (used[j]++ ? cloneJson(entities[j]) : entities[j])) };
  }
  if (response.errors?.length) {
    const positions: number[][] = unique.map(() => []);
    indexOf.forEach((j, i) => positions[j].push(i));
    const errors: GqlError[] = [];
    for (const e of response.errors as unknown as GqlError[]) {
      const p = e.path;
      if (Array.isArray(p) && p[0] === '_entities' && typeof p[1] === 'number' && positions[p[1]]) {
        for (const i of positions[p[1]]) errors.push({ ...e, path: ['_entities', i, ...p.slice(2)] });
      } else errors.push(e);
    }
    out.errors = errors as unknown as GatewayGraphQLResponse['errors'];
  }
  return out;
}

function cloneJson<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(cloneJson) as unknown as T;
  const o: Record<string, unknown> = {};
  for (const k in v) o[k] = cloneJson((v as Record<string, unknown>)[k]);
  return o as T;
}
