/**
 * The request path of 小区 facility gaps: `facilityGaps` and `facilities(condition: …)` with gap
 * conditions read the gap rows only (filtered in the database), with the same answer, in the same
 * order, as filtering each 小区's whole inventory.
 */
import { generateCity } from '../../../scripts/synthetic/city';
import { now } from '../../../lib/clock';
import { gql, startSubgraph, startTestDatabase, type Engine, type RunningSubgraph } from '../../../test/helpers/subgraph';
import { subgraph } from '..';
import { seedSynthetic } from '../seed';

const CITY = generateCity(30, 5);

let engine: Engine;
let sg: RunningSubgraph;

beforeAll(async () => {
  engine = await startTestDatabase();
  sg = await startSubgraph(subgraph, engine.uri, { monitorCommands: true });
  await seedSynthetic(sg.conn, CITY.communities, 5, { asOf: now() });
}, 120_000);
afterAll(async () => {
  await sg?.close();
  await engine?.stop();
});

const GAPS = new Set(['MISSING', 'BROKEN']);
const reps = (ids: string[]) => ids.map((id) => `{ __typename: "Community", id: "${id}" }`).join(', ');

describe('renovation request path', () => {
  it('facilityGaps and facilities with gap conditions equal the whole inventory filtered, in its order, and read only gap rows', async () => {
    const ids = CITY.communities.map((c) => c.id);
    const whole = await gql(sg.url, `{ _entities(representations: [${reps(ids)}]) { ... on Community { id facilities { id type condition } } } }`);
    expect(whole.errors).toBeUndefined();
    let rowsRead = 0;
    const client = sg.conn.getClient();
    const count = (ev: { reply?: { cursor?: { firstBatch?: unknown[] } } }) => {
      rowsRead += ev.reply?.cursor?.firstBatch?.length ?? 0;
    };
    client.on('commandSucceeded', count);
    const gaps = await gql(
      sg.url,
      `{ _entities(representations: [${reps(ids)}]) { ... on Community { id facilityGaps { id type condition } broken: facilities(condition: [BROKEN]) { id } both: facilities(condition: [MISSING, BROKEN]) { id type condition } } } }`,
    );
    client.off('commandSucceeded', count);
    expect(gaps.errors).toBeUndefined();
    let expectedGaps = 0;
    let inventory = 0;
    whole.data!._entities.forEach((c: { id: string; facilities: { id: string; type: string; condition: string | null }[] }, i: number) => {
      const filtered = c.facilities.filter((f) => f.condition != null && GAPS.has(f.condition));
      const got = gaps.data!._entities[i];
      expect(got.id).toBe(c.id);
      expect(got.facilityGaps).toEqual(filtered);
      expect(got.both).toEqual(filtered);
      expect(got.broken).toEqual(c.facilities.filter((f) => f.condition === 'BROKEN').map((f) => ({ id: f.id })));
      expectedGaps += filtered.length;
      inventory += c.facilities.length;
    });
    // Some gaps, and an inventory larger than its gaps, or the comparison proves nothing.
    expect(expectedGaps).toBeGreaterThan(0);
    expect(inventory).toBeGreaterThan(expectedGaps);
    expect(rowsRead).toBe(expectedGaps);
  });
});
