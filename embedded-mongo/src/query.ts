/**
 * Query execution: refusal scans, a small planner (equality / $in / range on the first field of
 * an index, index-ordered sort on a single indexed field), and mingo for the actual semantics
 * (the planner only narrows the candidate set; mingo re-checks every candidate).
 */
import { Decimal128, Long, ObjectId } from 'bson';
import { Aggregator, Context } from 'mingo';
import type * as CoreModule from 'mingo/types/core';
import { makeQuery, MingoQuery } from './mingo';
import { mapMingoError, MongoServerError, unsupported } from './errors';
import { FIX_ACCUMULATOR_OPS, FIX_EXPRESSION_OPS, FIX_PIPELINE_OPS, FIX_QUERY_OPS, rewritePipeline } from './fixes';
import { Bail, fastAggregate, fastStats, SourceHost } from './fast';
import { Index } from './indexes';
import { Collection, Engine, stats } from './storage';
import { compareValues } from './compare';
import { nullProto, remark } from './numtypes';
import { conditionBox, NearSpec, nearDistance, parseNear } from './geo';
import { cloneDoc, Doc, getPath, idFirst, isPlainObject, setPath, valuesAtPath } from './values';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { evalExpr } = require('mingo/core') as typeof CoreModule;

/** Query/expression operators the engine refuses, with the feature name used in the error. */
const FORBIDDEN_OPS: Record<string, string> = nullProto({
  $text: '$text',
  $within: '$within (deprecated geo operator; use $geoWithin)',
  $center: '$center (flat legacy circle, 2d indexes); use $centerSphere',
  $where: '$where',
  $function: '$function',
  $accumulator: '$accumulator',
  $jsonSchema: '$jsonSchema',
  $meta: '$meta (text search score)',
});

const FORBIDDEN_STAGES: Record<string, string> = nullProto({
  $changeStream: 'change streams ($changeStream)',
  $search: '$search (Atlas Search)',
  $searchMeta: '$searchMeta (Atlas Search)',
  $vectorSearch: '$vectorSearch',
  $merge: '$merge',
  $collStats: '$collStats',
  $indexStats: '$indexStats',
  $currentOp: '$currentOp',
  $listSessions: '$listSessions',
  $listLocalSessions: '$listLocalSessions',
  $planCacheStats: '$planCacheStats',
});

/** Walk a filter / expression / update and refuse unsupported operators and Decimal128 values. */
export function refuseUnsupported(value: unknown, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 200) return;
  if (value instanceof Decimal128) throw unsupported('Decimal128 in comparisons, arithmetic or sort', 115);
  if (value instanceof Long) throw unsupported('int64 values beyond 2^53 in comparisons, arithmetic or sort', 115);
  if (Array.isArray(value)) {
    for (const v of value) refuseUnsupported(v, depth + 1);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const k of Object.keys(value)) {
    if (FORBIDDEN_OPS[k]) throw unsupported(FORBIDDEN_OPS[k]);
    refuseUnsupported(value[k], depth + 1);
  }
}

export function refuseCollation(collation: unknown): void {
  if (collation === undefined || collation === null) return;
  if (isPlainObject(collation) && collation.locale === 'simple' && Object.keys(collation).length === 1) return;
  throw unsupported('collation');
}

/** Conditions that only test presence or type are safe on Decimal128 values. */
function presenceOnly(cond: unknown): boolean {
  return isOperatorObject(cond) && Object.keys(cond).every((k) => k === '$exists' || k === '$type');
}

/**
 * Field roots whose values a filter compares (for the Decimal128 guard). Returns true when the
 * filter holds something opaque ($expr, $where...) that could compare any field.
 */
function comparedRoots(filter: unknown, out: Set<string>): boolean {
  if (!isPlainObject(filter)) return false;
  let opaque = false;
  for (const k of Object.keys(filter)) {
    if (k === '$and' || k === '$or' || k === '$nor') {
      for (const sub of (filter[k] as unknown[]) ?? []) opaque = comparedRoots(sub, out) || opaque;
    } else if (k.startsWith('$')) {
      if (k !== '$comment') opaque = true;
    } else if (!presenceOnly(filter[k])) out.add(k.split('.')[0]);
  }
  return opaque;
}

function guardDecimals(coll: Collection, filter: Doc, sort: Doc | undefined): void {
  if (coll.decimalFields.size === 0) return;
  const roots = new Set<string>();
  const opaque = comparedRoots(filter, roots);
  if (sort) for (const k of Object.keys(sort)) roots.add(k.split('.')[0]);
  for (const r of roots) {
    if (coll.decimalFields.has(r)) throw unsupported(`Decimal128 / large int64 in comparisons, arithmetic or sort (field '${r}')`);
  }
  if (opaque) throw unsupported('Decimal128 in comparisons, arithmetic or sort ($expr over a collection holding Decimal128 values)');
}

function isIndexableScalar(v: unknown): boolean {
  const t = typeof v;
  return t === 'string' || t === 'number' || t === 'boolean' || v instanceof ObjectId || v instanceof Date;
}

function isOperatorObject(c: unknown): c is Doc {
  if (!isPlainObject(c)) return false;
  const ks = Object.keys(c);
  return ks.length > 0 && ks.every((k) => k.startsWith('$'));
}

/** Equality values implied by a field condition, or null when it is not a pure equality. */
function eqValues(c: unknown): unknown[] | null {
  if (!isOperatorObject(c)) return isIndexableScalar(c) ? [c] : null;
  if ('$eq' in c && isIndexableScalar(c.$eq)) return [c.$eq];
  if (Array.isArray(c.$in) && c.$in.every(isIndexableScalar)) return c.$in;
  return null;
}

type Bound = { v: unknown; incl: boolean } | null;

function rangeBounds(c: unknown): { lower: Bound; upper: Bound } | null {
  if (!isOperatorObject(c)) return null;
  const ok = (v: unknown) => isIndexableScalar(v) && typeof v !== 'boolean';
  let lower: Bound = null;
  let upper: Bound = null;
  if (ok(c.$gt)) lower = { v: c.$gt, incl: false };
  if (ok(c.$gte)) lower = { v: c.$gte, incl: true };
  if (ok(c.$lt)) upper = { v: c.$lt, incl: false };
  if (ok(c.$lte)) upper = { v: c.$lte, incl: true };
  if (!lower && !upper) return null;
  return { lower, upper };
}

/** Top-level field conditions of a filter, including those inside a top-level $and. */
function fieldConds(filter: Doc, out: [string, unknown][] = []): [string, unknown][] {
  for (const k of Object.keys(filter)) {
    if (k === '$and' && Array.isArray(filter.$and)) {
      for (const sub of filter.$and) if (isPlainObject(sub)) fieldConds(sub, out);
    } else if (!k.startsWith('$')) out.push([k, filter[k]]);
  }
  return out;
}

function usableIndexes(coll: Collection, field: string): Index[] {
  return coll.indexes.filter((i) => i.firstField === field && !i.isPartial && i.geoFields.length === 0);
}

/** The best index access for a filter: its estimated size, and the record ids on demand. */
export interface CandidatePlan {
  /** Entries the index access visits (exact for equality / $in, an upper bound for ranges). */
  estimate: number;
  rids(): Set<number>;
  /** The same record ids, ascending (natural order). */
  sortedRids(): Float64Array;
}

/** Choose the index access with the fewest entries, without building any candidate set. */
export function planCandidates(coll: Collection, filter: Doc): CandidatePlan | null {
  let best: CandidatePlan | null = null;
  for (const [field, cond] of fieldConds(filter)) {
    const box = isPlainObject(cond) ? conditionBox(cond) : null;
    if (box) {
      const gix = coll.indexes.find((i) => i.geoFields[0] === field && !i.isPartial);
      const g = gix?.geoCandidates(box);
      if (g && (best === null || g.estimate < best.estimate)) {
        best = { estimate: g.estimate, rids: g.rids, sortedRids: () => Float64Array.from(g.rids()).sort() };
      }
      continue;
    }
    const ixs = usableIndexes(coll, field);
    if (ixs.length === 0) continue;
    const ix = ixs[0];
    let plan: CandidatePlan | null = null;
    const eq = eqValues(cond);
    if (eq) plan = { estimate: ix.countFirst(eq), rids: () => ix.lookupFirst(eq), sortedRids: () => Float64Array.from(ix.lookupFirst(eq)).sort() };
    else if (!ix.spec.sparse) {
      const r = rangeBounds(cond);
      if (r) {
        // On a multikey index two bounds may be satisfied by different elements: use one.
        if (ix.multikey && r.lower && r.upper) r.upper = null;
        plan = { estimate: ix.rangeSpan(r.lower, r.upper), rids: () => ix.lookupRange(r.lower, r.upper), sortedRids: () => ix.rangeRidsSorted(r.lower, r.upper) };
      }
    }
    if (plan && (best === null || plan.estimate < best.estimate)) best = plan;
  }
  // A top-level $or (or one inside $and) whose every branch has an index access: the union of the
  // branches' candidates, as MongoDB's OR stage does.
  for (const branches of orClauses(filter)) {
    const plans = branches.map((b) => (isPlainObject(b) ? planCandidates(coll, b) : null));
    if (!plans.length || plans.some((p) => p === null)) continue;
    const ok = plans as CandidatePlan[];
    const estimate = ok.reduce((n, p) => n + p.estimate, 0);
    if (best !== null && estimate >= best.estimate) continue;
    const rids = () => {
      const out = new Set<number>();
      for (const p of ok) for (const r of p.rids()) out.add(r);
      return out;
    };
    // Many candidates: mark the branches' (sorted) record ids in a bitmap over the record ids and
    // read it back in order, instead of a Set of every id and a sort.
    const sortedRids = () => {
      const size = coll.byRid.length;
      if (estimate * 16 < size) return Float64Array.from(rids()).sort();
      const bits = new Uint8Array(size);
      for (const p of ok) {
        const r = p.sortedRids();
        for (let i = 0; i < r.length; i++) bits[r[i]] = 1;
      }
      let n = 0;
      for (let i = 0; i < size; i++) n += bits[i];
      const out = new Float64Array(n);
      for (let i = 0, j = 0; j < n; i++) if (bits[i] === 1) out[j++] = i;
      return out;
    };
    best = { estimate, rids, sortedRids };
  }
  return best;
}

/** The $or arrays of a filter: at the top level and inside top-level $and. */
function orClauses(filter: Doc, out: unknown[][] = []): unknown[][] {
  if (Array.isArray(filter.$or)) out.push(filter.$or);
  if (Array.isArray(filter.$and)) for (const sub of filter.$and) if (isPlainObject(sub)) orClauses(sub, out);
  return out;
}

/** Candidate record ids from the best index, or null for a collection scan. */
export function candidateRids(coll: Collection, filter: Doc): Set<number> | null {
  return planCandidates(coll, filter)?.rids() ?? null;
}

export interface FindSpec {
  filter?: Doc;
  sort?: Doc;
  projection?: Doc;
  skip?: number;
  limit?: number;
  hint?: unknown;
}

function compileQuery(filter: Doc): MingoQuery {
  try {
    return makeQuery(filter);
  } catch (e) {
    throw mapMingoError(e);
  }
}

function validateSort(sort: Doc | undefined): Doc | undefined {
  if (!sort || Object.keys(sort).length === 0) return undefined;
  for (const [k, v] of Object.entries(sort)) {
    if (isPlainObject(v)) throw unsupported('$meta sort (text search score)');
    if (v !== 1 && v !== -1) throw new MongoServerError(15975, `$sort key ordering must be 1 (for ascending) or -1 (for descending)`);
    void k;
  }
  return sort;
}

/** Matching documents in natural order (no sort/skip/limit/projection). */
export function matchDocs(coll: Collection, filter: Doc, limit = 0, compiled?: MingoQuery): { rids: number[]; docs: Doc[] } {
  refuseUnsupported(filter);
  guardDecimals(coll, filter, undefined);
  const q = compiled ?? compileQuery(filter);
  const cand = candidateRids(coll, filter);
  const rids: number[] = [];
  const docs: Doc[] = [];
  const visit = (rid: number, doc: Doc): boolean => {
    stats.docsExamined++;
    let hit: boolean;
    try {
      hit = q.test(doc);
    } catch (e) {
      throw mapMingoError(e);
    }
    if (hit) {
      rids.push(rid);
      docs.push(doc);
      if (limit > 0 && docs.length >= limit) return false;
    }
    return true;
  };
  if (cand) {
    stats.indexLookups++;
    for (const rid of [...cand].sort((a, b) => a - b)) if (!visit(rid, coll.docs.get(rid)!)) break;
  } else {
    stats.collScans++;
    for (const [rid, doc] of coll.docs) if (!visit(rid, doc)) break;
  }
  return { rids, docs };
}

/** The sort key of a document for one field: MongoDB uses the smallest array element ascending, the largest descending. */
function sortKey(doc: Doc, path: string, dir: number): unknown {
  const vals = valuesAtPath(doc, path);
  let best: unknown = vals[0] === undefined ? null : vals[0];
  for (let i = 1; i < vals.length; i++) {
    const v = vals[i] === undefined ? null : vals[i];
    const c = compareValues(v, best);
    if ((dir === 1 && c < 0) || (dir === -1 && c > 0)) best = v;
  }
  return best;
}

/** Stable sort in BSON order (MongoDB's comparison across types, BinData, array fields). */
export function bsonSort(docs: Doc[], sort: Doc): Doc[] {
  const keys = Object.entries(sort).map(([p, d]) => [p, d === -1 ? -1 : 1] as const);
  const decorated = docs.map((d, i) => ({ d, i, k: keys.map(([p, dir]) => sortKey(d, p, dir)) }));
  decorated.sort((a, b) => {
    for (let j = 0; j < keys.length; j++) {
      const c = compareValues(a.k[j], b.k[j]);
      if (c !== 0) return c * keys[j][1];
    }
    return a.i - b.i;
  });
  return decorated.map((x) => x.d);
}

/** The index a `hint` names (by name or key pattern), `$natural`, or an error like MongoDB's. */
function resolveHint(coll: Collection, hint: unknown): Index | { natural: number } | null {
  if (hint === undefined || hint === null || (isPlainObject(hint) && Object.keys(hint).length === 0)) return null;
  if (isPlainObject(hint) && '$natural' in hint) return { natural: hint.$natural === -1 ? -1 : 1 };
  const ix = typeof hint === 'string' ? coll.getIndex(hint) : coll.indexes.find((i) => JSON.stringify(i.spec.key) === JSON.stringify(hint));
  if (!ix) {
    throw new MongoServerError(2, `error processing query: ns=${coll.ns} planner returned error :: caused by :: hint provided does not correspond to an existing index`);
  }
  return ix;
}

/**
 * Find-style projection. mingo handles inclusion / exclusion / positional `$`; `$slice` (keeps the
 * other fields unless an inclusion is given) and `$elemMatch` (first matching element; an
 * inclusion of its field) are applied here as MongoDB does.
 */
export function projectDocs(page: Doc[], projection: Doc, filter: Doc): Doc[] {
  const slices: [string, unknown][] = [];
  const elemMatches: [string, unknown][] = [];
  const rest: Doc = {};
  for (const [k, v] of Object.entries(projection)) {
    if (isPlainObject(v) && '$slice' in v && Object.keys(v).length === 1) slices.push([k, v.$slice]);
    else if (isPlainObject(v) && '$elemMatch' in v && Object.keys(v).length === 1) elemMatches.push([k, v.$elemMatch]);
    else setOwnKey(rest, k, v);
  }
  const restFields = Object.keys(rest).filter((k) => k !== '_id');
  const inclusion = restFields.some((k) => rest[k] !== 0 && rest[k] !== false) || (restFields.length === 0 && elemMatches.length > 0);
  if (inclusion) for (const [k] of [...slices, ...elemMatches]) rest[k] = 1;
  let out: Doc[];
  try {
    if (Object.keys(rest).length) {
      if (Object.keys(rest).some((k) => k.includes('.'))) page = page.map(cloneDoc);
      const q = compileQuery(filter);
      const projected = q.find(page, rest).all() as Doc[];
      out = projected.map((d, i) => {
        remark(d, page[i]);
        return idFirst(d);
      });
    } else out = page.map(cloneDoc);
  } catch (e) {
    throw mapMingoError(e);
  }
  if (slices.length === 0 && elemMatches.length === 0) return out;
  const elemQueries = elemMatches.map(([k, spec]) => [k, compileQuery({ v: { $elemMatch: spec } })] as const);
  for (const d of out) {
    for (const [k, spec] of slices) {
      const arr = getPath(d, k);
      if (!Array.isArray(arr)) continue;
      let sliced: unknown[];
      if (typeof spec === 'number') sliced = spec >= 0 ? arr.slice(0, spec) : arr.slice(Math.max(0, arr.length + spec));
      else if (Array.isArray(spec) && spec.length === 2) {
        const [skip, n] = spec as number[];
        if (n <= 0) throw new MongoServerError(28724, 'Second argument to $slice must be a positive number');
        const start = skip >= 0 ? skip : Math.max(0, arr.length + skip);
        sliced = arr.slice(start, start + n);
      } else throw new MongoServerError(28667, `Invalid $slice syntax. The given syntax { $slice: ${JSON.stringify(spec)} } did not match the find() syntax`);
      setPath(d, k, sliced);
    }
    for (const [k, q] of elemQueries) {
      const arr = d[k];
      const hit = Array.isArray(arr) ? arr.find((e) => q.test({ v: [e] })) : undefined;
      if (hit === undefined) delete d[k];
      else d[k] = [hit];
    }
  }
  return out;
}

function setOwnKey(o: Doc, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

/**
 * The `$near` / `$nearSphere` condition of a filter, if any. MongoDB requires a 2dsphere index on
 * the field (code 291) and allows one near condition, at the top level.
 */
function nearCondition(coll: Collection, filter: Doc): { field: string; spec: NearSpec } | null {
  for (const k of ['$or', '$nor', '$not']) {
    if (k in filter && /"\$near(Sphere)?"/.test(JSON.stringify(filter[k]) ?? '')) throw new MongoServerError(2, 'geo near must be top-level expr');
  }
  let found: { field: string; spec: NearSpec } | null = null;
  for (const [field, cond] of fieldConds(filter)) {
    if (!isPlainObject(cond)) continue;
    for (const op of ['$near', '$nearSphere']) {
      if (!(op in cond)) continue;
      if (found) throw new MongoServerError(2, 'Too many geoNear expressions');
      found = { field, spec: parseNear(op, cond[op], cond.$maxDistance, cond.$minDistance) };
      if (!coll.indexes.some((i) => i.geoFields.includes(field))) {
        throw new MongoServerError(291, `error processing query: ns=${coll.ns} planner returned error :: caused by :: unable to find index for $geoNear query`);
      }
    }
  }
  return found;
}

/** The `$geoNear` stage (first stage only): nearest documents first, with their distance. */
function geoNearStage(coll: Collection | undefined, spec: unknown): Doc[] {
  if (!isPlainObject(spec)) throw new MongoServerError(10065, 'invalid parameter: expected an object ($geoNear)');
  if (typeof spec.distanceField !== 'string' || spec.distanceField === '') throw new MongoServerError(40414, "BSON field '$geoNear.distanceField' is missing but a required field");
  if (!isPlainObject(spec.near)) throw unsupported('$geoNear with legacy coordinate pairs (2d indexes); use near: {type: "Point", coordinates: [lng, lat]}', 2);
  if (!coll) return [];
  const geoIxs = coll.indexes.filter((i) => i.geoFields.length > 0);
  let field: string;
  if (typeof spec.key === 'string') {
    if (!geoIxs.some((i) => i.geoFields.includes(spec.key as string))) {
      throw new MongoServerError(2, `$geoNear requires a 2d or 2dsphere index on '${spec.key}' (no index found)`);
    }
    field = spec.key;
  } else {
    if (geoIxs.length === 0) throw new MongoServerError(291, 'There is more than one 2d or 2dsphere index or no index on this collection; $geoNear requires exactly one (unable to find index for $geoNear query)');
    const fields = new Set(geoIxs.flatMap((i) => i.geoFields));
    if (fields.size > 1) throw new MongoServerError(2, `There is more than one 2dsphere index on ${coll.ns}; unsure which to use for $geoNear (give 'key')`);
    field = [...fields][0];
  }
  const near = parseNear('$geoNear', { $geometry: spec.near, $maxDistance: spec.maxDistance, $minDistance: spec.minDistance }, undefined, undefined);
  let query = isPlainObject(spec.query) ? (spec.query as Doc) : {};
  if (Number.isFinite(near.max)) {
    // lets the planner take candidates from the 2dsphere grid
    query = { $and: [query, { [field]: { $nearSphere: { $geometry: spec.near, $maxDistance: near.max } } }] };
  }
  const mult = typeof spec.distanceMultiplier === 'number' ? spec.distanceMultiplier : 1;
  const rows: { d: Doc; dist: number; i: number }[] = [];
  matchDocs(coll, query).docs.forEach((d, i) => {
    const dist = nearDistance(d, field, near.point);
    if (dist !== null && dist >= near.min && dist <= near.max) rows.push({ d, dist, i });
  });
  rows.sort((a, b) => a.dist - b.dist || a.i - b.i);
  return rows.map(({ d, dist }) => {
    const out = cloneDoc(d);
    setPath(out, spec.distanceField as string, dist * mult);
    if (typeof spec.includeLocs === 'string') setPath(out, spec.includeLocs, cloneDoc(getPath(d, field)));
    return out;
  });
}

/** Full find: filter, sort (index-ordered when possible), hint, skip, limit, projection. */
export function findDocs(coll: Collection | undefined, spec: FindSpec): Doc[] {
  const filter = spec.filter ?? {};
  refuseUnsupported(filter);
  refuseUnsupported(spec.projection);
  let sort = validateSort(spec.sort);
  // Compile first: an invalid filter is an error even on a collection that does not exist.
  const q = compileQuery(filter);
  if (!coll) return [];
  guardDecimals(coll, filter, sort);
  const skip = spec.skip ?? 0;
  const limit = spec.limit ?? 0;
  let natural: number | undefined;
  if (sort && '$natural' in sort) {
    natural = sort.$natural as number;
    sort = undefined;
  }
  const near = nearCondition(coll, filter);
  const hint = resolveHint(coll, spec.hint);
  if (hint && 'natural' in hint && !sort) natural = hint.natural;
  const hintIx = hint instanceof Index ? hint : null;

  let ordered: Doc[] | null = null;
  const sortKeys = sort ? Object.keys(sort) : [];
  if (!near && !hintIx && sort && sortKeys.length === 1 && candidateRids(coll, filter) === null) {
    const ix = usableIndexes(coll, sortKeys[0]).find((i) => !i.multikey && !i.spec.sparse);
    if (ix) {
      // Walk the index in order and stop once skip+limit matches are found.
      ordered = [];
      const want = limit > 0 ? skip + limit : Infinity;
      stats.indexLookups++;
      for (const rid of ix.orderedRids(sort[sortKeys[0]] === -1 ? -1 : 1)) {
        const doc = coll.docs.get(rid)!;
        stats.docsExamined++;
        if (q.test(doc)) ordered.push(doc);
        if (ordered.length >= want) break;
      }
      ordered = ordered.slice(skip);
      sort = undefined;
    }
  }

  let base: Doc[] = [];
  if (ordered) base = ordered;
  else {
    if (near && !sort && limit > 0) {
      // Nearest k: search growing circles (answered from the 2dsphere grid) until one holds k
      // matches; the k nearest overall are then inside it.
      for (let r = 2000; ; r *= 4) {
        const bounded = r >= near.spec.max || r > 2e7;
        const f = bounded ? filter : { $and: [filter, { [near.field]: { $nearSphere: { $geometry: { type: 'Point', coordinates: near.spec.point }, $maxDistance: r } } }] };
        base = matchDocs(coll, f).docs;
        if (bounded || base.length >= skip + limit) break;
      }
    } else base = matchDocs(coll, filter, !near && !sort && !hintIx && limit && natural !== -1 ? skip + limit : 0, q).docs;
    if (near && !sort) {
      // $near / $nearSphere: nearest first (ties in natural order)
      const dist = new Map(base.map((d) => [d, nearDistance(d, near.field, near.spec.point) ?? Infinity]));
      base = base.map((d, i) => ({ d, i })).sort((a, b) => dist.get(a.d)! - dist.get(b.d)! || a.i - b.i).map((x) => x.d);
    }
    if (natural === -1) base = base.reverse();
    if (hintIx) {
      // A hinted index scan returns documents in index order (and only those the index holds).
      base = base.filter((d) => hintIx.entries(d) !== null);
      if (!sort) base = bsonSort(base, hintIx.spec.key as Doc);
    }
  }
  const projection = spec.projection && Object.keys(spec.projection).length ? spec.projection : undefined;
  let page = base;
  if (sort) page = bsonSort(page, sort);
  const start = ordered ? 0 : skip;
  if (start || limit) page = limit ? page.slice(start, start + limit) : page.slice(start);
  if (!projection) return page;
  return projectDocs(page, projection, filter);
}

/** Rewrite $bucket into $group + $sort: mingo's $bucket misplaces boundary values. */
function rewriteBucket(stage: Doc): Doc[] {
  const spec = stage.$bucket as Doc;
  const bounds = spec.boundaries as unknown[];
  if (!Array.isArray(bounds) || bounds.length < 2) throw new MongoServerError(40192, "The $bucket 'boundaries' field must be an array of at least two values");
  const branches = [];
  for (let i = 0; i < bounds.length - 1; i++) {
    branches.push({ case: { $and: [{ $gte: [spec.groupBy, bounds[i]] }, { $lt: [spec.groupBy, bounds[i + 1]] }] }, then: bounds[i] });
  }
  const sw: Doc = { branches };
  if (spec.default !== undefined) sw.default = spec.default;
  else sw.default = { $literal: '$$__bucket_out_of_range__' };
  const output = (spec.output as Doc) ?? { count: { $sum: 1 } };
  const stages: Doc[] = [{ $group: { _id: { $switch: sw }, ...output } }, { $sort: { _id: 1 } }];
  if (spec.default === undefined) {
    stages.splice(1, 0, {
      $match: { _id: { $ne: '$$__bucket_out_of_range__' } },
    });
  }
  return stages;
}

/**
 * Stages with which mingo edits its input documents in place (verified on mingo 7.2.7). When a
 * pipeline holds any of them, anywhere (incl. $facet / $lookup sub-pipelines), the stored
 * documents are copied before they enter mingo.
 */
const MUTATING_STAGES = new Set(['$set', '$addFields', '$unset', '$project', '$replaceRoot', '$replaceWith', '$redact', '$fill', '$densify', '$setWindowFields']);

function hasMutatingStage(v: unknown, depth = 0): boolean {
  if (v === null || typeof v !== 'object' || depth > 100) return false;
  if (Array.isArray(v)) return v.some((x) => hasMutatingStage(x, depth + 1));
  if (!isPlainObject(v)) return false;
  for (const k of Object.keys(v)) {
    if (MUTATING_STAGES.has(k)) return true;
    if (hasMutatingStage(v[k], depth + 1)) return true;
  }
  return false;
}

/** Expression operators mingo lacks, in MongoDB's semantics. */
const EXTRA_EXPRESSIONS: Record<string, unknown> = {
  $toObjectId: (obj: unknown, expr: unknown, options: unknown) => {
    const v = evalExpr(obj, expr, options as never);
    if (v === null || v === undefined) return null;
    if (v instanceof ObjectId) return v;
    if (typeof v === 'string' && /^[0-9a-fA-F]{24}$/.test(v)) return new ObjectId(v);
    throw new MongoServerError(241, `Failed to parse objectId '${String(v)}' in $convert with no onError value: Invalid string length for parsing to OID, expected 24 but found ${String(v).length}`);
  },
};
let extraContext: Context | null = null;

/** Run an aggregation pipeline against a collection (or none, for `aggregate: 1`). */
export function aggregateDocs(engine: Engine, dbName: string, coll: Collection | undefined, pipeline: Doc[]): Doc[] {
  if (!Array.isArray(pipeline)) throw new MongoServerError(14, "'pipeline' option must be specified as an array");
  const stages: Doc[] = [];
  for (const [i, st] of pipeline.entries()) {
    const name = Object.keys(st)[0];
    if (name === '$geoNear' && i > 0) throw new MongoServerError(40602, '$geoNear is only valid as the first stage in a pipeline');
    if (FORBIDDEN_STAGES[name]) throw unsupported(FORBIDDEN_STAGES[name]);
    if (name === '$bucket') stages.push(...rewriteBucket(st));
    else stages.push(st);
  }
  refuseUnsupported(stages);
  if (coll && coll.decimalFields.size > 0) {
    throw unsupported(`Decimal128 in comparisons, arithmetic or sort (aggregate over ${coll.ns}, which holds Decimal128 values)`);
  }
  let out: string | null = null;
  const last = stages[stages.length - 1];
  if (last && '$out' in last) {
    const target = last.$out;
    if (typeof target !== 'string') throw unsupported('$out to another database');
    out = target;
    stages.pop();
  }
  const mutating = hasMutatingStage(stages);
  // A top-level $unionWith with a pipeline runs as an aggregation of its own first (so its leading
  // $match uses that collection's indexes, as MongoDB's does), and joins as precomputed input.
  const unionInputs = new Map<string, { docs: Doc[]; copy: boolean }>();
  for (let i = 0; i < stages.length; i++) {
    const spec = stages[i].$unionWith;
    if (!isPlainObject(spec) || typeof spec.coll !== 'string' || !Array.isArray(spec.pipeline) || spec.pipeline.length === 0) continue;
    const key = `\u0000union-${i}`;
    unionInputs.set(key, { docs: aggregateDocs(engine, dbName, engine.getCollection(dbName, spec.coll), spec.pipeline as Doc[]), copy: true });
    stages[i] = { $unionWith: { coll: key, pipeline: [] } };
  }
  // A branch's documents only meet the stages after its $unionWith (its own pipeline has run): they
  // need copying only when one of those edits documents in place (a branch result may share
  // nested values with stored documents).
  for (let i = 0; i < stages.length; i++) {
    const spec = stages[i].$unionWith;
    const pre = isPlainObject(spec) && typeof spec.coll === 'string' ? unionInputs.get(spec.coll) : undefined;
    if (pre) pre.copy = hasMutatingStage(stages.slice(i + 1));
  }
  const resolver = (name: string): Doc[] => {
    const pre = unionInputs.get(name);
    if (pre) return pre.copy ? pre.docs.map(cloneDoc) : pre.docs;
    const c = engine.getCollection(dbName, name);
    if (c && c.decimalFields.size > 0) throw unsupported(`Decimal128 in comparisons, arithmetic or sort (${c.ns} holds Decimal128 values)`);
    if (!c) return [];
    const docs = [...c.docs.values()];
    return mutating ? docs.map(cloneDoc) : docs;
  };
  let result: Doc[] | null = null;
  if (stages.length && '$geoNear' in stages[0]) {
    const first = geoNearStage(coll, stages[0].$geoNear);
    try {
      result = runPipeline(stages.slice(1), first, resolver);
    } catch (e) {
      throw mapMingoError(e);
    }
  }
  if (result === null && coll && engine.aggregateFastPath && stages.length > 0) {
    // Compiled pipelines (src/fast); any doubt at run time reruns the whole pipeline below.
    try {
      result = fastAggregate(coll, stages, fastHost(resolver));
    } catch (e) {
      if (!(e instanceof Bail)) {
        fastStats.errors++;
        fastStats.lastError = e instanceof Error ? e.message : String(e);
      }
      result = null;
    }
  }
  if (!coll && stages.length && isPlainObject(stages[0].$match)) compileQuery(stages[0].$match as Doc); // invalid filters fail here too
  if (result === null) result = mingoAggregate(coll, stages, mutating, resolver);
  result = result.map(idFirst);
  if (out !== null) {
    engine.dropCollection(dbName, out);
    const target = engine.createCollection(dbName, out, {});
    for (const d of result) target.insert(d);
    return [];
  }
  return result;
}

/** The existing path: index for a leading $match, then mingo for every stage. */
function mingoAggregate(coll: Collection | undefined, stages: Doc[], mutating: boolean, resolver: (name: string) => Doc[]): Doc[] {
  stages = [...stages];
  let input: Doc[];
  if (!coll) input = [];
  else if (stages.length && isPlainObject(stages[0].$match)) {
    input = matchDocs(coll, stages[0].$match as Doc).docs;
    stages.shift();
  } else {
    input = [...coll.docs.values()];
    stats.collScans++;
    stats.docsExamined += input.length;
  }
  if (mutating) input = input.map(cloneDoc);
  try {
    return runPipeline(stages, input, resolver);
  } catch (e) {
    throw mapMingoError(e);
  }
}

/** What the fast path needs from the engine: index candidates, mingo filters and stages. */
function fastHost(resolver: (name: string) => Doc[]): SourceHost {
  return {
    candidates: planCandidates,
    mingoTest: (filter) => {
      const q = compileQuery(filter as Doc);
      return (d) => q.test(d);
    },
    runMingo: (rest, docs) => runPipeline(rest, hasMutatingStage(rest) ? docs.map(cloneDoc) : docs, resolver),
  };
}

/** Run stages through mingo with the engine's corrections (fixes.ts) and extra operators. */
export function runPipeline(stages: Doc[], input: Doc[], resolver?: (name: string) => Doc[]): Doc[] {
  extraContext ??= Context.init({
    expression: { ...EXTRA_EXPRESSIONS, ...FIX_EXPRESSION_OPS } as never,
    query: FIX_QUERY_OPS as never,
    accumulator: FIX_ACCUMULATOR_OPS as never,
    pipeline: FIX_PIPELINE_OPS as never,
  });
  return new Aggregator(rewritePipeline(stages), { collectionResolver: resolver, context: extraContext }).run(input) as Doc[];
}
