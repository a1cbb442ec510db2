/**
 * Value helpers shared by storage, indexes and commands: canonical index keys, path extraction
 * (MongoDB semantics: arrays are traversed), cheap deep clones that keep BSON class instances,
 * and `_id`-first ordering.
 */
import { Binary, Decimal128, Long, ObjectId, Timestamp } from 'bson';
import { copyMarks, setOwn } from './numtypes';

export type Doc = Record<string, unknown>;

export function isPlainObject(v: unknown): v is Doc {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Canonical string for equality in an index. Numbers of any BSON numeric type are one key space
 * (MongoDB compares 1, 1.0 and NumberLong(1) as equal); other types are tagged so that e.g. the
 * string "1" and the number 1 never collide.
 */
export function keyOf(v: unknown): string {
  if (v === undefined || v === null) return 'z';
  switch (typeof v) {
    case 'number':
      return Object.is(v, -0) ? 'n0' : 'n' + v;
    case 'string':
      return 's' + v;
    case 'boolean':
      return v ? 'bt' : 'bf';
    case 'bigint':
      return 'n' + v.toString();
  }
  if (v instanceof ObjectId) return 'o' + v.toHexString();
  if (v instanceof Date) return 'd' + v.getTime();
  if (v instanceof Long) return 'n' + v.toString();
  if (v instanceof Decimal128) return 'D' + v.toString();
  if (v instanceof Binary) return 'B' + v.sub_type + ':' + Buffer.from(v.buffer).toString('base64');
  if (v instanceof Timestamp) return 'T' + v.toString();
  if (v instanceof RegExp) return 'r' + v.toString();
  if (Array.isArray(v)) return '[' + v.map(keyOf).join(',') + ']';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const bsontype = (o as { _bsontype?: string })._bsontype;
    if (bsontype) return 'x' + bsontype + ':' + String(o.toString());
    return '{' + Object.keys(o).map((k) => JSON.stringify(k) + ':' + keyOf(o[k])).join(',') + '}';
  }
  return 'u' + String(v);
}

/**
 * All values reachable at a dotted path, traversing arrays like MongoDB does for multikey
 * indexes. A missing path yields [undefined]. Array values yield their elements (and, for an
 * empty array, `undefined`), so each element gets its own index key.
 */
export function valuesAtPath(doc: unknown, path: string): unknown[] {
  const out: unknown[] = [];
  walk(doc, path.split('.'), 0, out);
  if (out.length === 0) out.push(undefined);
  return out;
}

function walk(cur: unknown, parts: string[], i: number, out: unknown[]): void {
  if (i === parts.length) {
    if (Array.isArray(cur)) {
      if (cur.length === 0) out.push(undefined);
      for (const el of cur) out.push(el);
      // A whole-array equality query ({tags: ['a','b']}) is answered by a scan, so the array
      // itself needs no key.
    } else {
      out.push(cur);
    }
    return;
  }
  if (cur === null || cur === undefined) {
    out.push(undefined);
    return;
  }
  const part = parts[i];
  if (Array.isArray(cur)) {
    if (/^\d+$/.test(part)) {
      walk(cur[Number(part)], parts, i + 1, out);
    }
    for (const el of cur) {
      if (el !== null && typeof el === 'object' && !Array.isArray(el)) walk(el, parts, i, out);
    }
    return;
  }
  if (typeof cur === 'object' && isPlainObject(cur)) {
    walk((cur as Doc)[part], parts, i + 1, out);
    return;
  }
  out.push(undefined);
}

/** First value at a dotted path without array traversal (for keyValue in error messages). */
export function getPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const p of path.split('.')) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    cur = (cur as Doc)[p];
  }
  return cur;
}

export function setPath(doc: Doc, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur: Doc = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = cur[parts[i]];
    if (next === null || typeof next !== 'object') {
      const created: Doc = {};
      setOwn(cur, parts[i], created);
      cur = created;
    } else {
      cur = next as Doc;
    }
  }
  setOwn(cur, parts[parts.length - 1], value);
}

/**
 * Deep copy of plain objects and arrays; BSON value objects (ObjectId, Binary, Long, ...) are
 * immutable in practice and shared; Dates are copied. Faster than a BSON round trip and, unlike
 * structuredClone, keeps the classes.
 */
export function cloneDoc<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const arr = v.map(cloneDoc);
    copyMarks(v, arr);
    return arr as unknown as T;
  }
  if (v instanceof Date) return new Date(v.getTime()) as unknown as T;
  if (!isPlainObject(v)) return v;
  const out: Doc = {};
  for (const k of Object.keys(v)) setOwn(out, k, cloneDoc((v as Doc)[k]));
  copyMarks(v, out);
  return out as T;
}

/** Returns the document with `_id` as its first field (MongoDB always stores it first). */
export function idFirst(doc: Doc): Doc {
  // The first own key without building the key list (documents are plain or null-prototype
  // objects, so for-in sees own keys only, in Object.keys order).
  for (const k in doc) {
    if (k === '_id') return doc;
    break;
  }
  if (!('_id' in doc)) return doc;
  const keys = Object.keys(doc);
  const out: Doc = { _id: doc._id };
  for (const k of keys) if (k !== '_id') setOwn(out, k, doc[k]);
  copyMarks(doc, out);
  return out;
}

/**
 * True if a Decimal128, or an int64 too large for a JS number (kept as Long by the
 * deserializer), appears anywhere in the value: mingo cannot compare or add those correctly.
 */
export function containsDecimal(v: unknown, depth = 0): boolean {
  if (v === null || typeof v !== 'object' || depth > 100) return false;
  if (v instanceof Decimal128 || v instanceof Long) return true;
  if (Array.isArray(v)) return v.some((x) => containsDecimal(x, depth + 1));
  if (!isPlainObject(v)) return false;
  for (const k of Object.keys(v)) if (containsDecimal((v as Doc)[k], depth + 1)) return true;
  return false;
}

/** Render a value the way the server prints keys in E11000 messages. */
export function renderValue(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof ObjectId) return `ObjectId('${v.toHexString()}')`;
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (Array.isArray(v)) return '[ ' + v.map(renderValue).join(', ') + ' ]';
  if (isPlainObject(v)) {
    const ks = Object.keys(v);
    if (ks.length === 0) return '{}';
    return '{ ' + ks.map((k) => `${k}: ${renderValue(v[k])}`).join(', ') + ' }';
  }
  return String(v);
}
