/**
 * renovation subgraph (owner: 住建 老旧小区改造办, the old-community renovation office; partner
 * agencies: contractors and property companies funding works). Entry used by the start-up, the seed
 * command and the tests; what it serves is described in ./README.md.
 */
import path from 'node:path';
import { defineSubgraph } from '../../lib/subgraph-module';
import { contextFactory, type Context } from './context';
import { registerModels } from './models';
import { resolvers } from './resolvers';
import { seedRenovation, seedSynthetic } from './seed';
import { rebuildStats } from './stats';

export const SDL_PATH = path.join(__dirname, '../../schema/renovation.graphql');

export const subgraph = defineSubgraph({
  name: 'renovation',
  owner: '住建 老旧小区改造办 (renovation office)',
  defaultPort: 4004,
  sdlPath: SDL_PATH,
  registerModels,
  resolvers,
  contextFactory,
  rows: {
    // Mutations' target project (its 小区 and districts decide whose area it is in). Read straight
    // from the repository: a DataLoader would cache the pre-write row for the response.
    targets: { RenovationProject: async (id: string, ctx: Context) => (await ctx.repo.projectsById([id]))[0] ?? null },
  },
  seed: seedRenovation,
  seedSynthetic: (conn, city, seed, asOf) => seedSynthetic(conn, city.communities, seed, { asOf }),
  isEmpty: async (m) => (await m.Project.estimatedDocumentCount()) === 0 && (await m.Facility.estimatedDocumentCount()) === 0,
  rebuildStats,
});
