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
import { contextFactory, type ContextOptions } from './context';
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
  }) as unknown as SubgraphServer<BaseContext>;
}

export const subgraph: SubgraphModule = {
  name: 'governance',
  owner: '街道/社区党组织, 组织部门, 12345 centre, campaign office',
  defaultPort: 4002,
  create: (conn, logger) => createGovernanceServer(conn, logger),
  seed: (conn) => seedGovernance(registerModels(conn)),
  isEmpty: async (conn) => (await registerModels(conn).Community.estimatedDocumentCount()) === 0,
};
