/**
 * Every mutation is one transaction on a server that supports them (lib/subgraph-server.ts
 * `transactionalMutations`, lib/db.ts `runInTransaction`); on the embedded engine (a standalone
 * server) mutations run as plain writes, as before.
 *
 * No replica set can run here. The transactional path is driven through a wire recorder in front of
 * the embedded engine that plays a replica set member's part in transactions (test/replicas/
 * transaction-wire.ts): it sees exactly what the driver sends and answers commits, aborts and
 * NoSuchTransaction like a server, but cannot roll writes back. So these tests check that every
 * command a mutation sends, raw driver calls included, belongs to one transaction, and that a
 * failure aborts it and never commits it; that a real server then leaves nothing behind is checked
 * only against a real replica set (MONGODB_URI=mongodb://…/?replicaSet=…, the last test).
 */
import type { GraphQLResolveInfo } from 'graphql';
import type { Connection } from 'mongoose';
import { AuditCollector } from '../../lib/auth/audit';
import { assumeTransactionSupport, connectDatabase, runInTransaction, supportsTransactions, TRANSACTION_ATTEMPTS, TRANSACTION_BEGIN_COLLECTION } from '../../lib/db';
import { createLogger } from '../../lib/logger';
import { transactionalMutations } from '../../lib/subgraph-server';
import { DAY_MS, now } from '../../lib/clock';
import { subgraph as elderly } from '../../subgraphs/elderly';
import { registerModels } from '../../subgraphs/elderly/models';
import { DEMO } from '../../subgraphs/elderly/seed';
import { gql, startSubgraph, startTestDatabase, uniqueDbName, type Engine, type RunningSubgraph } from '../helpers/subgraph';
import { startTransactionWire, type TransactionWire, type WireCommand } from '../replicas/transaction-wire';

const onEmbeddedEngine = process.env.MONGODB_URI ? describe.skip : describe;
const WRITES = new Set(['insert', 'update', 'delete', 'findAndModify']);
const HEARTBEATS = new Set(['hello', 'isMaster', 'ismaster', 'ping', 'endSessions', 'buildInfo']);
const keyOf = (c: WireCommand) => (c.txnNumber === null ? null : `${c.lsid}:${c.txnNumber}`);
const VISIT = `mutation($e: ID!, $k: String) { recordHomeVisit(elderId: $e, mode: IN_PERSON, occasion: ROUTINE, outcome: OK, clientKey: $k) { nextVisitDue visit { id } } }`;

let engine: Engine;
beforeAll(async () => {
  engine = await startTestDatabase();
});
afterAll(async () => engine?.stop());

const REGISTER = `mutation($input: RegisterElderlyResidentInput!) { registerElderlyResident(input: $input) { id } }`;
/** Registers an older resident in the demo 小区 东方瑞园 (itself a mutation) and returns its id. */
async function registerElder(url: string, clientKey: string): Promise<string> {
  const consent = new Date(now().getTime() - DAY_MS).toISOString();
  const res = await gql(url, REGISTER, { input: { clientKey, communityId: DEMO.dongfang, ageBand: 'AGE_80_89', livingArrangement: 'LIVING_ALONE', consentRecordedAt: consent } });
  if (res.errors) throw new Error(`registration refused: ${res.errors[0]!.message}`);
  return res.data!.registerElderlyResident.id as string;
}

/** The transactions the recorder saw, each with its commands in order (heartbeats left out). */
function transactions(commands: WireCommand[]): Map<string, WireCommand[]> {
  const out = new Map<string, WireCommand[]>();
  for (const c of commands) {
    const key = keyOf(c);
    if (key) out.set(key, [...(out.get(key) ?? []), c]);
  }
  return out;
}

onEmbeddedEngine('the standalone path (the embedded engine)', () => {
  let sg: RunningSubgraph;
  const sent: Record<string, unknown>[] = [];
  beforeAll(async () => {
    sg = await startSubgraph(elderly, engine.uri, { monitorCommands: true });
    sg.conn.getClient().on('commandStarted', (ev) => sent.push(ev.command as Record<string, unknown>));
  });
  afterAll(async () => sg?.close());

  test('a mutation runs as plain writes, without a transaction, and its visit is stored', async () => {
    expect(await supportsTransactions(sg.conn)).toBe(false);
    sent.length = 0;
    const res = await gql(sg.url, VISIT, { e: await registerElder(sg.url, 'txn-elder-standalone'), k: 'txn-standalone-1' });
    expect(res.errors).toBeUndefined();
    const writes = sent.filter((c) => WRITES.has(Object.keys(c)[0]!));
    expect(writes.map((c) => Object.keys(c)[0])).toContain('insert');
    expect(sent.filter((c) => c.txnNumber !== undefined || c.startTransaction !== undefined || 'commitTransaction' in c)).toEqual([]);
    expect(await registerModels(sg.conn).HomeVisit.countDocuments({ clientKey: 'txn-standalone-1' })).toBe(1);
  });
});

onEmbeddedEngine('the transactional path (a replica set member played by the wire recorder)', () => {
  let wire: TransactionWire;
  let sg: RunningSubgraph;
  let elderId: string;
  beforeAll(async () => {
    wire = await startTransactionWire(engine.uri);
    sg = await startSubgraph(elderly, wire.uri);
    // The recorder plays a replica set member; `hello` from the engine says standalone.
    assumeTransactionSupport(sg.conn, true);
    elderId = await registerElder(sg.url, 'txn-elder-1');
  });
  afterAll(async () => {
    await sg?.close();
    await wire?.close();
  });

  test('every command of a mutation, raw driver writes and rollups included, is in one transaction that commits', async () => {
    wire.commands.length = 0;
    const res = await gql(sg.url, VISIT, { e: elderId, k: 'txn-commit-1' });
    expect(res.errors).toBeUndefined();
    const seen = wire.commands.filter((c) => !HEARTBEATS.has(c.name));
    const begin = seen.findIndex((c) => c.startTransaction);
    expect(seen[begin]).toMatchObject({ name: 'find', collection: TRANSACTION_BEGIN_COLLECTION });
    const txn = keyOf(seen[begin]!)!;
    const commit = seen.findIndex((c) => c.name === 'commitTransaction');
    expect(commit).toBeGreaterThan(begin);
    // Between the transaction's first command and its commit, nothing runs outside it.
    const inside = seen.slice(begin, commit + 1);
    expect(inside.filter((c) => keyOf(c) !== txn)).toEqual([]);
    const written = new Set(inside.filter((c) => WRITES.has(c.name)).map((c) => c.collection));
    // The raw visit (a driver insertOne), the resident's plan and the statistics rollups.
    expect([...written]).toEqual(expect.arrayContaining(['home_visits', 'elderly_residents']));
    expect([...written].some((c) => c!.startsWith('elderly_stats_'))).toBe(true);
    // One attempt, one commit; no write of the mutation anywhere else. (The audit log of the
    // personal data the response shows is written when the response leaves, after the commit.)
    expect([...transactions(wire.commands).keys()]).toEqual([txn]);
    expect(seen.filter((c) => WRITES.has(c.name) && keyOf(c) !== txn && c.collection !== 'audit_log')).toEqual([]);
  });

  const rollupWrite = (c: WireCommand) => c.txnNumber !== null && WRITES.has(c.name) && c.collection === 'elderly_stats_areas';

  test('a mutation that fails after its raw writes (visit, plan) aborts its transaction and never commits it', async () => {
    const e = await registerElder(sg.url, 'txn-elder-abort');
    wire.commands.length = 0;
    // The rollup write after the visit's insert and the plan's update fails (not a transient error).
    wire.failWhen(rollupWrite, { code: 8000, errmsg: 'injected: disk full' });
    const res = await gql(sg.url, VISIT, { e, k: 'txn-abort-1' });
    expect(wire.commands.filter((c) => c.answered && c.answered !== 'ok').map((c) => c.answered)).toEqual([{ code: 8000 }]);
    expect(res.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    const txns = transactions(wire.commands);
    expect(txns.size).toBe(1);
    const [cmds] = [...txns.values()];
    const names = cmds!.map((c) => `${c.name}${c.collection ? ` ${c.collection}` : ''}`);
    expect(names).toEqual(expect.arrayContaining(['insert home_visits', 'update elderly_residents', 'update elderly_stats_areas']));
    expect(names[names.length - 1]).toBe('abortTransaction');
    expect(names).not.toContain('commitTransaction');
    // Nothing written outside the transaction.
    expect(wire.commands.filter((c) => WRITES.has(c.name) && c.txnNumber === null && c.collection !== 'audit_log')).toEqual([]);
  });

  test('a failure the write path covers with more commands (try/finally) is aborted by the server; the mutation then runs once more as plain writes', async () => {
    const e = await registerElder(sg.url, 'txn-elder-fallback');
    wire.commands.length = 0;
    // The plan's update fails; recordHomeVisit still refreshes the rollups in a `finally`, whose
    // read a server answers with NoSuchTransaction: the case of a caught duplicate key too.
    wire.failWhen((c) => c.txnNumber !== null && WRITES.has(c.name) && c.collection === 'elderly_residents', { code: 8000, errmsg: 'injected: disk full' });
    // No clientKey: the recorder cannot roll back the first attempt's visit, which the idempotent
    // replay would then find (a real server leaves nothing of it).
    const res = await gql(sg.url, VISIT, { e, k: null });
    expect(res.errors).toBeUndefined();
    const txns = [...transactions(wire.commands).values()];
    expect(txns).toHaveLength(1);
    expect(txns[0]!.map((c) => c.name)).not.toContain('commitTransaction');
    expect(txns[0]!.filter((c) => c.answered && c.answered !== 'ok').map((c) => [c.name, c.answered])).toEqual([
      ['update', { code: 8000 }],
      ['find', { code: 251 }],
    ]);
    const plain = wire.commands.filter((c) => WRITES.has(c.name) && c.txnNumber === null).map((c) => c.collection);
    expect(plain).toEqual(expect.arrayContaining(['home_visits', 'elderly_residents']));
  });

  test('a transient error (write conflict) re-runs the whole mutation in a new transaction, which commits', async () => {
    const e = await registerElder(sg.url, 'txn-elder-retry');
    wire.commands.length = 0;
    wire.failWhen(rollupWrite, {
      code: 112,
      errmsg: 'injected: WriteConflict',
      errorLabels: ['TransientTransactionError'],
    });
    const res = await gql(sg.url, VISIT, { e, k: null }); // no clientKey: see the test above
    expect(res.errors).toBeUndefined();
    const txns = [...transactions(wire.commands).values()].map((cmds) => cmds.map((c) => c.name));
    expect(txns).toHaveLength(2);
    expect(txns[0]).toContain('insert');
    expect(txns[0]![txns[0]!.length - 1]).toBe('abortTransaction');
    expect(txns[1]).toContain('insert');
    expect(txns[1]![txns[1]!.length - 1]).toBe('commitTransaction');
    // Both attempts on one session.
    expect(new Set([...transactions(wire.commands).keys()].map((k) => k.split(':')[0])).size).toBe(1);
  });

  test('bad input is refused with BAD_USER_INPUT and nothing is committed', async () => {
    wire.commands.length = 0;
    const res = await gql(sg.url, `mutation { recordHomeVisit(elderId: "el_nope", mode: IN_PERSON, occasion: ROUTINE, outcome: OK) { nextVisitDue } }`);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(wire.commands.filter((c) => c.name === 'commitTransaction' || (WRITES.has(c.name) && c.collection !== 'audit_log'))).toEqual([]);
  });
});

onEmbeddedEngine('runInTransaction and the mutation wrapper, against the wire recorder', () => {
  let wire: TransactionWire;
  let conn: Connection;
  beforeAll(async () => {
    wire = await startTransactionWire(engine.uri);
    conn = await connectDatabase({ uri: wire.uri, dbName: uniqueDbName('txn_unit'), topology: { readPreference: 'secondaryPreferred' } });
    assumeTransactionSupport(conn, true);
  });
  afterAll(async () => {
    await conn?.close();
    await wire?.close();
  });

  test('reads inside the transaction go to the primary even when the connection prefers secondaries', async () => {
    wire.commands.length = 0;
    const n = await runInTransaction(conn, async () => {
      await conn.db!.collection('things').insertOne({ _id: 'p1' as never });
      return conn.db!.collection('things').countDocuments({});
    });
    expect(n).toBe(1);
    expect(wire.commands.filter((c) => c.name === 'commitTransaction')).toHaveLength(1);
  });

  test('a write path that catches a duplicate key (which aborts a real transaction) runs once more as plain writes instead of looping', async () => {
    await conn.db!.collection('keys').insertOne({ _id: 'k1' as never, first: true });
    wire.commands.length = 0;
    let runs = 0;
    const fallbacks: unknown[] = [];
    const result = await runInTransaction(
      conn,
      async () => {
        runs++;
        try {
          await conn.db!.collection('keys').insertOne({ _id: 'k1' as never, first: false });
          return 'inserted';
        } catch (e) {
          if ((e as { code?: number }).code !== 11000) throw e;
          return (await conn.db!.collection('keys').findOne({ _id: 'k1' as never }))?.first === true ? 'first result' : 'wrong';
        }
      },
      { onFallback: (cause) => fallbacks.push((cause as { code?: number }).code) },
    );
    expect([result, runs, fallbacks]).toEqual(['first result', 2, [251]]);
    const txns = [...transactions(wire.commands).values()];
    expect(txns).toHaveLength(1);
    expect(txns[0]!.map((c) => c.name)).toContain('abortTransaction');
    // The second run: plain commands, no transaction number.
    const lastAbort = wire.commands.findIndex((c) => c.name === 'abortTransaction');
    expect(wire.commands.slice(lastAbort + 1).filter((c) => c.txnNumber !== null)).toEqual([]);
  });

  test(`transient errors are retried at most ${TRANSACTION_ATTEMPTS} times, then reach the caller`, async () => {
    wire.commands.length = 0;
    for (let i = 0; i < TRANSACTION_ATTEMPTS; i++)
      wire.failWhen((c) => c.name === 'insert' && c.collection === 'conflicts', { code: 112, errmsg: 'injected: WriteConflict', errorLabels: ['TransientTransactionError'] });
    await expect(runInTransaction(conn, () => conn.db!.collection('conflicts').insertOne({ n: 1 }))).rejects.toMatchObject({ code: 112 });
    expect(wire.commands.filter((c) => c.name === 'commitTransaction')).toEqual([]);
    expect(wire.commands.filter((c) => c.startTransaction)).toHaveLength(TRANSACTION_ATTEMPTS);
  });

  /** A resolver map with one mutation that notes an import in the audit collector, as the import mutations do. */
  function importLike(collection: string) {
    return transactionalMutations(
      {
        Mutation: {
          importThings: async (_p: unknown, _a: unknown, ctx: { audit: AuditCollector }) => {
            await conn.db!.collection(collection).insertOne({ n: 1 });
            ctx.audit.record('Import', 'things', 'inserted=1');
            return 1;
          },
        },
      },
      conn,
      createLogger('test', 'silent'),
    ).Mutation as { importThings: (p: unknown, a: unknown, ctx: unknown, info: GraphQLResolveInfo) => Promise<number> };
  }

  test('an import whose commit fails leaves no claim of its writes in the audit notes', async () => {
    const audit = new AuditCollector();
    audit.record('Resident', 'el_1', 'name'); // noted before the mutation: kept
    wire.failWhen((c) => c.name === 'commitTransaction', { code: 8000, errmsg: 'injected: commit refused' });
    await expect(importLike('imports_a').importThings(null, {}, { audit }, {} as GraphQLResolveInfo)).rejects.toMatchObject({ code: 8000 });
    expect(audit.size).toBe(1);
    const restored = audit as unknown as { reads: Map<string, { fields: string[] }> };
    expect([...restored.reads.values()].map((r) => r.fields)).toEqual([['name']]);
  });

  test('an import retried after a transient commit failure notes its counts once', async () => {
    const audit = new AuditCollector();
    wire.failWhen((c) => c.name === 'commitTransaction', { code: 112, errmsg: 'injected: WriteConflict', errorLabels: ['TransientTransactionError'] });
    expect(await importLike('imports_b').importThings(null, {}, { audit }, {} as GraphQLResolveInfo)).toBe(1);
    const notes = [...(audit as unknown as { reads: Map<string, { fields: string[] }> }).reads.values()].map((r) => r.fields);
    expect(notes).toEqual([['inserted=1']]);
  });
});

// Only with a real replica set or sharded cluster: MONGODB_URI=mongodb://host/?replicaSet=rs0 npx jest test/federation/transactions.test.ts
(process.env.MONGODB_URI ? describe : describe.skip)('on a real replica set (MONGODB_URI)', () => {
  test('a write path that fails after its raw write leaves nothing behind', async () => {
    const conn = await connectDatabase({ uri: engine.uri, dbName: uniqueDbName('txn_real') });
    try {
      expect(await supportsTransactions(conn)).toBe(true);
      await conn.db!.createCollection('raw_rows');
      await expect(
        runInTransaction(conn, async () => {
          await conn.db!.collection('raw_rows').insertOne({ _id: 'r1' as never });
          throw new Error('rollup refused');
        }),
      ).rejects.toThrow('rollup refused');
      expect(await conn.db!.collection('raw_rows').countDocuments()).toBe(0);
    } finally {
      await conn.close();
    }
  });
});
