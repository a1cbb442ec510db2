/**
 * Complementary suppression end to end, through the real gateway on a small seeded city: an
 * anonymous caller fetches every published level (the city, its districts, every 小区) with every
 * figure of elderlyStats and the current month of visitTrend; civil affairs (individual-level
 * access) fetches the same exact figures. The anonymous answer must equal the exact figures where it
 * is not null, null every count of 0-4, and leave every null figure with at least two values
 * consistent with all published figures (./audit.ts, exhaustive integer search). Asking for one
 * 小区 alone gives the same figures as asking for the whole city (the pattern does not depend on
 * the question).
 */
import { startStack, type RunningStack } from '../../scripts/stack';
import { now } from '../../lib/clock';
import type { AreaNode, DisclosureSpec, SuppressionPattern } from '../../lib/disclosure';
import { pinClock } from '../helpers/clock';
import { generateCity } from '../../scripts/synthetic/city';
import { seedSyntheticProperties } from '../../subgraphs/properties/seed-synthetic';
import { seedSynthetic } from '../../subgraphs/elderly/seed';
import { snapshotInstant } from '../../subgraphs/elderly/services/disclosure';
import { authHeader } from '../helpers/tokens';
import { gql } from '../helpers/subgraph';
import { Audit } from './audit';

// On the start of a snapshot period (services/disclosure.ts): anonymous figures are as of that
// instant, exact ones as of now, so they are comparable.
const pinned = pinClock(snapshotInstant(now().getTime()));
const city = generateCity(40, 5);
const CITY = '320700';
let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack({
    seed: 'always',
    logLevel: 'silent',
    beforeListen: async (conns) => {
      await seedSyntheticProperties(conns.get('properties')!, city, 5, 1);
      // Small registers: many counts of 0-4.
      await seedSynthetic(conns.get('elderly')!, city.communities, 5, { registerShare: 0.03 });
    },
  });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  pinned.restore();
});

const FIGURES = ['registered', 'livingAlone', 'difficulty', 'highRisk', 'keyRisk', 'visitedLast30d', 'overdueVisits', 'holidayVisitsLast12m'] as const;
const STATS = `elderlyStats { ${FIGURES.join(' ')} monthlyVisitRate } visitTrend(months: 1) { registered visited overdue }`;
/** What elderlyStats and the current month publish, as the audit's tables. */
const SPEC: DisclosureSpec = {
  margin: 'registered',
  tables: [['livingAlone'], ['difficulty'], ['highRisk', 'keyRisk'], ['visitedLast30d'], ['overdueVisits'], ['visitedThisMonth']],
  standalone: ['holidayVisitsLast12m'],
  threshold: 5,
};

type Figures = Record<string, number | null>;
interface Snapshot {
  areas: AreaNode[];
  figures: Map<string, Figures>;
}

async function fetchAll(headers?: Record<string, string>): Promise<Snapshot> {
  const top: any = await gql(stack.gatewayUrl, `{ city(code: "${CITY}") { code ${STATS} districts { code ${STATS} } } }`, undefined, headers);
  expect(top.errors).toBeUndefined();
  const flat = (x: any): Figures => ({ ...x.elderlyStats, visitedThisMonth: x.visitTrend[0].visited, trendRegistered: x.visitTrend[0].registered, trendOverdue: x.visitTrend[0].overdue });
  const areas: AreaNode[] = [{ id: `CITY|${CITY}`, parent: null }];
  const figures = new Map<string, Figures>([[`CITY|${CITY}`, flat(top.data.city)]]);
  for (const d of top.data.city.districts) {
    areas.push({ id: `DISTRICT|${d.code}`, parent: `CITY|${CITY}` });
    figures.set(`DISTRICT|${d.code}`, flat(d));
    // Pages small enough for the gateway's cost limit.
    let after: string | null = null;
    do {
      const list: any = await gql(stack.gatewayUrl, `query($a: String) { communities(filter: { districtCode: "${d.code}" }, first: 10, after: $a) { edges { node { id ${STATS} } } pageInfo { hasNextPage endCursor } } }`, { a: after }, headers);
      expect(list.errors).toBeUndefined();
      for (const { node } of list.data.communities.edges) {
        areas.push({ id: `COMMUNITY|${node.id}`, parent: `DISTRICT|${d.code}` });
        figures.set(`COMMUNITY|${node.id}`, flat(node));
      }
      after = list.data.communities.pageInfo.hasNextPage ? list.data.communities.pageInfo.endCursor : null;
    } while (after);
  }
  return { areas, figures };
}

describe('complementary suppression through the gateway', () => {
  it('an anonymous caller who fetches every level of a seeded city recovers no suppressed figure, and sees exact figures elsewhere', async () => {
    const exact = await fetchAll(await authHeader('CIVIL_AFFAIRS'));
    const anon = await fetchAll();
    expect(anon.areas).toEqual(exact.areas);
    expect(anon.areas.length).toBeGreaterThan(10);

    let nulls = 0;
    for (const { id } of anon.areas) {
      const a = anon.figures.get(id)!;
      const e = exact.figures.get(id)!;
      for (const f of [...FIGURES, 'visitedThisMonth']) {
        // Published figures are exact; every count of 0-4 is null.
        if (a[f] != null) expect([id, f, a[f]]).toEqual([id, f, e[f]]);
        if ((e[f] as number) < 5) expect([id, f, a[f]]).toEqual([id, f, null]);
        if (a[f] == null) nulls++;
      }
      // The current month of the trend is the current figures, under the same pattern.
      expect([id, a.trendRegistered, a.trendOverdue]).toEqual([id, a.registered, a.overdueVisits]);
      // A rate is published only with both of its counts.
      expect([id, a.monthlyVisitRate]).toEqual([id, a.registered != null && a.visitedLast30d != null && a.registered > 0 ? a.visitedLast30d / a.registered : null]);
    }
    expect(nulls).toBeGreaterThan(0);

    // The attacker's audit: exact values for the unknowns' true values, the anonymous nulls as unknowns.
    const observed: SuppressionPattern = {
      has: (area) => exact.figures.has(area),
      values: (area) => exact.figures.get(area) as Record<string, number>,
      suppressed: (area, v) => anon.figures.get(area)![v] == null,
      suppressedCells: nulls,
    };
    const audit = new Audit(SPEC, anon.areas, observed);
    expect(audit.consistent()).toBe(true);
    const recovered = audit.cells
      .map((cell, i) => ({ cell, i }))
      .filter(({ cell }) => !cell.published && (!cell.column.startsWith('~') || cell.value < 5))
      .filter(({ i }) => !audit.feasibleOther(i))
      .map(({ cell }) => `${cell.area}/${cell.column}=${cell.value}`);
    expect(recovered).toEqual([]);
  });

  it('gives one 小区 asked alone the same figures as in the whole city', async () => {
    const anon = await fetchAll();
    const ids = anon.areas.filter((a) => a.id.startsWith('COMMUNITY|')).slice(0, 5);
    for (const { id } of ids) {
      const one: any = await gql(stack.gatewayUrl, `{ community(id: "${id.slice(10)}") { ${STATS} } }`);
      expect(one.errors).toBeUndefined();
      const x = one.data.community;
      expect([id, { ...x.elderlyStats, visitedThisMonth: x.visitTrend[0].visited, trendRegistered: x.visitTrend[0].registered, trendOverdue: x.visitTrend[0].overdue }]).toEqual([id, anon.figures.get(id)]);
    }
  });
});
