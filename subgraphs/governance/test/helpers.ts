/**
 * Starts the governance subgraph against a test database with a clock the test moves by hand: the
 * product clock (lib/clock.ts) is frozen at `startAt` until `close()`, so the seed, the model
 * timestamps, the subgraph's requests and the test's assertions all read the same instant.
 */
import { freezeClock } from '../../../lib/clock';
import { createLogger } from '../../../lib/logger';
import type { SubgraphModule } from '../../../lib/subgraph-module';
import { pinClock } from '../../../test/helpers/clock';
import { gql, startSubgraph, type RunningSubgraph } from '../../../test/helpers/subgraph';
import { createGovernanceServer, subgraph } from '..';

export interface GovernanceUnderTest extends RunningSubgraph {
  /** Sets the clock (the product clock and the subgraph's). */
  setNow(iso: string): void;
  /** GraphQL request; fails the test on any error unless `allowErrors`. */
  q<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
  raw: (query: string, variables?: Record<string, unknown>) => ReturnType<typeof gql>;
}

export async function startGovernance(uri: string, startAt: string, opts: { monitorCommands?: boolean } = {}): Promise<GovernanceUnderTest> {
  let now = new Date(startAt);
  const pinned = pinClock(now);
  const mod: SubgraphModule = { ...subgraph, create: (conn) => createGovernanceServer(conn, createLogger('governance', 'silent'), { now: () => now }) };
  const sg = await startSubgraph(mod, uri, { monitorCommands: opts.monitorCommands });
  return {
    ...sg,
    setNow(iso) {
      now = new Date(iso);
      freezeClock(now);
    },
    async close() {
      await sg.close();
      pinned.restore();
    },
    async q(query, variables) {
      const res = await gql(sg.url, query, variables);
      if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
      return res.data as never;
    },
    raw: (query, variables) => gql(sg.url, query, variables),
  };
}

export const TICKET_FIELDS = `id status open311Status dueAt requestedAt resolvedAt isOverdue resolvedLate hoursToResolve satisfaction reopenCount
  assigneeOrg allowedTransitions notes { type from to text actorOrg at }`;
