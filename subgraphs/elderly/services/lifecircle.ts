/**
 * The 15-minute community life circle (15分钟社区生活圈): what lies within walking distance of a 小区.
 * Locations are WGS84 GeoJSON points (never GCJ-02; see the schema). Distances are great-circle
 * distances on MongoDB's sphere (radius 6378100 m), so they agree with `$near` / `$geoNear` on the
 * same data. Each batch is one indexed `$geoWithin` read of the candidates around all the batch's
 * 小区, then exact distances here.
 */
import { distance } from '@turf/distance';
import { badInput } from '../../../lib/errors';

/** MongoDB's earth radius for spherical distances. */
export const EARTH_RADIUS_M = 6378100;
export const MAX_LIFE_CIRCLE_METRES = 5000;

export type LngLat = [number, number];
export interface Located {
  location?: { type?: string; coordinates?: number[] } | null;
}

export function checkMetres(metres: number | null | undefined): number {
  const m = metres ?? 1000;
  if (!Number.isInteger(m) || m < 1 || m > MAX_LIFE_CIRCLE_METRES) throw badInput('metres', `must be an integer between 1 and ${MAX_LIFE_CIRCLE_METRES}`);
  return m;
}

export function pointOf(doc: Located | null | undefined): LngLat | null {
  const c = doc?.location?.coordinates;
  return doc?.location?.type === 'Point' && Array.isArray(c) && c.length === 2 ? [c[0], c[1]] : null;
}

export function distanceM(a: LngLat, b: LngLat): number {
  return distance(a, b, { units: 'radians' }) * EARTH_RADIUS_M;
}

/** A `$geoWithin: {$box}` (degrees) holding every point within `metres` of any of `centres`. */
export function boxAround(centres: LngLat[], metres: number): [LngLat, LngLat] {
  const dLat = (metres / EARTH_RADIUS_M) * (180 / Math.PI);
  let [minLng, minLat, maxLng, maxLat] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [lng, lat] of centres) {
    const dLng = dLat / Math.max(0.01, Math.cos(((Math.abs(lat) + dLat) * Math.PI) / 180));
    minLng = Math.min(minLng, lng - dLng);
    maxLng = Math.max(maxLng, lng + dLng);
    minLat = Math.min(minLat, lat - dLat);
    maxLat = Math.max(maxLat, lat + dLat);
  }
  return [
    [Math.max(-180, minLng), Math.max(-90, minLat)],
    [Math.min(180, maxLng), Math.min(90, maxLat)],
  ];
}

/**
 * For each centre, the candidates within `metres`, nearest first (ties by id). Candidates are
 * bucketed in cells of about `metres`, so each centre looks at its own and the adjacent cells only.
 */
export function withinEach<T extends Located & { _id: string }>(centres: (LngLat | null)[], candidates: T[], metres: number): { item: T; distanceM: number }[][] {
  const cell = Math.max((metres / EARTH_RADIUS_M) * (180 / Math.PI), 1e-4);
  const key = (lng: number, lat: number) => `${Math.floor(lat / cell)}:${Math.floor(lng / cell)}`;
  const buckets = new Map<string, { item: T; p: LngLat }[]>();
  for (const item of candidates) {
    const p = pointOf(item);
    if (!p) continue;
    const k = key(p[0], p[1]);
    (buckets.get(k) ?? buckets.set(k, []).get(k)!).push({ item, p });
  }
  return centres.map((c) => {
    if (!c) return [];
    const out: { item: T; distanceM: number }[] = [];
    const lngCells = Math.ceil(1 / Math.max(0.01, Math.cos((Math.abs(c[1]) * Math.PI) / 180)));
    const la = Math.floor(c[1] / cell);
    const lo = Math.floor(c[0] / cell);
    for (let a = la - 1; a <= la + 1; a++) {
      for (let o = lo - lngCells; o <= lo + lngCells; o++) {
        for (const { item, p } of buckets.get(`${a}:${o}`) ?? []) {
          const d = distanceM(c, p);
          if (d <= metres) out.push({ item, distanceM: d });
        }
      }
    }
    return out.sort((x, y) => x.distanceM - y.distanceM || (x.item._id < y.item._id ? -1 : x.item._id > y.item._id ? 1 : 0));
  });
}
