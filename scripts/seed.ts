/**
 * `npm run seed [-- --communities N --seed S]`: loads the demo data (the article's four 小区) into
 * every subgraph's database; with --communities, adds a deterministic synthetic city of N 小区
 * (DOMAIN.md §5.3) on top. Idempotent. Uses MONGODB_URI(_<NAME>) or the embedded engine's data under
 * DATA_DIR/db (stop `npm start` first: the engine refuses a data directory another engine holds).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Connection } from 'mongoose';
import { startEmbeddedMongo } from '../embedded-mongo/src';
import { loadConfigOrExit } from '../lib/config';
import { connectDatabase } from '../lib/db';
import { createLogger } from '../lib/logger';
import { dbNameFor } from '../lib/subgraph-module';
import { SUBGRAPHS } from './subgraphs';
import { seedSyntheticCity } from './synthetic/seed-city';

function parse() {
  const { values } = parseArgs({
    options: { communities: { type: 'string' }, seed: { type: 'string', default: '42' } },
    allowPositionals: false,
  });
  const communities = values.communities === undefined ? 0 : Number(values.communities);
  const seed = Number(values.seed);
  if (!Number.isInteger(communities) || communities < 0 || communities > 200000) {
    throw new Error(`--communities: expected an integer 0-200000, got "${values.communities}"`);
  }
  if (!Number.isInteger(seed)) throw new Error(`--seed: expected an integer, got "${values.seed}"`);
  return { communities, seed };
}

async function main() {
  const args = parse();
  const config = loadConfigOrExit();
  const dbPath = path.join(config.dataDir, 'db');
  let engine: Awaited<ReturnType<typeof startEmbeddedMongo>> | undefined;
  if (SUBGRAPHS.some((s) => !config.mongoUriFor(s.name))) engine = await startEmbeddedMongo({ port: 0, dbPath });
  const started = Date.now();
  const conns = new Map<string, Connection>();
  try {
    for (const mod of SUBGRAPHS) {
      const conn = await connectDatabase({
        uri: config.mongoUriFor(mod.name) ?? engine!.uri,
        dbName: dbNameFor(mod.name),
        patientMonitor: !config.mongoUriFor(mod.name),
      });
      conns.set(mod.name, conn);
      await mod.create(conn, createLogger(mod.name, 'silent'));
      console.log(`demo data ${mod.name}: ${await mod.seed(conn)} documents`);
    }
    if (args.communities > 0) {
      const report = await seedSyntheticCity(conns, { ...args, progress: (line) => console.log(line) });
      console.log(`synthetic city: ${report.communities} 小区 (seed ${args.seed}) in ${(report.totalMs / 1000).toFixed(1)} s`);
    }
    console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s${engine ? ` (data in ${dbPath})` : ''}`);
  } finally {
    for (const c of conns.values()) await c.close();
    await engine?.stop();
  }
}

main().catch((err) => {
  console.error(`seed failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
