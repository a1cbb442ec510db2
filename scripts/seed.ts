/**
 * `npm run seed`: loads the demo data (the article's four 小区) into every subgraph's database.
 * Idempotent. Uses MONGODB_URI(_<NAME>) or the embedded engine's data under DATA_DIR/db (stop
 * `npm start` first: the engine refuses a data directory another engine holds).
 */
import path from 'node:path';
import { startEmbeddedMongo } from '../embedded-mongo/src';
import { loadConfigOrExit } from '../lib/config';
import { connectDatabase } from '../lib/db';
import { dbNameFor } from '../lib/subgraph-module';
import { SUBGRAPHS } from './subgraphs';

async function main() {
  const config = loadConfigOrExit();
  let engine: Awaited<ReturnType<typeof startEmbeddedMongo>> | undefined;
  if (SUBGRAPHS.some((s) => !config.mongoUriFor(s.name))) {
    engine = await startEmbeddedMongo({ port: 0, dbPath: path.join(config.dataDir, 'db') });
  }
  const started = Date.now();
  try {
    for (const mod of SUBGRAPHS) {
      const conn = await connectDatabase({ uri: config.mongoUriFor(mod.name) ?? engine!.uri, dbName: dbNameFor(mod.name) });
      try {
        await mod.create(conn, (await import('../lib/logger')).createLogger(mod.name, 'silent'));
        const n = await mod.seed(conn);
        console.log(`seeded ${mod.name}: ${n} documents`);
      } finally {
        await conn.close();
      }
    }
    console.log(`demo data loaded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await engine?.stop();
  }
}

main().catch((err) => {
  console.error(`seed failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
