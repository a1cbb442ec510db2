/**
 * `npm run start:subgraph -- <name>`: one bureau's subgraph alone (its own deployment). Uses
 * MONGODB_URI_<NAME> or MONGODB_URI; without either, an embedded engine with data under
 * DATA_DIR/<name>-db. Port: <NAME>_PORT or the subgraph's default.
 */
import path from 'node:path';
import { startEmbeddedMongo } from '../embedded-mongo/src';
import { loadConfigOrExit } from '../lib/config';
import { connectDatabase } from '../lib/db';
import { exitOnTerminationSignals } from '../lib/http';
import { createLogger } from '../lib/logger';
import { dbNameFor } from '../lib/subgraph-module';
import { findSubgraph, SUBGRAPHS } from './subgraphs';

async function main() {
  const name = process.argv[2];
  if (!name) {
    console.error(`usage: npm run start:subgraph -- <name>   (one of: ${SUBGRAPHS.map((s) => s.name).join(', ')})`);
    process.exit(2);
  }
  const config = loadConfigOrExit(process.env, 'start:subgraph');
  const mod = findSubgraph(name);
  let uri = config.mongoUriFor(name);
  let stopEngine: (() => Promise<void>) | undefined;
  if (!uri) {
    const engine = await startEmbeddedMongo({ port: 0, dbPath: path.join(config.dataDir, `${name}-db`) });
    uri = engine.uri;
    stopEngine = engine.stop;
  }
  const conn = await connectDatabase({ uri, dbName: dbNameFor(name) });
  const logger = createLogger(name, config.LOG_LEVEL);
  const server = await mod.create(conn, logger);
  if (await mod.isEmpty(conn)) await mod.seed(conn);
  const running = await server.listen(config.subgraphPort(name, mod.defaultPort), config.HOST);
  console.log(`subgraph ${name} (${mod.owner}) at ${running.url}`);
  // SIGTERM/SIGINT: refuse new connections, let requests in flight complete (SHUTDOWN_GRACE_MS), then
  // close the database and exit 0 (lib/http.ts).
  exitOnTerminationSignals({
    logger,
    graceMs: config.SHUTDOWN_GRACE_MS,
    inFlight: running.inFlight,
    stop: async () => {
      await running.close();
      await conn.close();
      await stopEngine?.();
    },
  });
}

main().catch((err) => {
  console.error(`start:subgraph failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
