/**
 * Standalone engine: `npm run db -- --port 27017 --dbpath .data/db`
 * Prints the connection URI and stops cleanly on SIGINT / SIGTERM.
 */
import { startEmbeddedMongo } from './index';

function parseArgs(argv: string[]): { port: number; dbPath?: string; memory: boolean } {
  let port = 27017;
  let dbPath: string | undefined = '.data/db';
  let memory = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`missing value for ${a}`);
      return v;
    };
    if (a === '--port') port = Number(next());
    else if (a.startsWith('--port=')) port = Number(a.slice(7));
    else if (a === '--dbpath' || a === '--dbPath') dbPath = next();
    else if (a.startsWith('--dbpath=')) dbPath = a.slice(9);
    else if (a === '--memory' || a === '--inMemory') memory = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: npm run db -- [--port 27017] [--dbpath .data/db | --memory]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${port}`);
  return { port, dbPath: memory ? undefined : dbPath, memory };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const db = await startEmbeddedMongo({ port: args.port, dbPath: args.dbPath });
  const where = args.dbPath ? `dbpath ${args.dbPath}` : 'in memory';
  if (db.recovery) {
    const r = db.recovery;
    process.stderr.write(
      `embedded-mongo: recovered ${r.snapshotDocs} snapshot docs + ${r.records} journal records in ${r.ms} ms` +
        (r.truncatedBytes ? `, cut ${r.truncatedBytes} torn bytes` : '') +
        '\n',
    );
  }
  process.stderr.write(`embedded-mongo: listening on 127.0.0.1:${db.port} (${where})\n`);
  process.stdout.write(`${db.uri}\n`);
  let stopping = false;
  const shutdown = (sig: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`embedded-mongo: ${sig}, stopping\n`);
    db.stop().then(
      () => process.exit(0),
      (e: Error) => {
        process.stderr.write(`embedded-mongo: stop failed: ${e.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((e: Error) => {
  process.stderr.write(`embedded-mongo: ${e.message}\n`);
  process.exit(1);
});
