/**
 * `npm run stats:rebuild [-- --subgraph NAME]`: recomputes every statistics rollup from the raw rows,
 * in each subgraph's own database (or only NAME's), with a progress line per step. Write paths keep
 * the rollups current on their own; run this after loading data behind the graph's back (a restore,
 * a bulk import straight into MongoDB) or to check them (the answers must not change).
 * Uses MONGODB_URI(_<NAME>) or the embedded engine's data under DATA_DIR/db (stop `npm start` first:
 * the engine refuses a data directory another engine holds).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startEmbeddedMongo } from '../embedded-mongo/src';
import { loadConfigOrExit } from '../lib/config';
import { connectDatabase } from '../lib/db';
import { createLogger } from '../lib/logger';
import { dbNameFor } from '../lib/subgraph-module';
import { SUBGRAPHS } from './subgraphs';

async function main() {
  const { values } = parseArgs({ options: { subgraph: { type: 'string' } }, allowPositionals: false });
  const config = loadConfigOrExit(process.env, 'seed');
  const names = SUBGRAPHS.map((s) => s.name);
  if (values.subgraph !== undefined && !names.includes(values.subgraph)) {
    throw new Error(`--subgraph: expected one of ${names.join(', ')}, got "${values.subgraph}"`);
  }
  const mods = SUBGRAPHS.filter((s) => (values.subgraph === undefined || s.name === values.subgraph) && s.rebuildStats);
  if (mods.length === 0) {
    console.log(values.subgraph ? `${values.subgraph} keeps no statistics rollups: nothing to rebuild` : 'no subgraph keeps statistics rollups: nothing to rebuild');
    return;
  }
  const dbPath = path.join(config.dataDir, 'db');
  const engine = mods.some((s) => !config.mongoUriFor(s.name)) ? await startEmbeddedMongo({ port: 0, dbPath }) : undefined;
  const started = performance.now();
  try {
    for (const mod of mods) {
      const conn = await connectDatabase({ uri: config.mongoUriFor(mod.name) ?? engine!.uri, dbName: dbNameFor(mod.name), patientMonitor: !config.mongoUriFor(mod.name) });
      try {
        await mod.create(conn, createLogger(mod.name, 'silent')); // registers the models and their indexes
        const t = performance.now();
        const n = await mod.rebuildStats!(conn, (line) => console.log(`${mod.name}: ${line}`));
        console.log(`${mod.name}: ${n} rollup documents in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      } finally {
        await conn.close();
      }
    }
    console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s${engine ? ` (data in ${dbPath})` : ''}`);
  } finally {
    await engine?.stop();
  }
}

main().catch((err) => {
  console.error(`stats:rebuild failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
