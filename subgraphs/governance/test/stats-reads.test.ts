/**
 * What a ticket-statistics read brings back from the database: only the rollup documents and fields
 * its figures use. Day documents of days outside the range (and not due before today) stay in the
 * database, and month documents of months outside the range come back with their backlog only (no
 * histogram, no flows). The figures themselves are checked against the raw rows by rollups.test.ts.
 */
import { cstDate, rangeStart, type TimeRange } from '../../../lib/clock';
import { generateCity } from '../../../scripts/synthetic/city';
import { startTestDatabase, type Engine } from '../../../test/helpers/subgraph';
import { seedSynthetic } from '../seed';
import { startGovernance, type GovernanceUnderTest } from './helpers';

const city = generateCity(60, 3);
const NOW = new Date('2026-03-20T02:00:00Z');
let engine: Engine;
let g: GovernanceUnderTest;

beforeAll(async () => {
  engine = await startTestDatabase();
  g = await startGovernance(engine.uri, NOW.toISOString(), { monitorCommands: true });
  await seedSynthetic(g.conn, city.communities, 3);
}, 120_000);
afterAll(async () => {
  await g?.close();
  await engine?.stop();
});

type Doc = Record<string, unknown> & { _id?: unknown; p?: string };

/** Rollup documents (`<LEVEL>|<M|D>|<period>|…`) in the replies of the commands sent while `fn` runs. */
async function rollupDocsDuring(fn: () => Promise<unknown>): Promise<Doc[]> {
  const docs: Doc[] = [];
  const client = g.conn.getClient();
  const listen = (ev: { reply?: { cursor?: { firstBatch?: Doc[] } } }) => {
    for (const d of ev.reply?.cursor?.firstBatch ?? []) if (typeof d._id === 'string' && /^[A-Z]+\|[MD]\|/.test(d._id)) docs.push(d);
  };
  client.on('commandSucceeded', listen);
  try {
    await fn();
  } finally {
    client.off('commandSucceeded', listen);
  }
  return docs;
}

describe('ticket statistics reads', () => {
  it.each<[TimeRange, string]>([
    ['LAST_30D', ''],
    ['LAST_30D', ', groupBy: SERVICE_CODE'],
    ['LAST_90D', ''],
  ])('a city over %s%s reads day documents of the range only, and months outside it without histograms', async (range, args) => {
    const from = cstDate(rangeStart(range, NOW)!);
    const today = cstDate(NOW);
    const docs = await rollupDocsDuring(() => g.q(`{ _entities(representations: [{ __typename: "City", code: "320100" }]) { ... on City { ticketStats(range: ${range}${args}) { opened resolved backlog overdue medianHoursToResolve groups { key backlog } } } } }`));
    const days = docs.filter((d) => String(d._id).split('|')[1] === 'D');
    const months = docs.filter((d) => String(d._id).split('|')[1] === 'M' && !String(d._id).endsWith('|G'));
    expect(days.length).toBeGreaterThan(0);
    expect(months.length).toBeGreaterThan(0);
    for (const d of days) {
      expect(d.p! >= from).toBe(true);
      expect(d.p! < today).toBe(true);
    }
    // Whole months inside the range: from the first month starting on or after `from`, before the current month.
    const current = today.slice(0, 7);
    const firstWhole = from.slice(8) === '01' ? from.slice(0, 7) : nextMonth(from.slice(0, 7));
    for (const d of months) {
      const inRange = d.p! >= firstWhole && d.p! < current;
      if (!inRange) expect(Object.keys(d).filter((k) => !['_id', 's', 'p', 'b', '__unionBranch'].includes(k))).toEqual([]);
    }
    expect(months.some((d) => !(d.p! >= firstWhole && d.p! < current))).toBe(true);
  });
});

function nextMonth(m: string): string {
  const [y, mo] = m.split('-').map(Number);
  return mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, '0')}`;
}
