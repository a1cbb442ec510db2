/**
 * Test helpers: start one subgraph (or the whole stack) on 127.0.0.1 port 0 against an in-memory
 * embedded engine (or `MONGODB_URI` when set), seed it, and send GraphQL requests.
 */
import type { Connection } from 'mongoose';
import { startEmbeddedMongo } from '../../embedded-mongo/src';
import { connectDatabase } from '../../lib/db';
import { createLogger } from '../../lib/logger';
import type { SubgraphModule } from '../../lib/subgraph-module';
import { authHeader } from './tokens';

export interface Engine {
  uri: string;
  stop(): Promise<void>;
}

/** An in-memory engine, or the real MongoDB named by MONGODB_URI (then stop() is a no-op). */
export async function startTestDatabase(): Promise<Engine> {
  if (process.env.MONGODB_URI) return { uri: process.env.MONGODB_URI, stop: async () => {} };
  const engine = await startEmbeddedMongo({ port: 0 });
  return { uri: engine.uri, stop: () => engine.stop() };
}

let dbCounter = 0;
/** A database name unique to this test process, so suites never share data. */
export const uniqueDbName = (subgraph: string) => `test_${subgraph}_${process.pid}_${++dbCounter}`;

export interface RunningSubgraph {
  url: string;
  conn: Connection;
  close(): Promise<void>;
}

export async function startSubgraph(
  mod: SubgraphModule,
  uri: string,
  opts: { seed?: boolean; monitorCommands?: boolean; dbName?: string } = {},
): Promise<RunningSubgraph> {
  const conn = await connectDatabase({ uri, dbName: opts.dbName ?? uniqueDbName(mod.name), monitorCommands: opts.monitorCommands });
  const server = await mod.create(conn, createLogger(mod.name, 'silent'));
  if (opts.seed !== false) await mod.seed(conn);
  const running = await server.listen(0);
  return {
    url: running.url,
    conn,
    close: async () => {
      await running.close();
      await conn.close();
    },
  };
}

export interface GqlResponse<T = Record<string, any>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

export async function gql<T = Record<string, any>>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GqlResponse<T>> {
  // Business-logic tests send mutations as the city administrator unless they pass their own
  // Authorization header; queries stay anonymous. Access control is tested in test/security.
  const auth = headers.authorization === undefined && /^\s*mutation\b/.test(query) ? await adminHeader() : {};
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as GqlResponse<T>;
  return { ...body, status: res.status };
}

let admin: Promise<Record<string, string>> | undefined;
/** Headers of a city administrator (a token for the configured local key pair, cached per process). */
export function adminHeader(): Promise<Record<string, string>> {
  admin ??= authHeader('CITY_ADMIN', { subject: 'test:city-admin', ttl: '6h' });
  return admin;
}
