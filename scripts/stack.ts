/**
 * Starts the whole federation in one process: the embedded engine (unless a MongoDB URI is given),
 * every subgraph on its own port with its own database, and the gateway. Used by `npm start`, the
 * end-to-end tests and the benchmarks. Tests get the article's four 小区 only, unless they ask for
 * a synthetic city (`demoCity`); `npm start` asks for one.
 */
import path from 'node:path';
import type { Connection } from 'mongoose';
import { startEmbeddedMongo } from '../embedded-mongo/src';
import { createGatewayServer } from '../gateway/server';
import type { GatewayTuning } from '../gateway/tuning';
import { connectDatabase } from '../lib/db';
import { createLogger, type Logger } from '../lib/logger';
import { registerEmbeddedEngineMetrics } from '../lib/metrics';
import { dbNameFor, type SubgraphModule } from '../lib/subgraph-module';
import { SUBGRAPHS } from './subgraphs';
import { ensureSyntheticCity, readSyntheticCityMarker, seedSyntheticCity, type SeedReport, type SyntheticCityMarker } from './synthetic/seed-city';

export const DEFAULT_SUPERGRAPH = path.join(__dirname, '../schema/supergraph.graphql');

export interface StackOptions {
  /** Embedded engine data directory; null = in memory. Ignored when mongoUriFor gives a URI. */
  dbPath?: string | null;
  /** MongoDB URI per subgraph (real MongoDB); undefined = embedded engine. */
  mongoUriFor?: (subgraph: string) => string | undefined;
  host?: string;
  gatewayPort?: number;
  /** Port per subgraph; default 0 (any free port). */
  subgraphPort?: (mod: SubgraphModule) => number;
  seed?: 'if-empty' | 'always' | 'never';
  logLevel?: string;
  monitorCommands?: boolean;
  supergraphPath?: string;
  /** Serve a contract's API only (schema/contracts/<name>.supergraph.graphql). */
  contract?: string;
  subgraphs?: SubgraphModule[];
  /** Gateway timeouts, dedup, caches (gateway/tuning.ts); defaults otherwise. */
  gatewayTuning?: Partial<GatewayTuning>;
  /**
   * A synthetic city next to the article's four 小区 (scripts/synthetic/seed-city.ts), dated
   * relative to the product clock. With seed 'always' it is rewritten on every start; with
   * 'if-empty' it is loaded when the databases hold no synthetic city yet and regenerated with the
   * recorded size and seed when it has gone stale (a size of 0 chosen by `npm run seed` is kept).
   * Default: none (tests stay small and fast).
   */
  demoCity?: { communities: number; seed: number };
  /** Called once the data is in, before services listen (e.g. synthetic seed). */
  beforeListen?: (conns: Map<string, Connection>) => Promise<void>;
}

export interface RunningStack {
  gatewayUrl: string;
  engineUri?: string;
  subgraphs: { name: string; url: string; conn: Connection; close(): Promise<void> }[];
  /** With `demoCity`: the synthetic city in the databases, and the seed report if this start wrote it. */
  syntheticCity?: { marker: SyntheticCityMarker | null; written: SeedReport | null };
  logger: Logger;
  stop(): Promise<void>;
}

export async function startStack(opts: StackOptions = {}): Promise<RunningStack> {
  const logger = createLogger('stack', opts.logLevel ?? 'info');
  const host = opts.host ?? '127.0.0.1';
  const mods = opts.subgraphs ?? SUBGRAPHS;
  const stops: { name: string; stop: () => Promise<void> }[] = [];
  const onStop = (name: string, stop: () => Promise<void>) => stops.push({ name, stop });
  const stopAll = async () => {
    for (const s of stops.reverse()) {
      logger.debug({ step: s.name }, 'stopping');
      await s.stop().catch((err) => logger.error({ err, step: s.name }, 'error while stopping'));
    }
  };
  try {
    let engineUri: string | undefined;
    const needsEngine = mods.some((m) => !opts.mongoUriFor?.(m.name));
    if (needsEngine) {
      const engine = await startEmbeddedMongo({ port: 0, dbPath: opts.dbPath ?? undefined });
      engineUri = engine.uri;
      // The engine runs on a worker thread of this process: its counters join the process's metrics.
      registerEmbeddedEngineMetrics(engine);
      onStop('embedded engine', () => engine.stop());
    }
    const conns = new Map<string, Connection>();
    for (const mod of mods) {
      const uri = opts.mongoUriFor?.(mod.name) ?? engineUri!;
      const embedded = !opts.mongoUriFor?.(mod.name);
      const conn = await connectDatabase({ uri, dbName: dbNameFor(mod.name), monitorCommands: opts.monitorCommands, patientMonitor: embedded });
      onStop(`${mod.name} database connection`, () => conn.close());
      conns.set(mod.name, conn);
    }
    const seedMode = opts.seed ?? 'if-empty';
    const servers = [];
    for (const mod of mods) {
      const conn = conns.get(mod.name)!;
      const server = await mod.create(conn, createLogger(mod.name, opts.logLevel ?? 'info'));
      if (seedMode === 'always' || (seedMode === 'if-empty' && (await mod.isEmpty(conn)))) {
        const n = await mod.seed(conn);
        logger.info({ subgraph: mod.name, documents: n }, 'seeded demo data');
      }
      servers.push({ mod, server, conn });
    }
    let syntheticCity: RunningStack['syntheticCity'];
    if (opts.demoCity && seedMode !== 'never') {
      const city = { ...opts.demoCity, subgraphs: mods };
      const written = seedMode === 'always' ? await seedSyntheticCity(conns, city) : await ensureSyntheticCity(conns, city);
      if (written) {
        const documents = Object.values(written.documents).reduce((a, b) => a + b, 0);
        const secondsBySubgraph = Object.fromEntries(Object.entries(written.ms).map(([name, ms]) => [name, +(ms / 1000).toFixed(1)]));
        logger.info({ communities: written.communities, documents, seconds: +(written.totalMs / 1000).toFixed(1), documentsBySubgraph: written.documents, secondsBySubgraph }, 'seeded synthetic city');
      }
      syntheticCity = { marker: (await readSyntheticCityMarker(conns)).marker, written };
    }
    await opts.beforeListen?.(conns);
    const subgraphs: RunningStack['subgraphs'] = [];
    for (const { mod, server, conn } of servers) {
      const running = await server.listen(opts.subgraphPort?.(mod) ?? 0, host);
      onStop(`${mod.name} subgraph`, () => running.close());
      subgraphs.push({ name: mod.name, url: running.url, conn, close: running.close });
    }
    const gateway = createGatewayServer({
      supergraphPath: opts.supergraphPath ?? DEFAULT_SUPERGRAPH,
      contract: opts.contract,
      subgraphUrls: Object.fromEntries(subgraphs.map((s) => [s.name, s.url])),
      logger: createLogger('gateway', opts.logLevel ?? 'info'),
      tuning: opts.gatewayTuning,
    });
    const gw = await gateway.listen(opts.gatewayPort ?? 0, host);
    onStop('gateway', () => gw.close());
    return { gatewayUrl: gw.url, engineUri, subgraphs, syntheticCity, logger, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
