/**
 * properties subgraph (owner: 市住房保障和房产局 物业管理处 / 区物业办). Entry used by the start-up, the
 * seed command and the tests; what it serves is described in ./README.md.
 */
import path from 'node:path';
import { defineSubgraph } from '../../lib/subgraph-module';
import { contextFactory, type Context } from './context';
import { registerModels } from './models';
import { resolvers } from './resolvers';
import { seedProperties } from './seed';
import { seedSyntheticProperties } from './seed-synthetic';
import { rebuildStats } from './stats';

export const SDL_PATH = path.join(__dirname, '../../schema/properties.graphql');

export const subgraph = defineSubgraph({
  name: 'properties',
  owner: '市住房保障和房产局 物业管理处 (housing bureau)',
  defaultPort: 4001,
  sdlPath: SDL_PATH,
  registerModels,
  resolvers,
  contextFactory,
  // Read straight from the repository: a DataLoader would cache the pre-write row for the response.
  rows: {
    // Mutations' target 小区: the register row carries its street and neighbourhood codes.
    targets: { Community: async (id: string, ctx: Context) => (await ctx.repo.communitiesById([id]))[0] ?? { _id: id } },
    // Street and neighbourhood of a row's 小区 (contracts, surveys), for street-level claims.
    communityArea: (id: string, ctx: Context) => ctx.loaders.community.load(id),
  },
  seed: seedProperties,
  seedSynthetic: (conn, city, seed, asOf) => seedSyntheticProperties(conn, city, seed, 12, asOf),
  isEmpty: async (m) => (await m.Community.estimatedDocumentCount()) === 0,
  rebuildStats,
});
