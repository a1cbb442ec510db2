/**
 * renovation subgraph (owner: 住建 老旧小区改造办, the old-community renovation office; partner
 * agencies: contractors and property companies funding works).
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
import { seedRenovation } from './seed';

export const SDL_PATH = path.join(__dirname, '../../schema/renovation.graphql');

export const subgraph: SubgraphModule = {
  name: 'renovation',
  owner: '住建 老旧小区改造办 (renovation office)',
  defaultPort: 4004,
  async create(conn, logger) {
    const models = registerModels(conn);
    await initModels(conn);
    return createSubgraphServer({
      name: 'renovation',
      sdlPath: SDL_PATH,
      resolvers: resolvers as never,
      connection: conn,
      createContext: contextFactory(models),
      logger,
      // Mutations' target project (its 小区 and districts decide whose area it is in).
      // (Read straight from the repository: a DataLoader would cache the pre-write row for the response.)
      rows: { targets: { RenovationProject: async (id: string, ctx: Context) => (await ctx.repo.projectsById([id]))[0] ?? null } },
    }) as unknown as SubgraphServer<BaseContext>;
  },
  seed: (conn) => seedRenovation(registerModels(conn)),
  isEmpty: async (conn) => {
    const m = registerModels(conn);
    return (await m.Project.estimatedDocumentCount()) === 0 && (await m.Facility.estimatedDocumentCount()) === 0;
  },
};
