/**
 * The synthetic city's district outlines: each city's districts tile its area without overlapping,
 * and every synthetic 小区 lies inside its own district's outline (WGS84), for several sizes and
 * seeds, while the rest of the skeleton stays deterministic per seed.
 */
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import { cityBbox, districtOutline, districtOutlines, generateCity } from '../../scripts/synthetic/city';

/** Planar area of a closed ring (shoelace), in square degrees. */
function ringArea(ring: number[][]): number {
  let a = 0;
  for (let i = 0; i + 1 < ring.length; i++) a += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1];
  return Math.abs(a) / 2;
}

const CITIES = ['320100', '320700'];
const districtsOf = (city: string) => [...districtOutlines().keys()].filter((code) => code.slice(0, 4) === city.slice(0, 4));

describe('synthetic city: district outlines', () => {
  it('every district of the skeleton has a closed polygon outline inside its city’s bounding box', () => {
    const { areas } = generateCity(200, 7);
    const districts = areas.filter((a) => a.level === 'DISTRICT');
    expect(districts.length).toBe(17);
    for (const d of districts) {
      const outline = districtOutline(d.code);
      expect(outline?.type).toBe('Polygon');
      const ring = outline!.coordinates[0];
      expect(ring.length).toBeGreaterThanOrEqual(4);
      expect(ring[0]).toEqual(ring[ring.length - 1]);
      const [w, s, e, n] = cityBbox(d.cityCode)!;
      for (const [lng, lat] of ring) {
        expect(lng).toBeGreaterThanOrEqual(w - 1e-9);
        expect(lng).toBeLessThanOrEqual(e + 1e-9);
        expect(lat).toBeGreaterThanOrEqual(s - 1e-9);
        expect(lat).toBeLessThanOrEqual(n + 1e-9);
      }
    }
  });

  it.each(CITIES)('the districts of city %s do not overlap and together cover its bounding box', (city) => {
    const codes = districtsOf(city);
    const [w, s, e, n] = cityBbox(city)!;
    // Areas add up to the box: no gap, and (with the grid below) no double cover.
    const total = codes.reduce((sum, c) => sum + ringArea(districtOutline(c)!.coordinates[0]), 0);
    expect(total).toBeCloseTo((e - w) * (n - s), 9);
    // A 60 x 60 grid of points strictly inside the box: each lies in the interior of at most one
    // district, and inside (boundary included) at least one.
    for (let i = 0; i < 60; i++) {
      for (let j = 0; j < 60; j++) {
        const p = [w + ((i + 0.5) * (e - w)) / 60, s + ((j + 0.5) * (n - s)) / 60];
        const interior = codes.filter((c) => booleanPointInPolygon(p, districtOutline(c)!, { ignoreBoundary: true }));
        const touching = codes.filter((c) => booleanPointInPolygon(p, districtOutline(c)!));
        expect(interior.length).toBeLessThanOrEqual(1);
        expect(touching.length).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it.each([
    [400, 42],
    [2000, 7],
    [60, 11],
  ])('every synthetic 小区 of a %i-小区 city (seed %i) lies inside its district’s outline', (n, seed) => {
    const { communities } = generateCity(n, seed);
    expect(communities.length).toBe(n);
    const outside = communities.filter((c) => !booleanPointInPolygon([c.lng, c.lat], districtOutline(c.districtCode)!, { ignoreBoundary: true }));
    expect(outside.map((c) => `${c.id} ${c.lng},${c.lat}`)).toEqual([]);
    // …and not all at one spot: the 小区 of a district are spread out.
    const first = communities.filter((c) => c.districtCode === communities[0].districtCode);
    expect(new Set(first.map((c) => `${c.lng},${c.lat}`)).size).toBe(first.length);
  });

  it('the same size and seed give the same 小区 and locations; another seed moves them within their districts', () => {
    const a = generateCity(300, 5);
    expect(generateCity(300, 5)).toEqual(a);
    const b = generateCity(300, 6);
    expect(b.communities.map((c) => c.id)).toEqual(a.communities.map((c) => c.id));
    expect(b.communities.filter((c, i) => c.lat !== a.communities[i].lat).length).toBeGreaterThan(250);
  });

  it('the article’s real 小区 fall inside their own districts’ outlines', () => {
    // Approximate WGS84 locations of 瑞金新村 (秦淮区), 怡江苑 (栖霞区), 东方瑞园 and 新海花园 (海州区).
    const real: [string, number, number][] = [
      ['320104', 118.8175, 32.0372],
      ['320113', 118.8305, 32.124],
      ['320706', 119.2065, 34.596],
      ['320706', 119.188, 34.6],
    ];
    for (const [code, lng, lat] of real) {
      const inside = [...districtOutlines()].filter(([, p]) => booleanPointInPolygon([lng, lat], p)).map(([c]) => c);
      expect(inside).toEqual([code]);
    }
  });
});
