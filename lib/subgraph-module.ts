/**
 * What every subgraph folder exports from its `index.ts`, so the start-up, the seed command, the
 * tests and the scaffolder treat bureau and partner subgraphs alike.
 */
import type { BaseContext } from '@apollo/server';
import type { Connection } from 'mongoose';
import type { Logger } from './logger';
import type { SubgraphServer } from './subgraph-server';

export interface SubgraphModule {
  /** Name used in schema/supergraph.yaml, env variables and the database name. */
  name: string;
  /** Owner (bureau or agency), shown in READMEs and schema checks. */
  owner: string;
  defaultPort: number;
  /** Registers the models on the connection and builds the server (does not listen). */
  create(conn: Connection, logger: Logger): Promise<SubgraphServer<BaseContext>>;
  /** Loads the demo data; running it twice creates no duplicates. Returns documents written. */
  seed(conn: Connection): Promise<number>;
  /** True when the subgraph's store holds no data yet. */
  isEmpty(conn: Connection): Promise<boolean>;
}

/** Database name of a subgraph: one database per bureau. */
export const dbNameFor = (subgraph: string) => `city_${subgraph.replace(/[^a-zA-Z0-9_]/g, '_')}`;
