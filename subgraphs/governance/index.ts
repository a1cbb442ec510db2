/**
 * governance subgraph (owner: 街道/社区党组织, 组织部门, the 12345 centre and the campaign office).
 * Entry used by the start-up, the seed command and the tests.
 */
import path from 'node:path';
import type { BaseContext } from '@apollo/server';
import type { Connection } from 'mongoose';
import { initModels } from '../../lib/db';
import type { Logger } from '../../lib/logger';
import type { SubgraphModule } from '../../lib/subgraph-module';
import { createSubgraphServer, type SubgraphServer } from '../../lib/subgraph-server';
import { contextFactory, type Context, type ContextOptions } from './context';
import { registerModels } from './models';
import { resolvers } from './resolvers';
import { seedGovernance } from './seed';

export const SDL_PATH = path.join(__dirname, '../../schema/governance.graphql');

/** Builds the server; `opts` lets tests pin the clock or set a holiday calendar. */
export async function createGovernanceServer(conn: Connection, logger: Logger, opts: ContextOptions = {}) {
  const models = registerModels(conn);
  await initModels(conn);
  return createSubgraphServer({
    name: 'governance',
    sdlPath: SDL_PATH,
    resolvers: resolvers as never,
    connection: conn,
    createContext: contextFactory(models, opts),
    logger,
    rows: {
      targets: governanceRowTargets,
      // Street and neighbourhood of a row's 小区, for street staff whose claims are streets.
      communityArea: (id: string, ctx: Context) => ctx.loaders.register.load(id),
    },
  }) as unknown as SubgraphServer<BaseContext>;
}

/**
 * Rows the mutations write to, for their `@rowScope` area check. Governance's own 小区 register
 * carries street and neighbourhood codes; tickets and patrol reports take them from their 小区.
 * Read straight from the repository: a DataLoader would cache the pre-write row for the response.
 */
const withArea = async (ctx: Context, row: { communityId: string } | null) => {
  if (!row) return null;
  const [reg] = await ctx.repo.communitiesById([row.communityId]);
  return { ...row, streetCode: reg?.streetCode ?? null, neighborhoodCode: reg?.neighborhoodCode ?? null };
};
const governanceRowTargets = {
  Community: async (id: string, ctx: Context) => (await ctx.repo.communitiesById([id]))[0] ?? { _id: id },
  ServiceTicket: async (id: string, ctx: Context) => withArea(ctx, (await ctx.repo.ticketsById([id]))[0] ?? null),
  PatrolReport: async (id: string, ctx: Context) => withArea(ctx, (await ctx.repo.patrolReportsById([id]))[0] ?? null),
};

export const subgraph: SubgraphModule = {
  name: 'governance',
  owner: '街道/社区党组织, 组织部门, 12345 centre, campaign office',
  defaultPort: 4002,
  create: (conn, logger) => createGovernanceServer(conn, logger),
  seed: (conn) => seedGovernance(registerModels(conn)),
  isEmpty: async (conn) => (await registerModels(conn).Community.estimatedDocumentCount()) === 0,
};
