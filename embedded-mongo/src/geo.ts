/**
 * Geospatial queries on GeoJSON points (2dsphere indexes): `$geoWithin` ($geometry Polygon /
 * MultiPolygon, $centerSphere, $box, $polygon), `$geoIntersects` (points against a Polygon,
 * MultiPolygon or Point), `$near` / `$nearSphere` ($geometry point, `$minDistance` /
 * `$maxDistance` in metres) and the `$geoNear` stage.
 *
 * Distances are great-circle distances on MongoDB's sphere (radius 6378100 m): `@turf/distance`
 * gives the central angle (haversine), scaled by that radius. Point-in-polygon is
 * `@turf/boolean-point-in-polygon`, which treats edges as straight lines in longitude/latitude,
 * where MongoDB uses great-circle edges; the two agree to within metres for polygons a few
 * kilometres across (the README says so).
 */
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import { distance } from '@turf/distance';
import { MongoServerError, unsupported } from './errors';
import { Doc, getPath, isPlainObject, renderValue, valuesAtPath } from './values';

/** MongoDB's earth radius for spherical distances (kRadiusOfEarthInMeters). */
export const EARTH_RADIUS_M = 6378100;

export type LngLat = [number, number];

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function checkLngLat(c: unknown, what: string): LngLat {
  if (!Array.isArray(c) || c.length < 2 || !isNum(c[0]) || !isNum(c[1])) throw new Error(`${what} must only contain numeric elements`);
  const [lng, lat] = c as number[];
  if (lng < -180 || lng > 180 || lat < -90 || lat > 90) throw new Error(`longitude/latitude is out of bounds, lng: ${lng} lat: ${lat}`);
  return [lng, lat];
}

/** A GeoJSON Point or a legacy [lng, lat] pair; null when the value is not a point at all. */
function pointOf(v: unknown): LngLat | null {
  if (isPlainObject(v) && v.type === 'Point') return checkLngLat(v.coordinates, 'Point');
  if (Array.isArray(v) && v.length === 2 && isNum(v[0]) && isNum(v[1])) return checkLngLat(v, 'Point');
  return null;
}

/** The points a document holds at a path (a GeoJSON point, a legacy pair, or an array of points). */
export function pointsAt(doc: Doc, path: string): LngLat[] {
  const raw = getPath(doc, path);
  const whole = safePoint(raw);
  if (whole) return [whole];
  const out: LngLat[] = [];
  for (const v of valuesAtPath(doc, path)) {
    const p = safePoint(v);
    if (p) out.push(p);
  }
  return out;
}

function safePoint(v: unknown): LngLat | null {
  try {
    return pointOf(v);
  } catch {
    return null;
  }
}

/**
 * What a 2dsphere index needs from a document: nothing (missing / null field: the index is
 * sparse), or valid GeoJSON. Throws 16755 "Can't extract geo keys" like MongoDB otherwise.
 */
export function validateGeoKey(doc: Doc, field: string): void {
  const v = getPath(doc, field);
  if (v === undefined || v === null) return;
  const fail = (why: string) =>
    new MongoServerError(16755, `Can't extract geo keys: ${renderValue(doc)}  ${why}`);
  const values = Array.isArray(v) && !(v.length === 2 && v.every(isNum)) ? v : [v];
  for (const one of values) {
    if (isPlainObject(one)) {
      if (one.type === 'Point') {
        try {
          checkLngLat(one.coordinates, 'Point');
        } catch (e) {
          throw fail((e as Error).message);
        }
        continue;
      }
      if (typeof one.type === 'string' && ['Polygon', 'MultiPolygon', 'LineString', 'MultiPoint', 'MultiLineString', 'GeometryCollection'].includes(one.type)) {
        throw unsupported(`2dsphere index keys of GeoJSON type ${one.type} (only Point is indexed)`);
      }
      throw fail(`unknown GeoJSON type: ${renderValue(one)}`);
    }
    if (Array.isArray(one)) {
      try {
        checkLngLat(one, 'Point');
      } catch (e) {
        throw fail((e as Error).message);
      }
      continue;
    }
    throw fail('geo element must be an array or object');
  }
}

export function distanceMeters(a: LngLat, b: LngLat): number {
  return distance(a, b, { units: 'radians' }) * EARTH_RADIUS_M;
}

function badQuery(msg: string): MongoServerError {
  return new MongoServerError(2, msg);
}

function closedRing(ring: unknown, what: string): LngLat[] {
  if (!Array.isArray(ring) || ring.length < 4) throw badQuery(`${what}: Loop must have at least 3 different vertices`);
  const pts = ring.map((c) => {
    try {
      return checkLngLat(c, what);
    } catch (e) {
      throw badQuery(`${what}: ${(e as Error).message}`);
    }
  });
  const [f, l] = [pts[0], pts[pts.length - 1]];
  if (f[0] !== l[0] || f[1] !== l[1]) throw badQuery(`${what}: Loop is not closed, first vertex does not equal last vertex`);
  const lngs = pts.map((p) => p[0]);
  if (Math.max(...lngs) - Math.min(...lngs) > 180) {
    // edges are planar in lng/lat here (see the module comment): such a ring would come out wrong
    throw unsupported('polygons spanning more than 180 degrees of longitude (antimeridian-crossing or larger than a hemisphere)', 2);
  }
  return pts;
}

type PointTest = (p: LngLat) => boolean;

/** `$geometry` of a query as a point test ($geoWithin / $geoIntersects). */
function geometryTest(g: unknown, op: string): PointTest {
  if (!isPlainObject(g) || typeof g.type !== 'string') throw badQuery(`${op} requires a GeoJSON $geometry with a type and coordinates`);
  const what = `invalid ${op} $geometry argument`;
  switch (g.type) {
    case 'Polygon': {
      if (!Array.isArray(g.coordinates) || g.coordinates.length === 0) throw badQuery(`${what}: Polygon coordinates must be an array of rings`);
      const poly = { type: 'Polygon' as const, coordinates: (g.coordinates as unknown[]).map((r) => closedRing(r, what)) };
      return (p) => booleanPointInPolygon(p, poly);
    }
    case 'MultiPolygon': {
      if (!Array.isArray(g.coordinates) || g.coordinates.length === 0) throw badQuery(`${what}: MultiPolygon coordinates must be an array of polygons`);
      const multi = {
        type: 'MultiPolygon' as const,
        coordinates: (g.coordinates as unknown[]).map((poly) => {
          if (!Array.isArray(poly) || poly.length === 0) throw badQuery(`${what}: Polygon coordinates must be an array of rings`);
          return poly.map((r) => closedRing(r, what));
        }),
      };
      return (p) => booleanPointInPolygon(p, multi);
    }
    case 'Point': {
      if (op === '$geoWithin') throw badQuery(`${what}: $geoWithin not supported with provided geometry: ${renderValue(g)}`);
      let q: LngLat;
      try {
        q = checkLngLat(g.coordinates, 'Point');
      } catch (e) {
        throw badQuery(`${what}: ${(e as Error).message}`);
      }
      return (p) => p[0] === q[0] && p[1] === q[1];
    }
    default:
      throw unsupported(`${op} with a GeoJSON ${String(g.type)} geometry (supported: Polygon, MultiPolygon${op === '$geoIntersects' ? ', Point' : ''})`, 2);
  }
}

/** A `$geoWithin` specification as a point test. */
export function geoWithinTest(spec: unknown): PointTest {
  if (!isPlainObject(spec)) throw badQuery('$geoWithin requires an object');
  if ('$geometry' in spec) return geometryTest(spec.$geometry, '$geoWithin');
  if ('$centerSphere' in spec) {
    const c = spec.$centerSphere;
    if (!Array.isArray(c) || c.length !== 2 || !isNum(c[1]) || c[1] < 0) throw badQuery('$centerSphere requires [[lng, lat], radius in radians]');
    let center: LngLat;
    try {
      center = checkLngLat(c[0], '$centerSphere center');
    } catch (e) {
      throw badQuery(`invalid $centerSphere: ${(e as Error).message}`);
    }
    const r = c[1] as number;
    return (p) => distance(center, p, { units: 'radians' }) <= r;
  }
  if ('$box' in spec) {
    const b = spec.$box;
    if (!Array.isArray(b) || b.length !== 2 || !b.every((c) => Array.isArray(c) && c.length === 2 && c.every(isNum))) throw badQuery('$box requires [[x1, y1], [x2, y2]]');
    const [[x1, y1], [x2, y2]] = b as number[][];
    const [minX, maxX, minY, maxY] = [Math.min(x1, x2), Math.max(x1, x2), Math.min(y1, y2), Math.max(y1, y2)];
    return (p) => p[0] >= minX && p[0] <= maxX && p[1] >= minY && p[1] <= maxY;
  }
  if ('$polygon' in spec) {
    const ring = spec.$polygon;
    if (!Array.isArray(ring) || ring.length < 3) throw badQuery('$polygon requires at least 3 points');
    const pts = ring.map((c) => {
      if (!Array.isArray(c) || c.length !== 2 || !c.every(isNum)) throw badQuery('$polygon points must be [x, y] pairs');
      return c as LngLat;
    });
    const poly = { type: 'Polygon' as const, coordinates: [[...pts, pts[0]]] };
    return (p) => booleanPointInPolygon(p, poly);
  }
  if ('$center' in spec) throw unsupported('$center (flat legacy circle, 2d indexes); use $centerSphere', 2);
  throw badQuery(`unknown geo specifier: ${Object.keys(spec)[0] ?? '(empty)'}`);
}

export function geoIntersectsTest(spec: unknown): PointTest {
  if (!isPlainObject(spec) || !('$geometry' in spec)) throw badQuery('$geoIntersects requires a $geometry');
  return geometryTest(spec.$geometry, '$geoIntersects');
}

export interface NearSpec {
  point: LngLat;
  min: number;
  max: number;
}

/**
 * `$near` / `$nearSphere` with a GeoJSON point (distances in metres). The legacy coordinate-pair
 * forms belong to 2d indexes, which the engine refuses.
 */
export function parseNear(op: string, value: unknown, outerMax: unknown, outerMin: unknown): NearSpec {
  if (!isPlainObject(value) || !('$geometry' in value)) {
    throw unsupported(`${op} with legacy coordinate pairs (2d indexes); use {${op}: {$geometry: {type: 'Point', coordinates: [lng, lat]}}}`, 2);
  }
  const g = value.$geometry;
  if (!isPlainObject(g) || g.type !== 'Point') throw badQuery(`invalid point in geo near query $geometry argument: ${renderValue(g)}`);
  let point: LngLat;
  try {
    point = checkLngLat(g.coordinates, 'Point');
  } catch (e) {
    throw badQuery(`invalid point in geo near query $geometry argument: ${renderValue(g)}  ${(e as Error).message}`);
  }
  const max = value.$maxDistance ?? outerMax;
  const min = value.$minDistance ?? outerMin;
  for (const [n, v] of [['$maxDistance', max], ['$minDistance', min]] as const) {
    if (v !== undefined && (!isNum(v) || v < 0)) throw badQuery(`${n} must be a non-negative number`);
  }
  return { point, min: (min as number | undefined) ?? 0, max: (max as number | undefined) ?? Infinity };
}

/** Smallest distance from the query point to any point of the document (MongoDB's near distance). */
export function nearDistance(doc: Doc, field: string, point: LngLat): number | null {
  let best: number | null = null;
  for (const p of pointsAt(doc, field)) {
    const d = distanceMeters(point, p);
    if (best === null || d < best) best = d;
  }
  return best;
}

export function pointsTest(field: string, test: PointTest): (doc: Doc) => boolean {
  return (doc) => pointsAt(doc, field).some(test);
}

export interface BBox {
  minLng: number;
  maxLng: number;
  minLat: number;
  maxLat: number;
}

function circleBox(center: LngLat, metres: number): BBox | null {
  if (!Number.isFinite(metres)) return null;
  const dLat = (metres / EARTH_RADIUS_M) * (180 / Math.PI);
  const maxAbsLat = Math.abs(center[1]) + dLat;
  if (maxAbsLat >= 89) return null; // near a pole: scan
  const dLng = dLat / Math.cos((maxAbsLat * Math.PI) / 180);
  if (center[0] - dLng < -180 || center[0] + dLng > 180) return null; // crosses the antimeridian: scan
  return { minLng: center[0] - dLng, maxLng: center[0] + dLng, minLat: center[1] - dLat, maxLat: center[1] + dLat };
}

function coordsBox(coords: unknown): BBox | null {
  const box: BBox = { minLng: Infinity, maxLng: -Infinity, minLat: Infinity, maxLat: -Infinity };
  const visit = (c: unknown): boolean => {
    if (Array.isArray(c) && c.length >= 2 && isNum(c[0]) && isNum(c[1])) {
      box.minLng = Math.min(box.minLng, c[0]);
      box.maxLng = Math.max(box.maxLng, c[0]);
      box.minLat = Math.min(box.minLat, c[1]);
      box.maxLat = Math.max(box.maxLat, c[1]);
      return true;
    }
    return Array.isArray(c) && c.every(visit);
  };
  return visit(coords) && box.minLng <= box.maxLng ? box : null;
}

/**
 * A longitude/latitude box that holds every point a geo condition can match (for the 2dsphere
 * index's grid), or null when the condition is not one of these or the box would be unsafe.
 * Only called on conditions that already parsed (the query compiled).
 */
export function conditionBox(cond: unknown): BBox | null {
  if (!isPlainObject(cond)) return null;
  try {
    for (const op of ['$near', '$nearSphere']) {
      if (op in cond) {
        const n = parseNear(op, cond[op], cond.$maxDistance, cond.$minDistance);
        return circleBox(n.point, n.max);
      }
    }
    const spec = (cond.$geoWithin ?? cond.$geoIntersects) as Doc | undefined;
    if (!isPlainObject(spec)) return null;
    if (isPlainObject(spec.$geometry)) {
      const g = spec.$geometry;
      return g.type === 'Polygon' || g.type === 'MultiPolygon' || g.type === 'Point' ? coordsBox(g.coordinates) : null;
    }
    if (Array.isArray(spec.$centerSphere) && isNum(spec.$centerSphere[1])) {
      return circleBox(checkLngLat(spec.$centerSphere[0], 'center'), (spec.$centerSphere[1] as number) * EARTH_RADIUS_M);
    }
    if (Array.isArray(spec.$box)) return coordsBox(spec.$box);
    if (Array.isArray(spec.$polygon)) return coordsBox(spec.$polygon);
  } catch {
    return null;
  }
  return null;
}

/** Grid cell size of the 2dsphere index, in degrees (about 5.5 km of latitude). */
export const GEO_CELL = 0.05;

export function cellKey(lng: number, lat: number): number {
  // lat in [-90, 90], lng in [-180, 180]: at most 3600 x 7200 cells, one number per cell
  return Math.floor((lat + 90) / GEO_CELL) * 10_000 + Math.floor((lng + 180) / GEO_CELL);
}

export function cellsOf(box: BBox): number[] {
  const out: number[] = [];
  const la0 = Math.floor((box.minLat + 90) / GEO_CELL);
  const la1 = Math.floor((box.maxLat + 90) / GEO_CELL);
  const lo0 = Math.floor((box.minLng + 180) / GEO_CELL);
  const lo1 = Math.floor((box.maxLng + 180) / GEO_CELL);
  if ((la1 - la0 + 1) * (lo1 - lo0 + 1) > 200_000) return [];
  for (let a = la0; a <= la1; a++) for (let o = lo0; o <= lo1; o++) out.push(a * 10_000 + o);
  return out;
}
