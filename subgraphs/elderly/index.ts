/**
 * elderly subgraph (owner: 民政局 居家养老 / 街道; partner agencies: 物业+养老 operators).
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
import { seedElderly } from './seed';

export const SDL_PATH = path.join(__dirname, '../../schema/elderly.graphql');

/** Builds the server; `opts` lets tests pin the clock or grant individual-level access. */
export async function createElderlyServer(conn: Connection, logger: Logger, opts: ContextOptions = {}) {
  const models = registerModels(conn);
  await initModels(conn);
  return createSubgraphServer({
    name: 'elderly',
    sdlPath: SDL_PATH,
    resolvers: resolvers as never,
    connection: conn,
    createContext: contextFactory(models, opts),
    logger,
    rows: {
      // Where rows keep their area: the same map filters lists in memory and in the database.
      fields: {
        ElderlyResident: { COMMUNITY: 'communityId', DISTRICT: 'districtCode', CARE_TEAM: 'registeredByTeamId' },
        HomeVisit: { COMMUNITY: 'communityId', DISTRICT: 'districtCode', CARE_TEAM: 'teamId' },
      },
      // Straight from the repository: a DataLoader would cache the pre-write row for the response.
      targets: { ElderlyResident: async (id: string, ctx: Context) => (await ctx.repo.residentsById([id]))[0] ?? null },
    },
  }) as unknown as SubgraphServer<BaseContext>;
}

export const subgraph: SubgraphModule = {
  name: 'elderly',
  owner: '民政局 居家养老 (civil affairs)',
  defaultPort: 4003,
  create: (conn, logger) => createElderlyServer(conn, logger),
  seed: (conn) => seedElderly(registerModels(conn)),
  isEmpty: async (conn) => (await registerModels(conn).CommunityRef.estimatedDocumentCount()) === 0,
};
