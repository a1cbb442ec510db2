/**
 * The request path of a 小区's own figures: the latest fee row or one period's row is read by itself
 * (not the whole fee history), and a current contract's company is read in the same database command
 * as the contract. Answers are compared with the full history and with the company looked up by its
 * USCC, on a small synthetic city.
 */
import { generateCity } from '../../../scripts/synthetic/city';
import { gql, startSubgraph, startTestDatabase, type Engine, type RunningSubgraph } from '../../../test/helpers/subgraph';
import { subgraph } from '..';
import { seedSyntheticProperties } from '../seed-synthetic';

const CITY = generateCity(30, 7);

let engine: Engine;
let sg: RunningSubgraph;

beforeAll(async () => {
  engine = await startTestDatabase();
  sg = await startSubgraph(subgraph, engine.uri, { monitorCommands: true });
  await seedSyntheticProperties(sg.conn, CITY, 7);
}, 120_000);
afterAll(async () => {
  await sg?.close();
  await engine?.stop();
});

/** Database reads (find/aggregate) sent while `fn` runs, as `command:collection`. */
async function readsDuring<T>(fn: () => Promise<T>): Promise<{ result: T; reads: string[] }> {
  const reads: string[] = [];
  const client = sg.conn.getClient();
  const listen = (ev: { commandName: string; command: Record<string, unknown> }) => {
    if (!['find', 'aggregate', 'count'].includes(ev.commandName)) return;
    // An aggregate with `$unionWith` branches is named by all its collections, sorted: `aggregate:companies+contracts`.
    const branches = ((ev.command.pipeline ?? []) as Record<string, { coll?: string }>[]).filter((st) => st.$unionWith).map((st) => String(st.$unionWith.coll));
    reads.push(`${ev.commandName}:${[String(ev.command[ev.commandName]), ...branches].sort().join('+')}`);
  };
  client.on('commandStarted', listen);
  try {
    return { result: await fn(), reads };
  } finally {
    client.off('commandStarted', listen);
  }
}

describe('properties request path', () => {
  it('a 小区 feeCollection without a period is its newest fee row, with a period that period’s row, and null for a period it has no row for', async () => {
    const ids = CITY.communities.slice(0, 9).map((c) => c.id);
    const query = `{ ${ids
      .map((id, i) => `c${i}: community(id: "${id}") { id history: feeHistory(last: 120) { period amountRate householdRate } latest: feeCollection { period amountRate householdRate } }`)
      .join('\n')} }`;
    const res = await gql(sg.url, query);
    expect(res.errors).toBeUndefined();
    let withRows = 0;
    for (let i = 0; i < ids.length; i++) {
      const c = res.data![`c${i}`];
      expect(c.latest).toEqual(c.history[0] ?? null);
      if (!c.history.length) continue;
      withRows++;
      // Every period of the history, asked for by name, gives that period's row; a period before all of them gives null.
      const byPeriod = await gql(
        sg.url,
        `{ community(id: "${ids[i]}") { ${c.history.map((h: { period: string }, k: number) => `p${k}: feeCollection(period: "${h.period}") { period amountRate householdRate }`).join(' ')} none: feeCollection(period: "1999-01") { period } } }`,
      );
      expect(byPeriod.errors).toBeUndefined();
      c.history.forEach((h: unknown, k: number) => expect(byPeriod.data!.community[`p${k}`]).toEqual(h));
      expect(byPeriod.data!.community.none).toBeNull();
    }
    expect(withRows).toBeGreaterThan(0);
  });

  it('a list of 小区 asking for their latest fee figure reads one fee row per 小区, not their histories', async () => {
    const ids = CITY.communities.slice(0, 10).map((c) => c.id);
    const all = await sg.conn.db!.collection('fee_collection').countDocuments({ communityId: { $in: ids } });
    const withFees = (await sg.conn.db!.collection('fee_collection').distinct('communityId', { communityId: { $in: ids } })).length;
    expect(all).toBeGreaterThan(withFees); // histories of more than one period, or the test proves nothing
    let docs = 0;
    const client = sg.conn.getClient();
    const count = (ev: { reply?: { cursor?: { firstBatch?: unknown[] } } }) => {
      for (const d of ev.reply?.cursor?.firstBatch ?? []) if ((d as { period?: unknown }).period !== undefined) docs++;
    };
    client.on('commandSucceeded', count);
    const res = await gql(sg.url, `{ ${ids.map((id, i) => `c${i}: community(id: "${id}") { feeCollection { amountRate } }`).join(' ')} }`);
    client.off('commandSucceeded', count);
    expect(res.errors).toBeUndefined();
    expect(docs).toBe(withFees);
  });

  it('a 小区’s current contract and its company are read in one command after the 小区, and the company is the one its USCC names', async () => {
    const row = await sg.conn.db!.collection('communities').findOne({ synthetic: true, currentCompanyUscc: { $type: 'string' } });
    expect(row).toBeTruthy();
    const id = String(row!._id);
    const { result: res, reads } = await readsDuring(() => gql(sg.url, `{ community(id: "${id}") { currentContract { company { uscc name nature } } } }`));
    expect(res.errors).toBeUndefined();
    const company = res.data!.community.currentContract?.company;
    expect(company).toBeTruthy();
    const direct = await gql(sg.url, `{ propertyCompany(uscc: "${company.uscc}") { uscc name nature } }`);
    expect(company).toEqual(direct.data!.propertyCompany);
    // The 小区, then the contract with the company as a branch of the same aggregate.
    expect(reads).toEqual(['aggregate:communities', 'aggregate:companies+contracts']);
  });

  it('without the company in the query, the contract is read without it', async () => {
    const row = await sg.conn.db!.collection('communities').findOne({ synthetic: true, currentCompanyUscc: { $type: 'string' } });
    const { result: res, reads } = await readsDuring(() => gql(sg.url, `{ community(id: "${String(row!._id)}") { currentContract { id } } }`));
    expect(res.errors).toBeUndefined();
    expect(reads).toEqual(['aggregate:communities', 'aggregate:contracts']);
  });
});
