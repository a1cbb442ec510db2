/**
 * Merges identical in-flight operations: when a query arrives while the same query (same text,
 * operation name, variables and caller identity — the Authorization header) is already being
 * executed, it waits for that execution and answers with its result instead of planning, fetching
 * and shaping the same data again. Nothing is kept after the first execution answers: this is
 * not a cache, a request never gets data older than its own arrival's in-flight execution. It is
 * the operation-level twin of the data source's subgraph-call merging, and saves the gateway's
 * own CPU when dashboards send the same operation at once. Mutations are never merged.
 */
import { createHash } from 'node:crypto';
import { HeaderMap, type ApolloServerPlugin, type BaseContext, type GraphQLRequestContext } from '@apollo/server';
import type { FormattedExecutionResult } from 'graphql';

export interface CoalesceStats {
  /** Operations that ran (leaders). */
  executed: number;
  /** Operations answered with a leader's result. */
  merged: number;
  /** Operations waiting for a leader right now. */
  waiting: number;
}

interface Shared {
  result: Promise<{ singleResult: FormattedExecutionResult; status?: number } | null>;
  resolve(v: { singleResult: FormattedExecutionResult; status?: number } | null): void;
}

export function coalescePlugin(opts: { maxWaitMs?: number } = {}): ApolloServerPlugin & { stats: CoalesceStats } {
  const inflight = new Map<string, Shared>();
  const stats: CoalesceStats = { executed: 0, merged: 0, waiting: 0 };
  const maxWaitMs = opts.maxWaitMs ?? 30_000;
  const keyOf = (ctx: GraphQLRequestContext<BaseContext>) =>
    createHash('sha256')
      .update(ctx.request.http?.headers.get('authorization') ?? '')
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
      let leading: { key: string; shared: Shared } | undefined;
      const finish = (value: { singleResult: FormattedExecutionResult; status?: number } | null) => {
        if (!leading) return;
        if (inflight.get(leading.key) === leading.shared) inflight.delete(leading.key);
        leading.shared.resolve(value);
        leading = undefined;
      };
      return {
        async responseForOperation(ctx) {
          if (ctx.operation?.operation !== 'query') return null;
          const key = keyOf(ctx);
          const existing = inflight.get(key);
          if (existing) {
            let timer: NodeJS.Timeout | undefined;
            stats.waiting++;
            const shared = await Promise.race([
              existing.result,
              new Promise<null>((r) => (timer = setTimeout(() => r(null), maxWaitMs))),
            ]);
            stats.waiting--;
            clearTimeout(timer);
            if (shared) {
              stats.merged++;
              return { http: { status: shared.status, headers: new HeaderMap([['x-gateway-merged', 'true']]) }, body: { kind: 'single', singleResult: shared.singleResult } };
            }
            return null; // the leader failed or took too long: run it ourselves
          }
          let resolve!: Shared['resolve'];
          const result = new Promise<{ singleResult: FormattedExecutionResult; status?: number } | null>((r) => (resolve = r));
          const shared = { result, resolve };
          inflight.set(key, shared);
          leading = { key, shared };
          stats.executed++;
          return null;
        },
        async willSendResponse(ctx) {
          if (!leading) return;
          const body = ctx.response.body;
          finish(body.kind === 'single' ? { singleResult: body.singleResult, status: ctx.response.http.status } : null);
        },
      };
    },
  };
}
