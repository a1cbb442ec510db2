/**
 * Real MongoDB topologies (lib/db.ts, docs/deployment.md): read preference, write concern and
 * retryable writes from the configuration, and `withTransaction`. No replica set or mongos can run
 * on these machines, so the transactional path is tested with a fake connection whose `hello`
 * answers like a replica set member or a mongos and whose session records what it was asked; the
 * standalone path runs on the embedded engine.
 */
import type { ClientSession } from 'mongoose';
import { ConfigError, loadConfig, mongoTopologyFromEnv, unhonouredVariables } from '../../lib/config';
import { connectDatabase, supportsTransactions, withTransaction, type TransactionCapable } from '../../lib/db';
import { startTestDatabase, uniqueDbName, type Engine } from '../helpers/subgraph';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestDatabase();
});
afterAll(async () => engine?.stop());

describe('read preference, write concern and retryable writes', () => {
  test('the MONGODB_* variables become driver options; unset ones are left to the URI and the driver', () => {
    expect(mongoTopologyFromEnv({ MONGODB_READ_PREFERENCE: 'secondaryPreferred', MONGODB_WRITE_CONCERN: 'majority', MONGODB_RETRY_WRITES: 'false' })).toEqual({
      readPreference: 'secondaryPreferred',
      writeConcern: 'majority',
      retryWrites: false,
    });
    expect(mongoTopologyFromEnv({ MONGODB_WRITE_CONCERN: '2' })).toEqual({ writeConcern: 2 });
    expect(mongoTopologyFromEnv({})).toEqual({});
  });

  test('invalid values are refused with the variable named, at start-up like every other variable', () => {
    expect(() => mongoTopologyFromEnv({ MONGODB_WRITE_CONCERN: 'all' })).toThrow(ConfigError);
    expect(() => mongoTopologyFromEnv({ MONGODB_READ_PREFERENCE: 'secondaries' })).toThrow(/MONGODB_READ_PREFERENCE/);
    expect(() => loadConfig({ MONGODB_WRITE_CONCERN: 'all' })).toThrow(/MONGODB_WRITE_CONCERN: must be majority or a number/);
  });

  test('the gateway refuses the database topology variables, a subgraph refuses the rate-limit store', () => {
    expect(unhonouredVariables({ MONGODB_WRITE_CONCERN: 'majority', MONGODB_READ_PREFERENCE: 'primary' }, 'start:gateway')).toHaveLength(2);
    expect(unhonouredVariables({ RATE_LIMIT_STORE: 'mongodb', RATE_LIMIT_MONGODB_URI: 'mongodb://db/' }, 'start:subgraph')).toHaveLength(2);
    expect(unhonouredVariables({ RATE_LIMIT_STORE: 'mongodb', RATE_LIMIT_MONGODB_URI: 'mongodb://db/' }, 'start:gateway')).toEqual([]);
  });

  test('RATE_LIMIT_STORE=mongodb without a MongoDB to keep the counters in is refused', () => {
    expect(() => loadConfig({ RATE_LIMIT_STORE: 'mongodb' })).toThrow(/RATE_LIMIT_MONGODB_URI: required when RATE_LIMIT_STORE=mongodb/);
    expect(loadConfig({ RATE_LIMIT_STORE: 'mongodb', RATE_LIMIT_MONGODB_URI: 'mongodb://db:27017/' }).gatewaySecurity).toMatchObject({ rateLimitStore: 'mongodb', rateLimitMongoUri: 'mongodb://db:27017/' });
    expect(loadConfig({}).gatewaySecurity.rateLimitStore).toBe('memory');
  });

  test('a connection opened with majority writes and secondary-preferred reads carries them and works on the embedded engine', async () => {
    const conn = await connectDatabase({ uri: engine.uri, dbName: uniqueDbName('topology'), topology: { readPreference: 'secondaryPreferred', writeConcern: 'majority' } });
    try {
      const options = conn.getClient().options as unknown as { readPreference: { mode: string }; writeConcern?: { w?: unknown } };
      expect([options.readPreference.mode, options.writeConcern?.w]).toEqual(['secondaryPreferred', 'majority']);
      await conn.db!.collection('t').insertOne({ _id: 'a' as never, n: 1 });
      expect(await conn.db!.collection('t').findOne({ _id: 'a' as never })).toEqual({ _id: 'a', n: 1 });
    } finally {
      await conn.close();
    }
  });
});

describe('withTransaction', () => {
  test('on the embedded engine (no replica set) fn runs once without a session and its writes stay', async () => {
    const conn = await connectDatabase({ uri: engine.uri, dbName: uniqueDbName('txn') });
    try {
      expect(await supportsTransactions(conn)).toBe(false);
      const sessions: (ClientSession | null)[] = [];
      const result = await withTransaction(conn, async (session) => {
        sessions.push(session);
        await conn.db!.collection('a').insertOne({ _id: 'x' as never }, session ? { session } : {});
        await conn.db!.collection('b').insertOne({ _id: 'y' as never }, session ? { session } : {});
        return 'done';
      });
      expect([result, sessions]).toEqual(['done', [null]]);
      expect(await conn.db!.collection('a').countDocuments()).toBe(1);
      expect(await conn.db!.collection('b').countDocuments()).toBe(1);
      // The standalone path has no rollback: an error after the first write leaves that write.
      await expect(
        withTransaction(conn, async () => {
          await conn.db!.collection('a').insertOne({ _id: 'z' as never });
          throw new Error('second write refused');
        }),
      ).rejects.toThrow('second write refused');
      expect(await conn.db!.collection('a').countDocuments()).toBe(2);
    } finally {
      await conn.close();
    }
  });

  /** A connection whose server answers `hello` with `hello`, and a session that records its calls. */
  function fakeConnection(hello: Record<string, unknown>) {
    const calls: string[] = [];
    const session = {
      async withTransaction(fn: () => Promise<unknown>) {
        calls.push('withTransaction');
        try {
          await fn();
          calls.push('commit');
        } catch (e) {
          calls.push('abort');
          throw e;
        }
      },
      async endSession() {
        calls.push('endSession');
      },
    } as unknown as ClientSession;
    const conn: TransactionCapable = {
      db: { command: async (cmd) => (calls.push(`command:${Object.keys(cmd)[0]}`), { ok: 1, ...hello }) },
      startSession: async () => (calls.push('startSession'), session),
    };
    return { conn, session, calls };
  }

  test.each([
    ['a replica set member (hello names a setName)', { setName: 'rs0', isWritablePrimary: true }],
    ['a mongos (hello says isdbgrid)', { msg: 'isdbgrid' }],
  ])('on %s fn runs inside a session transaction, gets the session and its result is returned', async (_label, hello) => {
    const { conn, session, calls } = fakeConnection(hello);
    let seen: ClientSession | null = null;
    const result = await withTransaction(conn, async (s) => {
      seen = s;
      return 42;
    });
    expect([result, seen === session]).toEqual([42, true]);
    expect(calls).toEqual(['command:hello', 'startSession', 'withTransaction', 'commit', 'endSession']);
    // The server is asked once per connection.
    await withTransaction(conn, async () => 1);
    expect(calls.filter((c) => c === 'command:hello')).toHaveLength(1);
  });

  test('on a replica set an error in fn aborts the transaction, ends the session and reaches the caller', async () => {
    const { conn, calls } = fakeConnection({ setName: 'rs0' });
    await expect(
      withTransaction(conn, async () => {
        throw new Error('duplicate 小区');
      }),
    ).rejects.toThrow('duplicate 小区');
    expect(calls).toEqual(['command:hello', 'startSession', 'withTransaction', 'abort', 'endSession']);
  });

  test('a standalone server (hello without setName or isdbgrid) gets no session', async () => {
    const { conn, calls } = fakeConnection({ isWritablePrimary: true });
    expect(await withTransaction(conn, async (s) => s)).toBeNull();
    expect(calls).toEqual(['command:hello']);
  });
});
