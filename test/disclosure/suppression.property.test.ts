/**
 * Property test of the complementary cell suppression (lib/disclosure.ts) on random small synthetic
 * cities (1 city, 2-3 districts, 2-3 streets each, 2-5 小区 each, small counts including zeros): an
 * anonymous caller who fetches every published level and solves the equations among them (an exact
 * integer audit, ./audit.ts) recovers no suppressed cell: each one has at least two feasible values.
 * Also: every count below 5 (zeros included) is suppressed, hidden complements below 5 are protected
 * the same way, and the pattern does not depend on the order the areas are given in.
 */
import fc from 'fast-check';
import { suppressionPattern, type AreaNode, type DisclosureSpec } from '../../lib/disclosure';
import { Audit } from './audit';

/** The elderly statistics' shape, smaller: registered; living alone; high/key risk; holiday visits. */
const SPEC: DisclosureSpec = { margin: 'registered', tables: [['livingAlone'], ['highRisk', 'keyRisk']], standalone: ['holidayVisits'], threshold: 5 };

interface City {
  areas: AreaNode[];
  leaves: Map<string, Record<string, number>>;
}

/** A 小区's figures: small, often zero; categories within the register. */
const community = fc
  .record({ registered: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 14 })), a: fc.double({ min: 0, max: 1, noNaN: true }), h: fc.double({ min: 0, max: 1, noNaN: true }), k: fc.double({ min: 0, max: 1, noNaN: true }), holidayVisits: fc.integer({ min: 0, max: 9 }) })
  .map(({ registered, a, h, k, holidayVisits }) => {
    const highRisk = Math.floor(h * (registered + 1)) % (registered + 1);
    const keyRisk = Math.floor(k * (registered - highRisk + 1)) % (registered - highRisk + 1);
    return { registered, livingAlone: Math.floor(a * (registered + 1)) % (registered + 1), highRisk, keyRisk, holidayVisits };
  });

const city = (streetsPerDistrict: { min: number; max: number }, communitiesPerStreet: { min: number; max: number }) =>
  fc
    .array(fc.array(fc.array(community, { minLength: communitiesPerStreet.min, maxLength: communitiesPerStreet.max }), { minLength: streetsPerDistrict.min, maxLength: streetsPerDistrict.max }), { minLength: 2, maxLength: 3 })
    .map((districts): City => {
      const areas: AreaNode[] = [{ id: 'c', parent: null }];
      const leaves = new Map<string, Record<string, number>>();
      districts.forEach((streets, d) => {
        areas.push({ id: `c.d${d}`, parent: 'c' });
        streets.forEach((cms, s) => {
          areas.push({ id: `c.d${d}.s${s}`, parent: `c.d${d}` });
          cms.forEach((v, i) => {
            const id = `c.d${d}.s${s}.x${i}`;
            areas.push({ id, parent: `c.d${d}.s${s}` });
            leaves.set(id, v);
          });
        });
      });
      return { areas, leaves };
    });

function auditOf(c: City) {
  const pattern = suppressionPattern(SPEC, c.areas, c.leaves);
  return { pattern, audit: new Audit(SPEC, c.areas, pattern) };
}

describe('complementary suppression over a 小区 → street → district → city hierarchy', () => {
  it('an anonymous caller solving every published level and cross-tabulation recovers no suppressed or small hidden cell exactly', () => {
    fc.assert(
      fc.property(city({ min: 2, max: 3 }, { min: 2, max: 5 }), (c) => {
        const { audit } = auditOf(c);
        expect(audit.consistent()).toBe(true);
        const recovered = audit.cells
          .map((cell, i) => ({ cell, i }))
          .filter(({ cell }) => !cell.published && (!cell.column.startsWith('~') || cell.value < SPEC.threshold))
          .filter(({ i }) => !audit.feasibleOther(i))
          .map(({ cell }) => `${cell.area}/${cell.column}=${cell.value}`);
        expect(recovered).toEqual([]);
      }),
      { numRuns: 25, seed: 1717 },
    );
  });

  it('the audit does find the values cell-by-cell suppression gives away (district minus visible 小区)', () => {
    const areas: AreaNode[] = [{ id: 'c', parent: null }, { id: 'c.d0', parent: 'c' }, ...['x0', 'x1', 'x2'].map((x) => ({ id: `c.d0.${x}`, parent: 'c.d0' }))];
    const leaves = new Map([
      ['c.d0.x0', { registered: 2, livingAlone: 1, highRisk: 1, keyRisk: 0, holidayVisits: 0 }],
      ['c.d0.x1', { registered: 30, livingAlone: 10, highRisk: 6, keyRisk: 7, holidayVisits: 9 }],
      ['c.d0.x2', { registered: 50, livingAlone: 20, highRisk: 9, keyRisk: 8, holidayVisits: 15 }],
    ]);
    const real = suppressionPattern(SPEC, areas, leaves);
    const cellByCell = { ...real, suppressed: (a: string, v: string) => real.values(a)![v] < 5 };
    const audit = new Audit(SPEC, areas, cellByCell);
    const x0 = audit.cells.findIndex((c) => c.area === 'c.d0.x0' && c.column === 'registered');
    expect(audit.feasibleOther(x0)).toBe(false);
  });

  it('suppresses every count below 5, zeros included', () => {
    fc.assert(
      fc.property(city({ min: 2, max: 3 }, { min: 2, max: 5 }), (c) => {
        const { pattern } = auditOf(c);
        for (const a of c.areas) {
          const v = pattern.values(a.id)!;
          for (const col of ['registered', 'livingAlone', 'highRisk', 'keyRisk', 'holidayVisits']) if (v[col] < 5) expect([a.id, col, pattern.suppressed(a.id, col)]).toEqual([a.id, col, true]);
        }
      }),
      { numRuns: 50, seed: 1718 },
    );
  });

  it('gives the same pattern whatever order the areas come in (same data, same pattern)', () => {
    fc.assert(
      fc.property(city({ min: 2, max: 3 }, { min: 2, max: 5 }), fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })), (c, noise) => {
        const a = suppressionPattern(SPEC, c.areas, c.leaves);
        const shuffled = c.areas.map((x) => ({ x, k: noise.next().value as number })).sort((p, q) => p.k - q.k).map((p) => p.x);
        const b = suppressionPattern(SPEC, shuffled, new Map([...c.leaves].reverse()));
        const cols = ['registered', 'livingAlone', 'highRisk', 'keyRisk', 'holidayVisits'];
        expect(c.areas.flatMap((x) => cols.map((k) => b.suppressed(x.id, k)))).toEqual(c.areas.flatMap((x) => cols.map((k) => a.suppressed(x.id, k))));
      }),
      { numRuns: 50, seed: 1719 },
    );
  });

  it('publishes a 小区 whose counts are all 5 or more when its neighbours are large too (no needless suppression)', () => {
    const big = { registered: 40, livingAlone: 10, highRisk: 8, keyRisk: 9, holidayVisits: 12 };
    const areas: AreaNode[] = [{ id: 'c', parent: null }, { id: 'c.d0', parent: 'c' }, { id: 'c.d0.x0', parent: 'c.d0' }, { id: 'c.d0.x1', parent: 'c.d0' }];
    const p = suppressionPattern(SPEC, areas, new Map([['c.d0.x0', big], ['c.d0.x1', big]]));
    expect(p.suppressedCells).toBe(0);
  });

  it('suppresses a second 小区 when one sibling is small, so the district total minus the visible 小区 no longer gives it', () => {
    const areas: AreaNode[] = [{ id: 'c', parent: null }, { id: 'c.d0', parent: 'c' }, ...['x0', 'x1', 'x2'].map((x) => ({ id: `c.d0.${x}`, parent: 'c.d0' }))];
    const leaves = new Map([
      ['c.d0.x0', { registered: 2, livingAlone: 1, highRisk: 1, keyRisk: 0, holidayVisits: 0 }],
      ['c.d0.x1', { registered: 30, livingAlone: 10, highRisk: 6, keyRisk: 7, holidayVisits: 9 }],
      ['c.d0.x2', { registered: 50, livingAlone: 20, highRisk: 9, keyRisk: 8, holidayVisits: 15 }],
    ]);
    const p = suppressionPattern(SPEC, areas, leaves);
    // Cell-by-cell suppression would publish x1 and x2: the district minus both gives x0 = 2.
    expect(['c.d0.x1', 'c.d0.x2'].some((x) => p.suppressed(x, 'registered'))).toBe(true);
    const audit = new Audit(SPEC, areas, p);
    const x0 = audit.cells.findIndex((c) => c.area === 'c.d0.x0' && c.column === 'registered');
    expect(audit.feasibleOther(x0)).toBe(true);
  });
});
