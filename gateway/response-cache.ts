/**
 * Whole-response cache for public aggregates, driven by the subgraphs' cache hints: the data source
 * restricts the operation's cache policy with each subgraph's `Cache-Control`, so a response is
 * cacheable only when every subgraph that served it said so. Entries live at most `maxTtlSeconds`
 * (short) and are keyed by identity (the Authorization header) plus operation and variables, so
 * one bureau never receives another caller's cached data — not even "public" data, because field
 * access can depend on the caller's scopes. Queries only; responses with errors are never cached.
 *
 * (@apollo/server-plugin-response-cache 5.0.0 would need a new package; this is the small subset
 * the gateway needs, in memory and bounded.)
 */
import { createHash } from 'node:crypto';
import { HeaderMap, type ApolloServerPlugin, type BaseContext, type GraphQLRequestContext } from '@apollo/server';

export interface ResponseCacheOptions {
  /** Upper bound on any entry's life, whatever the hints say (default 10 s). */
  maxTtlSeconds: number;
  /** Most entries kept (default 2000). */
  maxEntries?: number;
  /** Identity of the caller (default: the Authorization header, or "anonymous"). */
  identity?: (ctx: GraphQLRequestContext<BaseContext>) => string;
}

interface Entry {
  data: Record<string, unknown>;
  expires: number;
  maxAge: number;
  scope: string;
}

export interface ResponseCacheStats {
  hits: number;
  misses: number;
  stores: number;
}

export function responseCachePlugin(opts: ResponseCacheOptions): ApolloServerPlugin & { stats: ResponseCacheStats } {
  const entries = new Map<string, Entry>();
  const maxEntries = opts.maxEntries ?? 2000;
  const stats: ResponseCacheStats = { hits: 0, misses: 0, stores: 0 };
  const identityOf =
    opts.identity ?? ((ctx: GraphQLRequestContext<BaseContext>) => ctx.request.http?.headers.get('authorization') ?? 'anonymous');
  const keyOf = (ctx: GraphQLRequestContext<BaseContext>) =>
    createHash('sha256')
      .update(identityOf(ctx))
      .update('\0')
      .update(ctx.queryHash ?? '')
      .update('\0')
      .update(ctx.operationName ?? '')
      .update('\0')
      .update(JSON.stringify(ctx.request.variables ?? {}))
      .digest('hex');

  return {
    stats,
    async requestDidStart() {
      let key: string | undefined;
      return {
        async responseForOperation(ctx) {
          if (ctx.operation?.operation !== 'query') return null;
          key = keyOf(ctx);
          const hit = entries.get(key);
          if (!hit || hit.expires <= Date.now()) {
            if (hit) entries.delete(key);
            stats.misses++;
            return null;
          }
          stats.hits++;
          const age = Math.max(0, Math.floor((Date.now() - (hit.expires - hit.maxAge * 1000)) / 1000));
          return {
            http: {
              status: undefined,
              headers: new HeaderMap([
                ['x-gateway-cache', 'hit'],
                ['age', String(age)],
              ]),
            },
            body: { kind: 'single', singleResult: { data: hit.data } },
          };
        },
        async willSendResponse(ctx) {
          if (!key || ctx.response.body.kind !== 'single') return;
          if (ctx.response.http.headers.get('x-gateway-cache') === 'hit') return;
          const result = ctx.response.body.singleResult;
          if (result.errors?.length || !result.data) return;
          const policy = ctx.overallCachePolicy.policyIfCacheable();
          if (!policy) return;
          const maxAge = Math.min(policy.maxAge, opts.maxTtlSeconds);
          if (maxAge <= 0) return;
          entries.delete(key);
          entries.set(key, { data: result.data, expires: Date.now() + maxAge * 1000, maxAge, scope: policy.scope });
          stats.stores++;
          while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
          ctx.response.http.headers.set('x-gateway-cache', 'miss');
        },
      };
    },
  };
}
