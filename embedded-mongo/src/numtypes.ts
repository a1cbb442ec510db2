/**
 * Numeric BSON types. Queries, indexes and mingo work on plain JS numbers, but MongoDB keeps
 * int32, int64 and double apart: a driver with `useBigInt64` expects an int64 back as a bigint,
 * `$type: 'double'` must tell `1.0` from `1`. So on the way in, Int32 / Double / Long values become
 * numbers and the containers they sit in remember, per key, which ones were int64 ('long') or
 * integral doubles ('double') (a non-integral number is unambiguously a double; an integral one
 * without a mark is an int32). On the way out (replies, journal, snapshot) marked numbers are
 * written back as Long / Double.
 *
 * The marks live under symbol keys, so BSON, mingo and `Object.keys` never see them. `HAS` flags a
 * container whose subtree holds a mark, so output only walks flagged documents. Documents built by
 * mingo (aggregation results) carry no marks: their numbers come back as int32 / double.
 */
import { Double, Long } from 'bson';
import type { Doc } from './values';

function isPlainObject(v: unknown): v is Doc {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export type NumType = 'long' | 'double';
export const NT = Symbol('embedded-mongo:numtypes');
export const HAS = Symbol('embedded-mongo:has-numtypes');

type Marked = { [NT]?: Record<string, NumType>; [HAS]?: true };

/** A lookup table without a prototype: `table['__proto__']` is undefined, not Object.prototype. */
export function nullProto<T extends object>(o: T): T {
  return Object.assign(Object.create(null), o) as T;
}

/** Own-property assignment that also works for a key named `__proto__`. */
export function setOwn(o: Doc | unknown[], k: string | number, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else (o as Record<string | number, unknown>)[k] = v;
}

export function markOf(container: unknown, key: string | number): NumType | undefined {
  return (container as Marked | null)?.[NT]?.[String(key)];
}

export function setMark(container: Doc | unknown[], key: string | number, t: NumType | undefined): void {
  const c = container as Marked;
  if (t === undefined) {
    if (c[NT] && String(key) in c[NT]!) {
      const next = { ...c[NT] };
      delete next[String(key)];
      c[NT] = next;
    }
    return;
  }
  c[NT] = { ...(c[NT] ?? {}), [String(key)]: t };
  c[HAS] = true;
}

export function flagHas(container: unknown): void {
  if (container !== null && typeof container === 'object') (container as Marked)[HAS] = true;
}

export function hasMarks(v: unknown): boolean {
  return v !== null && typeof v === 'object' && (v as Marked)[HAS] === true;
}

/** Copy marks (and the flag) from one container to its copy. */
export function copyMarks(from: unknown, to: Doc | unknown[]): void {
  const f = from as Marked;
  if (f[NT]) (to as Marked)[NT] = f[NT];
  if (f[HAS]) (to as Marked)[HAS] = true;
}

/**
 * In place: replace Int32 / Double / Long (those that fit in 2^53) by numbers and mark their
 * containers. Returns true when anything in the subtree was marked.
 */
export function absorbNumTypes(o: Doc | unknown[]): boolean {
  let has = false;
  const arr = Array.isArray(o) ? o : null;
  const keys = arr ? null : Object.keys(o);
  const n = arr ? arr.length : keys!.length;
  for (let i = 0; i < n; i++) {
    const k = arr ? i : keys![i];
    const v = (o as Record<string | number, unknown>)[k];
    if (v === null || typeof v !== 'object') continue;
    const t = (v as { _bsontype?: string })._bsontype;
    if (t === 'Int32') setOwn(o, k, (v as { value: number }).value);
    else if (t === 'Double') {
      const x = (v as Double).value;
      setOwn(o, k, x);
      if (Number.isInteger(x)) {
        setMark(o, k, 'double');
        has = true;
      }
    } else if (t === 'Long') {
      const l = v as Long;
      const x = l.toNumber();
      if (Number.isSafeInteger(x)) {
        setOwn(o, k, x);
        setMark(o, k, 'long');
        has = true;
      }
    } else if (t === 'DBRef') {
      // stored as the plain {$ref, $id, $db, ...} document it is on the wire, so queries reach its fields
      const r = v as { collection: string; oid: unknown; db?: string; fields?: Doc };
      const plain: Doc = { $ref: r.collection, $id: r.oid };
      if (r.db) plain.$db = r.db;
      for (const f of Object.keys(r.fields ?? {})) setOwn(plain, f, r.fields![f]);
      setOwn(o, k, plain);
      if (absorbNumTypes(plain)) has = true;
    } else if (Array.isArray(v) || isPlainObject(v)) {
      if (absorbNumTypes(v as Doc)) has = true;
    }
  }
  if (has) (o as Marked)[HAS] = true;
  return has;
}

/** A copy of a marked document with marked numbers as Long / Double; unmarked values shared. */
export function exportDoc<T>(v: T): T {
  if (v === null || typeof v !== 'object' || !(v as Marked)[HAS]) return v;
  const marks = (v as Marked)[NT];
  if (Array.isArray(v)) {
    return v.map((x, i) => {
      const m = marks?.[String(i)];
      if (m && typeof x === 'number') return m === 'long' ? Long.fromNumber(x) : new Double(x);
      return exportDoc(x);
    }) as T;
  }
  if (!isPlainObject(v)) return v;
  const out: Doc = {};
  for (const k of Object.keys(v)) {
    const x = (v as Doc)[k];
    const m = marks?.[k];
    setOwn(out, k, m && typeof x === 'number' ? (m === 'long' ? Long.fromNumber(x) : new Double(x)) : exportDoc(x));
  }
  return out as T;
}

/**
 * Export the marked documents inside a reply or journal record: the wrapper levels (reply,
 * `cursor`, batch arrays) are unmarked, so walk a few levels looking for marked documents.
 */
export function exportNested<T>(v: T, depth = 0): T {
  if (v === null || typeof v !== 'object') return v;
  if ((v as Marked)[HAS]) return exportDoc(v);
  if (depth >= 3) return v;
  if (Array.isArray(v)) {
    let changed = false;
    const out = v.map((x) => {
      const y = exportNested(x, depth + 1);
      if (y !== x) changed = true;
      return y;
    });
    return (changed ? out : v) as T;
  }
  if (!isPlainObject(v)) return v;
  let out: Doc | null = null;
  for (const k of Object.keys(v)) {
    const x = (v as Doc)[k];
    const y = exportNested(x, depth + 1);
    if (y !== x) {
      out ??= { ...(v as Doc) };
      setOwn(out, k, y);
    }
  }
  return (out ?? v) as T;
}

/** Carry marks from a stored document to a projection of it (same keys, same numbers). */
export function remark(result: unknown, source: unknown): void {
  if (!hasMarks(source) || result === null || typeof result !== 'object') return;
  const marks = (source as Marked)[NT];
  let has = false;
  const keys = Array.isArray(result) ? result.map((_, i) => i) : Object.keys(result);
  for (const k of keys) {
    const r = (result as Record<string | number, unknown>)[k];
    const s = (source as Record<string | number, unknown>)[k];
    if (typeof r === 'number' && r === s && marks?.[String(k)]) {
      setMark(result as Doc, k, marks[String(k)]);
      has = true;
    } else if (r !== null && typeof r === 'object' && hasMarks(s)) {
      remark(r, s);
      if (hasMarks(r)) has = true;
    }
  }
  if (has) (result as Marked)[HAS] = true;
}

/** BSON numeric type name of a value given its container's mark. */
export function numTypeOf(v: unknown, mark: NumType | undefined): 'int' | 'long' | 'double' | null {
  if (v instanceof Long) return 'long';
  if ((v as { _bsontype?: string } | null)?._bsontype === 'Double') return 'double';
  if (typeof v !== 'number') return null;
  if (mark) return mark;
  if (Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 && !Object.is(v, -0)) return 'int';
  return 'double';
}
