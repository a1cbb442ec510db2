/**
 * Starts the governance subgraph against a test database with a clock the test moves by hand.
 */
import { createLogger } from '../../../lib/logger';
import type { SubgraphModule } from '../../../lib/subgraph-module';
import { gql, startSubgraph, type RunningSubgraph } from '../../../test/helpers/subgraph';
import { createGovernanceServer, subgraph } from '..';

export interface GovernanceUnderTest extends RunningSubgraph {
  /** Sets the subgraph's clock. */
  setNow(iso: string): void;
  /** GraphQL request; fails the test on any error unless `allowErrors`. */
  q<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
  raw: (query: string, variables?: Record<string, unknown>) => ReturnType<typeof gql>;
}

export async function startGovernance(uri: string, startAt: string, opts: { monitorCommands?: boolean } = {}): Promise<GovernanceUnderTest> {
  let now = new Date(startAt);
  const mod: SubgraphModule = { ...subgraph, create: (conn) => createGovernanceServer(conn, createLogger('governance', 'silent'), { now: () => now }) };
  const sg = await startSubgraph(mod, uri, { monitorCommands: opts.monitorCommands });
  return {
    ...sg,
    setNow(iso) {
      now = new Date(iso);
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
