/**
 * elderly subgraph (owner: 民政局 居家养老 / 街道; partner agencies: 物业+养老 operators). Entry used
 * by the start-up, the seed command and the tests; what it serves is described in ./README.md.
 */
import path from 'node:path';
import { cstDayStart } from '../../lib/clock';
import { defineSubgraph } from '../../lib/subgraph-module';
import { contextFactory, type Context } from './context';
import { registerModels } from './models';
import { resolvers } from './resolvers';
import { seedElderly, seedSynthetic } from './seed';
import { rebuildStats } from './stats';

export const SDL_PATH = path.join(__dirname, '../../schema/elderly.graphql');

export const subgraph = defineSubgraph({
  name: 'elderly',
  owner: '民政局 居家养老 (civil affairs)',
  defaultPort: 4003,
  sdlPath: SDL_PATH,
  registerModels,
  resolvers,
  contextFactory,
  rows: {
    // Where rows keep their area: the same map filters lists in memory and in the database.
    fields: {
      ElderlyResident: { COMMUNITY: 'communityId', DISTRICT: 'districtCode', CARE_TEAM: 'registeredByTeamId' },
      HomeVisit: { COMMUNITY: 'communityId', DISTRICT: 'districtCode', CARE_TEAM: 'teamId' },
    },
    // Straight from the repository: a DataLoader would cache the pre-write row for the response.
    targets: { ElderlyResident: async (id: string, ctx: Context) => (await ctx.repo.residentsById([id]))[0] ?? null },
  },
  seed: seedElderly,
  // Visit plans are dated from the start of the as-of day (CST), as the generator does by default.
  seedSynthetic: (conn, city, seed, asOf) => seedSynthetic(conn, city.communities, seed, { asOf: cstDayStart(asOf) }),
  isEmpty: async (m) => (await m.CommunityRef.estimatedDocumentCount()) === 0,
  rebuildStats,
});

/** Builds the server; `opts` lets tests pin the clock or grant individual-level access. */
export const createElderlyServer = subgraph.createServer;
