/**
 * Durability: journal + snapshot/compaction round trip, lock file, and a kill -9 crash test with
 * a torn journal tail. Engine-only (skipped when MONGODB_URI points at a real server).
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MongoClient } from 'mongodb';
import { startEmbeddedMongo } from '../src/index';
import { REAL_URI } from './helpers';

const d = REAL_URI ? describe.skip : describe;
if (REAL_URI) {
  // eslint-disable-next-line no-console
  console.log('durability tests skipped: MONGODB_URI is set and they exercise the embedded engine\'s own files');
}

const REPO = path.resolve(__dirname, '..', '..');
const tmpDirs: string[] = [];
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emb-mongo-'));
  tmpDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

d('durability', () => {
  test('journal replay, snapshot + compaction, recovery round trip', async () => {
    const dir = tmpDir();
    const e1 = await startEmbeddedMongo({ dbPath: dir, snapshotEveryRecords: 50 });
    expect(e1.recovery).toMatchObject({ records: 0, truncatedBytes: 0, snapshotDocs: 0 });
    let client = await MongoClient.connect(e1.uri);
    let c = client.db('app').collection('items');
    await c.createIndex({ sku: 1 }, { unique: true });
    for (let i = 0; i < 120; i++) await c.insertOne({ sku: `s${i}`, n: i });
    await c.updateMany({ n: { $lt: 10 } }, { $set: { low: true } });
    await c.deleteOne({ sku: 's5' });
    await client.db('app').collection('other').insertOne({ x: 1 });
    await client.db('app').collection('dropme').insertOne({ x: 1 });
    await client.db('app').collection('dropme').drop();
    // several snapshots happened (every 50 records): the journal was compacted
    const logSize = fs.statSync(path.join(dir, 'journal.log')).size;
    expect(fs.existsSync(path.join(dir, 'snapshot.bson'))).toBe(true);
    expect(logSize).toBeLessThan(60 * 200);
    await client.close();
    // simulate a crash: no clean stop -> terminate the worker without snapshot. We cannot
    // kill a worker "hard" here, so stop() cleanly, then verify and also exercise a replay
    // by writing more after a restart and stopping without compaction in the crash test.
    await e1.stop();
    expect(fs.existsSync(path.join(dir, 'mongod.lock'))).toBe(false);

    const e2 = await startEmbeddedMongo({ dbPath: dir });
    expect(e2.recovery!.snapshotDocs).toBe(120); // clean stop snapshots everything
    expect(e2.recovery!.records).toBe(0);
    client = await MongoClient.connect(e2.uri);
    c = client.db('app').collection('items');
    expect(await c.countDocuments()).toBe(119);
    expect(await c.countDocuments({ low: true })).toBe(9);
    expect(await c.findOne({ sku: 's5' })).toBeNull();
    expect((await c.indexes()).map((i) => i.name)).toEqual(['_id_', 'sku_1']);
    expect((await c.insertOne({ sku: 's7' }).catch((e) => e)).code).toBe(11000);
    expect((await client.db('app').listCollections().toArray()).map((x) => x.name).sort()).toEqual(['items', 'other']);
    await client.close();
    await e2.stop();
  });

  test('one fdatasync per command: a 1,000-document insertMany shares one', async () => {
    const dir = tmpDir();
    const e = await startEmbeddedMongo({ dbPath: dir });
    const client = await MongoClient.connect(e.uri);
    const db = client.db('app');
    const s0 = await db.command({ embeddedEngineStats: 1 });
    await db.collection('batch').insertMany(Array.from({ length: 1000 }, (_, i) => ({ i })));
    const s1 = await db.command({ embeddedEngineStats: 1 });
    expect(s1.journalSyncs - s0.journalSyncs).toBe(1); // implicit create + 1,000 inserts: one command
    expect(s1.journalRecords - s0.journalRecords).toBe(1001);
    await db.collection('batch').insertOne({ i: -1 });
    expect((await db.command({ embeddedEngineStats: 1 })).journalSyncs - s1.journalSyncs).toBe(1);
    await client.close();
    await e.stop();
  });

  test('a stale journal (crash between snapshot rename and journal swap) is discarded; a corrupt snapshot refuses to start', async () => {
    const dir = tmpDir();
    const e1 = await startEmbeddedMongo({ dbPath: dir });
    const client = await MongoClient.connect(e1.uri);
    const c = client.db('app').collection('s');
    await c.insertMany([{ n: 1 }, { n: 2 }]);
    const oldJournal = fs.readFileSync(path.join(dir, 'journal.log')); // generation 1, two inserts
    await c.deleteOne({ n: 1 });
    await e1.snapshot(); // snapshot holds generation 1 (n: 2 only); journal is now generation 2
    await client.close();
    await e1.stop();
    // put the generation-1 journal back, as if the process died right after the snapshot rename
    fs.writeFileSync(path.join(dir, 'journal.log'), oldJournal);
    const e2 = await startEmbeddedMongo({ dbPath: dir });
    expect(e2.recovery!.staleJournalDiscarded).toBe(true);
    const c2 = await MongoClient.connect(e2.uri);
    expect((await c2.db('app').collection('s').find({}, { projection: { _id: 0 } }).toArray())).toEqual([{ n: 2 }]);
    await c2.close();
    await e2.stop();
    // flip one byte in the snapshot: the engine must refuse rather than start with lost data
    const snap = fs.readFileSync(path.join(dir, 'snapshot.bson'));
    snap[snap.length - 10] ^= 0xff;
    fs.writeFileSync(path.join(dir, 'snapshot.bson'), snap);
    await expect(startEmbeddedMongo({ dbPath: dir })).rejects.toThrow(/snapshot .* is corrupt/);
    expect(fs.existsSync(path.join(dir, 'mongod.lock'))).toBe(false);
  });

  test('a second engine refuses a locked dbPath; a stale lock is taken over', async () => {
    const dir = tmpDir();
    const e1 = await startEmbeddedMongo({ dbPath: dir });
    await expect(startEmbeddedMongo({ dbPath: dir })).rejects.toThrow(/locked by a running engine \(pid \d+/);
    await e1.stop();
    // stale lock from a pid that does not exist any more
    fs.writeFileSync(path.join(dir, 'mongod.lock'), '2147483646');
    const e2 = await startEmbeddedMongo({ dbPath: dir });
    expect(fs.readFileSync(path.join(dir, 'mongod.lock'), 'utf8')).toBe(String(process.pid));
    await e2.stop();
  });

  test('stop() frees the port', async () => {
    const e1 = await startEmbeddedMongo({});
    const port = e1.port;
    await e1.stop();
    const e2 = await startEmbeddedMongo({ port });
    expect(e2.port).toBe(port);
    await e2.stop();
  });

  test('CLI under tsx (as `npm run db`): prints the URI, SIGTERM stops cleanly and releases the lock', async () => {
    const dir = tmpDir();
    const run = () => {
      const child = spawn(path.join(REPO, 'node_modules/.bin/tsx'), [path.join(REPO, 'embedded-mongo/src/cli.ts'), '--port', '0', '--dbpath', dir], {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const uri = new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (b) => {
          out += b;
          const m = out.match(/mongodb:\/\/127\.0\.0\.1:\d+/);
          if (m) resolve(m[0]);
        });
        child.once('exit', (code) => reject(new Error(`cli exited early (${code})`)));
      });
      return { child, uri };
    };
    const a = run();
    let client = await MongoClient.connect(await a.uri);
    await client.db('cli').collection('x').insertOne({ hello: 'world' });
    await client.close();
    const code = await new Promise<number | null>((r) => {
      a.child.once('exit', r);
      a.child.kill('SIGTERM');
    });
    expect(code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'mongod.lock'))).toBe(false);
    const b = run();
    client = await MongoClient.connect(await b.uri);
    expect(await client.db('cli').collection('x').findOne({}, { projection: { _id: 0 } })).toEqual({ hello: 'world' });
    await client.close();
    await new Promise((r) => {
      b.child.once('exit', r);
      b.child.kill('SIGINT');
    });
  }, 120_000);

  test('crash: kill -9 during acknowledged writes, torn tail cut, all acked writes present, unique index holds', async () => {
    const dir = tmpDir();
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'embedded-mongo/src/cli.ts'), '--port', '0', '--dbpath', dir], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (b) => (stderr += b));
    const uri = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (b) => {
        out += b;
        const m = out.match(/mongodb:\/\/127\.0\.0\.1:\d+/);
        if (m) resolve(m[0]);
      });
      child.once('exit', (code) => reject(new Error(`engine exited early (${code}): ${stderr}`)));
    });
    const client = new MongoClient(uri, { maxPoolSize: 4 });
    await client.connect();
    const c = client.db('crash').collection('events');
    await c.createIndex({ seq: 1 }, { unique: true });
    const acked: number[] = [];
    let stop = false;
    // Four concurrent writers stream acknowledged inserts (single docs and small batches).
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const seq = w * 1_000_000 + i;
        try {
          if (i % 5 === 0) {
            await c.insertMany([{ seq, w }, { seq: seq + 500_000, w }]);
            acked.push(seq, seq + 500_000);
          } else {
            await c.insertOne({ seq, w });
            acked.push(seq);
          }
        } catch {
          return; // connection died with the engine: that write was not acknowledged
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    // let the writers get going (bounded wait: the machine may be loaded)
    for (let t = 0; t < 100 && acked.length < 200; t++) await new Promise((r) => setTimeout(r, 50));
    const exited = new Promise((r) => child.once('exit', r)); // registered before the kill
    child.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    await exited;
    await client.close(true).catch(() => undefined);
    expect(acked.length).toBeGreaterThan(20);

    // torn tail: garbage after the last complete record
    const garbage = Buffer.from('\x13\x00\x00\x00garbage-torn-tail!!');
    fs.appendFileSync(path.join(dir, 'journal.log'), garbage);
    expect(fs.readFileSync(path.join(dir, 'mongod.lock'), 'utf8')).toBe(String(child.pid)); // stale lock left behind

    const e = await startEmbeddedMongo({ dbPath: dir });
    expect(e.recovery!.truncatedBytes).toBeGreaterThanOrEqual(garbage.length);
    expect(e.recovery!.records).toBeGreaterThanOrEqual(acked.length);
    const c2 = await MongoClient.connect(e.uri);
    const col = c2.db('crash').collection('events');
    const present = new Set((await col.find({}, { projection: { seq: 1 } }).toArray()).map((x) => x.seq as number));
    const missing = acked.filter((s) => !present.has(s));
    expect(missing).toEqual([]);
    expect((await col.insertOne({ seq: acked[0] }).catch((err) => err)).code).toBe(11000);
    expect((await col.indexes()).map((i) => i.name)).toEqual(['_id_', 'seq_1']);
    await c2.close();
    await e.stop();
    // after a clean stop the journal is compacted and recovery is clean
    const again = await startEmbeddedMongo({ dbPath: dir });
    expect(again.recovery).toMatchObject({ records: 0, truncatedBytes: 0 });
    await again.stop();
  }, 120_000);
});
