/**
 * What every subgraph folder exports from its `index.ts`, so the start-up, the seed command, the
 * tests and the scaffolder treat bureau and partner subgraphs alike, and `defineSubgraph`, which
 * builds that export from a declaration (name, owner, port, SDL, models, resolvers, context, seeds).
 */
import type { BaseContext } from '@apollo/server';
import type { Request } from 'express';
import type { Connection } from 'mongoose';
import type { RowScopeOptions } from './auth/directives';
import { initModels } from './db';
import type { Logger } from './logger';
import { createSubgraphServer, type ServableSubgraph, type SubgraphResolvers, type SubgraphServer } from './subgraph-server';

export interface SubgraphModule {
  /** Name used in schema/supergraph.yaml, env variables and the database name. */
  name: string;
  /** Owner (bureau or agency), shown in READMEs and schema checks. */
  owner: string;
  defaultPort: number;
  /** Registers the models on the connection and builds the server (does not listen). */
  create(conn: Connection, logger: Logger): Promise<ServableSubgraph>;
  /** Loads the demo data; running it twice creates no duplicates. Returns documents written. */
  seed(conn: Connection): Promise<number>;
  /**
   * Writes the subgraph's rows for a synthetic city, dated relative to `asOf` (the product clock's
   * `now()` when the city is generated: one instant for every bureau); replaces the rows of an
   * earlier run (they carry `synthetic: true`) and never touches the demo rows. Returns documents
   * written. Subgraphs without one get no synthetic rows.
   */
  seedSynthetic?(conn: Connection, city: SyntheticCity, seed: number, asOf: Date): Promise<number>;
  /** True when the subgraph's store holds no data yet. */
  isEmpty(conn: Connection): Promise<boolean>;
  /**
   * Recomputes every statistics rollup from the raw rows (`npm run stats:rebuild`); `progress`
   * receives one line per step. Returns rollup documents written. Subgraphs without rollups omit it.
   */
  rebuildStats?(conn: Connection, progress?: (line: string) => void): Promise<number>;
}

/** Database name of a subgraph: one database per bureau. */
export const dbNameFor = (subgraph: string) => `city_${subgraph.replace(/[^a-zA-Z0-9_]/g, '_')}`;

// ---------------------------------------------------------------------------------------------
// The synthetic city skeleton: what scripts/synthetic/city.ts generates and every bureau's
// `seedSynthetic` receives (docs/domain.md, "The synthetic city"). Keys agree across subgraphs
// because every bureau builds its rows from this one skeleton, never from another's database.
// ---------------------------------------------------------------------------------------------

export interface SyntheticArea {
  code: string;
  name: string;
  level: 'CITY' | 'DISTRICT' | 'STREET' | 'NEIGHBORHOOD';
  parentCode: string | null;
  cityCode: string;
}

export interface SyntheticCommunity {
  /** `cm_<district>_s<5 digits>`: the `s` tells a synthetic 小区 from the article's `cm_<district>_000n`. */
  id: string;
  name: string;
  cityCode: string;
  districtCode: string;
  streetCode: string;
  neighborhoodCode: string;
  isOld: boolean;
  builtYear: number;
  housingType: string;
  managementMode: string;
  householdCount: number;
  residentCount: number;
  buildingCount: number;
  floorAreaM2: number;
  lat: number;
  lng: number;
}

export interface SyntheticCity {
  areas: SyntheticArea[];
  communities: SyntheticCommunity[];
}

// ---------------------------------------------------------------------------------------------
// defineSubgraph
// ---------------------------------------------------------------------------------------------

/**
 * A subgraph's declaration. `C` is its per-request context: `resolvers` (e.g. graphql-codegen's
 * `Resolvers`, generated with `contextType` pointing at it) and `contextFactory` must agree on it,
 * and the map passes as it is, with no cast.
 */
export interface SubgraphDefinition<M, O, C extends BaseContext> {
  name: string;
  owner: string;
  defaultPort: number;
  /** Path of `schema/<name>.graphql`, the subgraph's only schema text. */
  sdlPath: string;
  /** Registers the subgraph's models on a connection (idempotent) and returns them. */
  registerModels(conn: Connection): M;
  /** The resolver map (typed by the subgraph's codegen output). */
  resolvers: SubgraphResolvers<NoInfer<C>>;
  /** Per-request context factory; `opts` are what tests pass to pin a clock or grant access. */
  contextFactory(models: M, opts: O): (req: Request) => C | Promise<C>;
  /** Where GraphQL is served (default `/graphql`). */
  path?: string;
  /** Federated tracing (default: SUBGRAPH_FTV1, see lib/config.ts). */
  ftv1?: boolean;
  /** How `@rowScope` finds the area of rows and of mutation targets (lib/auth/directives.ts). */
  rows?: RowScopeOptions;
  /** Loads the demo data (idempotent). Returns documents written. */
  seed(models: M): Promise<number>;
  /** See {@link SubgraphModule.seedSynthetic}. */
  seedSynthetic?(conn: Connection, city: SyntheticCity, seed: number, asOf: Date): Promise<number>;
  /** True when the store holds no data yet (start-up then loads the demo data). */
  isEmpty(models: M): Promise<boolean>;
  /** See {@link SubgraphModule.rebuildStats}. */
  rebuildStats?(conn: Connection, progress?: (line: string) => void): Promise<number>;
}

export interface DefinedSubgraph<O, C extends BaseContext = BaseContext> extends SubgraphModule {
  /** Builds the server with context options (`create` is this with the defaults). */
  createServer(conn: Connection, logger: Logger, opts?: O): Promise<SubgraphServer<C>>;
}

/** Turns a subgraph's declaration into the module the start-up, the seed command and the tests use. */
export function defineSubgraph<M, C extends BaseContext, O = Record<string, never>>(def: SubgraphDefinition<M, O, C>): DefinedSubgraph<O, C> {
  const createServer = async (conn: Connection, logger: Logger, opts?: O) => {
    const models = def.registerModels(conn);
    await initModels(conn);
    return createSubgraphServer<C>({
      name: def.name,
      sdlPath: def.sdlPath,
      resolvers: def.resolvers,
      connection: conn,
      createContext: def.contextFactory(models, (opts ?? {}) as O),
      logger,
      rows: def.rows,
      path: def.path,
      ftv1: def.ftv1,
    });
  };
  const mod: DefinedSubgraph<O, C> = {
    name: def.name,
    owner: def.owner,
    defaultPort: def.defaultPort,
    createServer,
    create: (conn, logger) => createServer(conn, logger),
    seed: (conn) => def.seed(def.registerModels(conn)),
    isEmpty: (conn) => def.isEmpty(def.registerModels(conn)),
  };
  if (def.seedSynthetic) mod.seedSynthetic = def.seedSynthetic;
  if (def.rebuildStats) mod.rebuildStats = def.rebuildStats;
  return mod;
}
