/**
 * properties subgraph (owner: 市住房保障和房产局 物业管理处 / 区物业办).
 * Entry used by the start-up, the seed command and the tests.
 */
import path from 'node:path';
import type { BaseContext } from '@apollo/server';
import { initModels } from '../../lib/db';
import type { SubgraphModule } from '../../lib/subgraph-module';
import { createSubgraphServer, type SubgraphServer } from '../../lib/subgraph-server';
import { contextFactory, type Context } from './context';
import { registerModels } from './models';
import { resolvers } from './resolvers';
import { seedProperties } from './seed';

export const SDL_PATH = path.join(__dirname, '../../schema/properties.graphql');

export const subgraph: SubgraphModule = {
  name: 'properties',
  owner: '市住房保障和房产局 物业管理处 (housing bureau)',
  defaultPort: 4001,
  async create(conn, logger) {
    const models = registerModels(conn);
    await initModels(conn);
    return createSubgraphServer({
      name: 'properties',
      sdlPath: SDL_PATH,
      resolvers: resolvers as never,
      connection: conn,
      createContext: contextFactory(models),
      logger,
      // Mutations' target 小区: the register row carries its street and neighbourhood codes.
      // (Read straight from the repository: a DataLoader would cache the pre-write row for the response.)
      rows: {
        targets: { Community: async (id: string, ctx: Context) => (await ctx.repo.communitiesById([id]))[0] ?? { _id: id } },
        // Street and neighbourhood of a row's 小区 (contracts, surveys), for street-level claims.
        communityArea: (id: string, ctx: Context) => ctx.loaders.community.load(id),
      },
    }) as unknown as SubgraphServer<BaseContext>;
  },
  seed: (conn) => seedProperties(registerModels(conn)),
  isEmpty: async (conn) => (await registerModels(conn).Community.estimatedDocumentCount()) === 0,
};
