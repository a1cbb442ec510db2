/**
 * The 15-minute community life circle (15分钟社区生活圈) for the facility inventory: which facilities
 * lie within walking distance of a 小区. Locations are WGS84 GeoJSON points (never GCJ-02; see the
 * schema). Distances are great-circle distances on MongoDB's sphere (radius 6378100 m), so they
 * agree with `$near` / `$geoNear` / `$centerSphere` on the same data.
 */
import { distance } from '@turf/distance';
import { badInput } from '../../../lib/errors';

/** MongoDB's earth radius for spherical distances ($centerSphere radians × this = metres). */
export const EARTH_RADIUS_M = 6378100;
export const MAX_LIFE_CIRCLE_METRES = 5000;

export type LngLat = [number, number];
export interface GeoPoint {
  type: 'Point';
  coordinates: [number, number];
}
interface Located {
  location?: { type?: string | null; coordinates?: number[] | null } | null;
}

/** The radius argument of the life-circle fields: a whole number of metres in 1..5000 (default 1000). */
export function checkMetres(metres: number | null | undefined, field = 'metres'): number {
  const m = metres ?? 1000;
  if (!Number.isInteger(m) || m < 1 || m > MAX_LIFE_CIRCLE_METRES) {
    throw badInput(field, `must be a whole number of metres between 1 and ${MAX_LIFE_CIRCLE_METRES}, got ${m}`);
  }
  return m;
}

/** [lng, lat] of a stored GeoJSON point, or null when the document has none. */
export function pointOf(doc: Located | null | undefined): LngLat | null {
  const c = doc?.location?.coordinates;
  return doc?.location?.type === 'Point' && Array.isArray(c) && c.length === 2 ? [c[0], c[1]] : null;
}

export const distanceM = (a: LngLat, b: LngLat): number => distance(a, b, { units: 'radians' }) * EARTH_RADIUS_M;

/** A WGS84 point given as input, checked: finite, longitude -180..180, latitude -90..90. */
export function pointIn(field: string, p: { longitude: number; latitude: number }): GeoPoint {
  const { longitude: lng, latitude: lat } = p;
  if (!Number.isFinite(lng) || lng < -180 || lng > 180) throw badInput(`${field}.longitude`, `must be a WGS84 longitude between -180 and 180, got ${lng}`);
  if (!Number.isFinite(lat) || lat < -90 || lat > 90) throw badInput(`${field}.latitude`, `must be a WGS84 latitude between -90 and 90, got ${lat}`);
  return { type: 'Point', coordinates: [lng, lat] };
}

/** `$geoWithin` a circle of `metres` around `centre` on the sphere (uses the 2dsphere index). */
export const withinCircle = (centre: LngLat, metres: number) => ({ $geoWithin: { $centerSphere: [centre, metres / EARTH_RADIUS_M] } });

/**
 * The candidates within `metres` of `centre` with their distances, nearest first (ties by id).
 * The database already filtered by the same circle; this computes the distances and the order.
 */
export function nearestFirst<T extends Located & { _id: string }>(centre: LngLat, candidates: T[], metres: number): { item: T; distanceM: number }[] {
  const out: { item: T; distanceM: number }[] = [];
  for (const item of candidates) {
    const p = pointOf(item);
    if (!p) continue;
    const d = distanceM(centre, p);
    if (d <= metres) out.push({ item, distanceM: d });
  }
  return out.sort((x, y) => x.distanceM - y.distanceM || (x.item._id < y.item._id ? -1 : x.item._id > y.item._id ? 1 : 0));
}

/** GeoJSON point `metres` from `from` towards `bearing` (radians clockwise from north), on MongoDB's sphere. */
export function offsetPoint([lng, lat]: LngLat, metres: number, bearing: number): GeoPoint {
  const d = metres / EARTH_RADIUS_M;
  const dLat = d * Math.cos(bearing) * (180 / Math.PI);
  const dLng = (d * Math.sin(bearing) * (180 / Math.PI)) / Math.cos((lat * Math.PI) / 180);
  return { type: 'Point', coordinates: [+(lng + dLng).toFixed(6), +(lat + dLat).toFixed(6)] };
}
