/**
 * `npm run seed [-- --communities N --seed S]`: loads the demo data into every subgraph's database:
 * the article's four 小区 and, next to them, a deterministic synthetic city of N 小区 (default 400,
 * seed 42; docs/domain.md, "The synthetic city") dated relative to the product clock. It replaces
 * an earlier synthetic city; `--communities 0` leaves the article's 小区 only. Idempotent. Uses
 * MONGODB_URI(_<NAME>) or the embedded engine's data under DATA_DIR/db (stop `npm start` first: the
 * engine refuses a data directory another engine holds).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Connection } from 'mongoose';
import { startEmbeddedMongo } from '../embedded-mongo/src';
import { cstDate, now } from '../lib/clock';
import { loadConfigOrExit } from '../lib/config';
import { connectDatabase } from '../lib/db';
import { createLogger } from '../lib/logger';
import { dbNameFor } from '../lib/subgraph-module';
import { SUBGRAPHS } from './subgraphs';
import { DEMO_CITY, seedSyntheticCity } from './synthetic/seed-city';

function parse() {
  const { values } = parseArgs({
    options: { communities: { type: 'string', default: String(DEMO_CITY.communities) }, seed: { type: 'string', default: String(DEMO_CITY.seed) } },
    allowPositionals: false,
  });
  const communities = Number(values.communities);
  const seed = Number(values.seed);
  if (!/^\d+$/.test(values.communities!) || communities > 200000) {
    throw new Error(`--communities: expected an integer 0-200000, got "${values.communities}"`);
  }
  if (!Number.isInteger(seed)) throw new Error(`--seed: expected an integer, got "${values.seed}"`);
  return { communities, seed };
}

async function main() {
  const args = parse();
  const config = loadConfigOrExit(process.env, 'seed');
  const dbPath = path.join(config.dataDir, 'db');
  let engine: Awaited<ReturnType<typeof startEmbeddedMongo>> | undefined;
  if (SUBGRAPHS.some((s) => !config.mongoUriFor(s.name))) engine = await startEmbeddedMongo({ port: 0, dbPath });
  const started = performance.now();
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
    // Also with 0: it removes an earlier synthetic city and records that none is wanted.
    const report = await seedSyntheticCity(conns, { ...args, progress: (line) => console.log(line) });
    console.log(
      args.communities > 0
        ? `synthetic city: ${report.communities} 小区 (seed ${args.seed}, as of ${cstDate(now())}) in ${(report.totalMs / 1000).toFixed(1)} s`
        : 'synthetic city: none (the article\'s four 小区 only)',
    );
    console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s${engine ? ` (data in ${dbPath})` : ''}`);
  } finally {
    for (const c of conns.values()) await c.close();
    await engine?.stop();
  }
}

main().catch((err) => {
  console.error(`seed failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
