/**
 * Secondary (and _id) indexes. Each index maps a canonical key string to the record ids holding
 * it, which gives O(1) equality / $in lookups and unique enforcement. Single-field indexes also
 * keep a lazily (re)built sorted array used for range scans and index-ordered sorts.
 */
import { makeQuery, MingoQuery } from './mingo';
import { MongoServerError, unsupported } from './errors';
import { compareValues, typeRank } from './compare';
import { BBox, cellKey, cellsOf, pointsAt, validateGeoKey } from './geo';
import { Doc, getPath, isPlainObject, keyOf, renderValue, valuesAtPath } from './values';

export interface IndexSpec {
  v: number;
  key: Record<string, unknown>;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Doc;
  [k: string]: unknown;
}

export interface KeyEntry {
  key: string;
  /** Values per index field, for keyValue in duplicate-key errors. */
  values: unknown[];
  /** Value of the first field (used by the prefix map and the sorted array). */
  first: unknown;
}

type RidSet = number | Set<number>;

/** First-field values of a multikey document (kept apart from a stored array value). */
class MultiValues {
  constructor(readonly values: unknown[]) {}
}

function addRid(map: Map<string, RidSet>, key: string, rid: number): void {
  const cur = map.get(key);
  if (cur === undefined) map.set(key, rid);
  else if (typeof cur === 'number') {
    if (cur !== rid) map.set(key, new Set([cur, rid]));
  } else cur.add(rid);
}

function removeRid(map: Map<string, RidSet>, key: string, rid: number): void {
  const cur = map.get(key);
  if (cur === undefined) return;
  if (typeof cur === 'number') {
    if (cur === rid) map.delete(key);
  } else {
    cur.delete(rid);
    if (cur.size === 1) map.set(key, cur.values().next().value as number);
    else if (cur.size === 0) map.delete(key);
  }
}

function ridsOf(set: RidSet | undefined, out: Set<number>): void {
  if (set === undefined) return;
  if (typeof set === 'number') out.add(set);
  else for (const r of set) out.add(r);
}

/** Validate an index spec and return it normalised, refusing what we cannot honour. */
export function normaliseIndexSpec(raw: Doc): IndexSpec {
  const key = raw.key;
  if (!isPlainObject(key) || Object.keys(key).length === 0) {
    throw new MongoServerError(9, "The 'key' field is a required property of an index specification and must be a non-empty object");
  }
  for (const [f, dir] of Object.entries(key)) {
    if (dir === 'text') throw unsupported('text indexes', 67);
    if (dir === '2dsphere') continue;
    if (dir === '2d' || dir === 'geoHaystack') throw unsupported(`${dir} (legacy geo) indexes; use a 2dsphere index with GeoJSON points`, 67);
    if (f.includes('$**')) throw unsupported('wildcard indexes', 67);
    if (!(typeof dir === 'number' && (dir === 1 || dir === -1)) && dir !== 'hashed') {
      throw new MongoServerError(67, `Values in the index key pattern can only be 1, -1 or 'hashed': ${f}: ${String(dir)}`);
    }
  }
  if (raw.expireAfterSeconds !== undefined) throw unsupported('TTL indexes (expireAfterSeconds)', 67);
  if (raw.collation !== undefined) throw unsupported('collation on indexes', 67);
  if (raw.weights !== undefined || raw.default_language !== undefined) throw unsupported('text indexes', 67);
  const name = typeof raw.name === 'string' ? raw.name : Object.entries(key).map(([f, d]) => `${f}_${d}`).join('_');
  const spec: IndexSpec = { v: 2, key: key as Record<string, unknown>, name };
  if (raw.unique) spec.unique = true;
  if (raw.sparse) spec.sparse = true;
  if (raw.partialFilterExpression !== undefined) spec.partialFilterExpression = raw.partialFilterExpression as Doc;
  for (const k of ['background', 'hidden', '2dsphereIndexVersion']) if (raw[k] !== undefined) spec[k] = raw[k];
  if (Object.values(key).includes('2dsphere') && spec['2dsphereIndexVersion'] === undefined) spec['2dsphereIndexVersion'] = 3;
  return spec;
}

export class Index {
  readonly spec: IndexSpec;
  readonly fields: string[];
  readonly unique: boolean;
  private readonly partial: MingoQuery | null;
  /** full compound key -> rids */
  private readonly map = new Map<string, RidSet>();
  /** first-field key -> rids (only for compound indexes; single-field uses `map`) */
  private readonly firstMap: Map<string, RidSet> | null;
  /** sorted (value, rid) pairs of the first field, rebuilt lazily after writes */
  private sorted: { v: unknown; rid: number }[] | null = null;
  /** rid -> first-field values, to rebuild `sorted` */
  private readonly firstVals = new Map<number, unknown>();
  multikey = false;
  /** Set for single-field indexes on a top-level field (enables a fast path in entries()). */
  private readonly simpleField: string | null;
  /** Fields indexed as '2dsphere' (GeoJSON validated on every write; the index is sparse on them). */
  readonly geoFields: string[];
  /** 2dsphere: grid cell -> record ids with a point of the first geo field in that cell. */
  private readonly grid: Map<number, Set<number>> | null;

  constructor(spec: IndexSpec) {
    this.spec = spec;
    this.fields = Object.keys(spec.key);
    this.unique = !!spec.unique || spec.name === '_id_';
    this.partial = spec.partialFilterExpression ? makeQuery(spec.partialFilterExpression) : null;
    this.firstMap = this.fields.length > 1 ? new Map() : null;
    this.geoFields = this.fields.filter((f) => spec.key[f] === '2dsphere');
    this.grid = this.geoFields.length ? new Map() : null;
    this.simpleField = this.fields.length === 1 && !this.fields[0].includes('.') && this.geoFields.length === 0 ? this.fields[0] : null;
  }

  get firstField(): string {
    return this.fields[0];
  }

  get isPartial(): boolean {
    return this.partial !== null;
  }

  /** Keys a document contributes, or null when the document is outside a sparse/partial index. */
  entries(doc: Doc): KeyEntry[] | null {
    if (this.partial && !this.partial.test(doc)) return null;
    if (this.geoFields.length && this.geoFields.every((f) => getPath(doc, f) === undefined || getPath(doc, f) === null)) return null;
    if (this.simpleField !== null) {
      // Fast path: one top-level field holding a scalar.
      const v = doc[this.simpleField];
      if (!Array.isArray(v) && (v === undefined || v === null || typeof v !== 'object' || !isPlainObject(v))) {
        if (v === undefined && this.spec.sparse) return null;
        return [{ key: keyOf(v), values: [v], first: v }];
      }
    }
    const perField = this.fields.map((f) => {
      const vals = valuesAtPath(doc, f);
      // de-duplicate multikey values so one doc does not collide with itself
      const seen = new Map<string, unknown>();
      for (const v of vals) seen.set(keyOf(v), v);
      return [...seen.values()];
    });
    if (this.spec.sparse && perField.every((vals) => vals.length === 1 && vals[0] === undefined)) return null;
    let combos: unknown[][] = [[]];
    for (const vals of perField) {
      const next: unknown[][] = [];
      for (const c of combos) for (const v of vals) next.push([...c, v]);
      combos = next;
    }
    return combos.map((values) => ({ key: values.map(keyOf).join('\u0000'), values, first: values[0] }));
  }

  /** Throws E11000 if inserting `doc` (as record `rid`) would duplicate a unique key. */
  check(doc: Doc, rid: number, ns: string, precomputed?: KeyEntry[] | null): void {
    for (const f of this.geoFields) validateGeoKey(doc, f);
    if (!this.unique) return;
    const entries = precomputed === undefined ? this.entries(doc) : precomputed;
    if (!entries) return;
    for (const e of entries) {
      const cur = this.map.get(e.key);
      if (cur === undefined) continue;
      if (typeof cur === 'number' ? cur !== rid : [...cur].some((r) => r !== rid)) throw this.dupError(e, ns);
    }
  }

  dupError(e: KeyEntry, ns: string): MongoServerError {
    const keyValue: Doc = {};
    this.fields.forEach((f, i) => {
      keyValue[f] = e.values[i] === undefined ? null : e.values[i];
    });
    const rendered = '{ ' + this.fields.map((f) => `${f}: ${renderValue(keyValue[f])}`).join(', ') + ' }';
    return new MongoServerError(11000, `E11000 duplicate key error collection: ${ns} index: ${this.spec.name} dup key: ${rendered}`, {
      keyPattern: this.spec.key,
      keyValue,
    });
  }

  private gridCells(doc: Doc): Set<number> {
    return new Set(pointsAt(doc, this.geoFields[0]).map(([lng, lat]) => cellKey(lng, lat)));
  }

  /** Record ids whose point may lie in the box (a superset; the query re-checks each). */
  geoCandidates(box: BBox): { estimate: number; rids: () => Set<number> } | null {
    if (!this.grid) return null;
    const cells = cellsOf(box);
    if (cells.length === 0) return null;
    const hit = cells.map((c) => this.grid!.get(c)).filter((x): x is Set<number> => !!x);
    return {
      estimate: hit.reduce((a, s) => a + s.size, 0),
      rids: () => {
        const out = new Set<number>();
        for (const s of hit) for (const r of s) out.add(r);
        return out;
      },
    };
  }

  add(doc: Doc, rid: number, precomputed?: KeyEntry[] | null): void {
    const entries = precomputed === undefined ? this.entries(doc) : precomputed;
    if (!entries) return;
    if (this.grid) {
      for (const c of this.gridCells(doc)) {
        const set = this.grid.get(c);
        if (set) set.add(rid);
        else this.grid.set(c, new Set([rid]));
      }
    }
    for (const e of entries) {
      addRid(this.map, e.key, rid);
      if (this.firstMap) addRid(this.firstMap, keyOf(e.first), rid);
    }
    if (entries.length > 1 || Array.isArray(getPath(doc, this.firstField))) this.multikey = true;
    let firsts: unknown[];
    if (entries.length === 1) firsts = [entries[0].first];
    else {
      const uniq = new Map<string, unknown>();
      for (const e of entries) uniq.set(keyOf(e.first), e.first);
      firsts = [...uniq.values()];
    }
    // one value per doc in the common case; several (multikey) wrapped so they stay distinct
    this.firstVals.set(rid, firsts.length === 1 ? firsts[0] : new MultiValues(firsts));
    // Keep an already-built sorted array current (binary search + splice) instead of dropping it:
    // a rebuild costs O(n log n) on the next range/sort query.
    if (this.sorted) for (const v of firsts) this.sorted.splice(this.position(this.sorted, v, rid), 0, { v, rid });
  }

  remove(doc: Doc, rid: number): void {
    const entries = this.entries(doc);
    if (!entries) return;
    if (this.grid) {
      for (const c of this.gridCells(doc)) {
        const set = this.grid.get(c);
        set?.delete(rid);
        if (set && set.size === 0) this.grid.delete(c);
      }
    }
    for (const e of entries) {
      removeRid(this.map, e.key, rid);
      if (this.firstMap) removeRid(this.firstMap, keyOf(e.first), rid);
    }
    const stored = this.firstVals.get(rid);
    this.firstVals.delete(rid);
    if (this.sorted) {
      const vals = stored instanceof MultiValues ? stored.values : [stored];
      for (const v of vals) {
        const i = this.position(this.sorted, v, rid);
        if (i < this.sorted.length && this.sorted[i].rid === rid && compareValues(this.sorted[i].v, v) === 0) this.sorted.splice(i, 1);
        else this.sorted = null; // should not happen; fall back to a rebuild
        if (!this.sorted) break;
      }
    }
  }

  /** Position of (v, rid) in the (value, rid)-ordered array. */
  private position(arr: { v: unknown; rid: number }[], v: unknown, rid: number): number {
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = compareValues(arr[mid].v, v) || arr[mid].rid - rid;
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  clear(): void {
    this.grid?.clear();
    this.map.clear();
    this.firstMap?.clear();
    this.firstVals.clear();
    this.sorted = null;
    this.multikey = false;
  }

  /** Record ids whose first indexed field equals one of `values` (exact canonical equality). */
  lookupFirst(values: unknown[]): Set<number> {
    const out = new Set<number>();
    const m = this.firstMap ?? this.map;
    for (const v of values) ridsOf(m.get(keyOf(v)), out);
    return out;
  }

  /** Number of (record, value) entries whose first field equals one of `values` (no set built). */
  countFirst(values: unknown[]): number {
    const m = this.firstMap ?? this.map;
    let n = 0;
    for (const v of values) {
      const r = m.get(keyOf(v));
      if (r !== undefined) n += typeof r === 'number' ? 1 : r.size;
    }
    return n;
  }

  /** Upper bound of the number of entries lookupRange would visit (two binary searches). */
  rangeSpan(lower: { v: unknown; incl: boolean } | null, upper: { v: unknown; incl: boolean } | null): number {
    const arr = this.getSorted();
    const start = lower ? this.bound(arr, lower.v, !lower.incl) : 0;
    const end = upper ? this.bound(arr, upper.v, upper.incl) : arr.length;
    return Math.max(0, end - start);
  }

  private getSorted(): { v: unknown; rid: number }[] {
    if (!this.sorted) {
      const arr: { v: unknown; rid: number }[] = [];
      for (const [rid, val] of this.firstVals) {
        if (val instanceof MultiValues) for (const v of val.values) arr.push({ v, rid });
        else arr.push({ v: val, rid });
      }
      arr.sort((a, b) => compareValues(a.v, b.v) || a.rid - b.rid);
      this.sorted = arr;
    }
    return this.sorted;
  }

  /** First position whose value is >= v (or > v when `after`). */
  private bound(arr: { v: unknown }[], v: unknown, after: boolean): number {
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = compareValues(arr[mid].v, v);
      if (c < 0 || (after && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Record ids whose first-field value lies in the range. Bounds are type-bracketed like
   * MongoDB ($gt: 5 only reaches numbers), so the range stays within the bound's BSON type.
   */
  lookupRange(lower: { v: unknown; incl: boolean } | null, upper: { v: unknown; incl: boolean } | null): Set<number> {
    const arr = this.getSorted();
    const out = new Set<number>();
    let start = 0;
    let end = arr.length;
    if (lower) start = this.bound(arr, lower.v, !lower.incl);
    if (upper) end = this.bound(arr, upper.v, upper.incl);
    // Type bracketing: clamp to entries of the same type as the bound(s).
    const ref = lower ? lower.v : upper!.v;
    const rank = typeRank(ref);
    for (let i = start; i < end; i++) {
      if (typeRank(arr[i].v) !== rank) {
        if (typeRank(arr[i].v) > rank) break;
        continue;
      }
      out.add(arr[i].rid);
    }
    return out;
  }

  /**
   * lookupRange's record ids, sorted ascending (natural order), in a typed array: no set is built
   * unless the index is multikey (where one record may hold several values in the range).
   */
  rangeRidsSorted(lower: { v: unknown; incl: boolean } | null, upper: { v: unknown; incl: boolean } | null): Float64Array {
    if (this.multikey) return Float64Array.from(this.lookupRange(lower, upper)).sort();
    const arr = this.getSorted();
    const start = lower ? this.bound(arr, lower.v, !lower.incl) : 0;
    const end = upper ? this.bound(arr, upper.v, upper.incl) : arr.length;
    const rank = typeRank(lower ? lower.v : upper!.v);
    const out = new Float64Array(Math.max(0, end - start));
    let n = 0;
    if (end > start && typeRank(arr[start].v) === rank && typeRank(arr[end - 1].v) === rank) {
      // entries are in BSON order, so everything between two entries of one type has that type
      for (let i = start; i < end; i++) out[i - start] = arr[i].rid;
      return out.sort();
    }
    for (let i = start; i < end; i++) {
      const r = typeRank(arr[i].v);
      if (r !== rank) {
        if (r > rank) break;
        continue;
      }
      out[n++] = arr[i].rid;
    }
    return out.subarray(0, n).sort();
  }

  /** All rids in first-field order (ascending or descending), each once. */
  orderedRids(dir: 1 | -1): number[] {
    const arr = this.getSorted();
    const seen = new Set<number>();
    const out: number[] = [];
    if (dir === 1) {
      for (const e of arr) if (!seen.has(e.rid)) (seen.add(e.rid), out.push(e.rid));
    } else {
      for (let i = arr.length - 1; i >= 0; i--) if (!seen.has(arr[i].rid)) (seen.add(arr[i].rid), out.push(arr[i].rid));
    }
    return out;
  }

  get size(): number {
    return this.firstVals.size;
  }
}
