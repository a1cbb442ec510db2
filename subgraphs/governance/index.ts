/**
 * governance subgraph (owner: 街道/社区党组织, 组织部门, the 12345 centre and the campaign office).
 * Entry used by the start-up, the seed command and the tests; what it serves is described in
 * ./README.md.
 */
import path from 'node:path';
import { defineSubgraph } from '../../lib/subgraph-module';
import { mountOpen311 } from './open311-rest';
import { contextFactory, type Context } from './context';
import { registerModels } from './models';
import { resolvers } from './resolvers';
import { seedGovernance, seedSynthetic } from './seed';
import { rebuildStats } from './stats';

export const SDL_PATH = path.join(__dirname, '../../schema/governance.graphql');

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

const defined = defineSubgraph({
  name: 'governance',
  owner: '街道/社区党组织, 组织部门, 12345 centre, campaign office',
  defaultPort: 4002,
  sdlPath: SDL_PATH,
  registerModels,
  resolvers,
  contextFactory,
  rows: {
    targets: {
      Community: async (id: string, ctx: Context) => (await ctx.repo.communitiesById([id]))[0] ?? { _id: id },
      ServiceTicket: async (id: string, ctx: Context) => withArea(ctx, (await ctx.repo.ticketsById([id]))[0] ?? null),
      PatrolReport: async (id: string, ctx: Context) => withArea(ctx, (await ctx.repo.patrolReportsById([id]))[0] ?? null),
    },
    // Street and neighbourhood of a row's 小区, for street staff whose claims are streets.
    communityArea: (id: string, ctx: Context) => ctx.loaders.register.load(id),
  },
  seed: seedGovernance,
  seedSynthetic: (conn, city, seed, asOf) => seedSynthetic(conn, city.communities, seed, asOf),
  isEmpty: async (m) => (await m.Community.estimatedDocumentCount()) === 0,
  rebuildStats,
});

/**
 * The subgraph as defined, plus Open311 GeoReport v2 over REST on its HTTP app (open311-rest.ts):
 * `/open311/v2/*`, answered through the subgraph's own GraphQL endpoint and access rules.
 */
export const subgraph: typeof defined = {
  ...defined,
  async createServer(conn, logger, opts) {
    const server = await defined.createServer(conn, logger, opts);
    mountOpen311(server.app, { graphqlPath: server.path });
    return server;
  },
  create: (conn, logger) => subgraph.createServer(conn, logger),
};

/** Builds the server; `opts` lets tests pin the clock or set a holiday calendar. */
export const createGovernanceServer = subgraph.createServer;
