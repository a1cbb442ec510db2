/**
 * Run-time helpers of the aggregation fast path: the bail-out signal, field-path getters and the
 * value classes the fast path knows how to compare.
 *
 * The fast path only answers where it is sure to answer like MongoDB (and like the engine's mingo
 * path). Anything else throws `BAIL`; the engine then runs the whole pipeline through mingo again.
 * The fast path never edits its input documents, so a rerun sees the same data.
 */
import { ObjectId } from 'bson';
import type { Doc } from '../values';
import { isPlainObject } from '../values';

export class Bail extends Error {
  constructor() {
    super('aggregation fast path: bail out to mingo');
  }
}

/** Thrown (without a fresh stack) whenever the fast path is not sure of the answer. */
export const BAIL = new Bail();

export function bail(): never {
  throw BAIL;
}

/** Returned by match getters when a path crosses an array before its last part. */
export const THROUGH_ARRAY: unique symbol = Symbol('through-array');

const protoKeys = new Set(Object.getOwnPropertyNames(Object.prototype));

function isDocObject(x: object): boolean {
  const p = Object.getPrototypeOf(x);
  return p === Object.prototype || p === null;
}

function own(o: Doc, k: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;
}

/**
 * Getter for a dotted path. The last part may hold an array (returned as is). An array met
 * before the last part gives `onArray()` (MongoDB traverses arrays there; the fast path does not).
 * A scalar or non-document value met before the last part gives undefined (missing).
 */
function makeGetter(path: string, onArray: (() => unknown) | null): (d: Doc) => unknown {
  const parts = path.split('.');
  const risky = parts.some((p) => protoKeys.has(p));
  if (parts.length === 1 && !risky) {
    const f = parts[0];
    return (d) => d[f];
  }
  if (parts.length === 2 && !risky) {
    const [a, b] = parts;
    return (d) => {
      const x = d[a];
      if (x === null || typeof x !== 'object') return undefined;
      if (Array.isArray(x)) return onArray ? onArray() : bail();
      if (!isDocObject(x)) return undefined;
      return (x as Doc)[b];
    };
  }
  return (d) => {
    let cur: unknown = d;
    for (let i = 0; i < parts.length; i++) {
      if (cur === null || typeof cur !== 'object') return undefined;
      if (Array.isArray(cur)) return onArray ? onArray() : bail();
      if (!isDocObject(cur)) return undefined;
      cur = own(cur as Doc, parts[i]);
    }
    return cur;
  };
}

/** Expression field path (`$a.b`): bails when an array sits before the last part. */
export function exprGetter(path: string): (d: Doc) => unknown {
  return makeGetter(path, null);
}

/** Query field path: returns THROUGH_ARRAY when an array sits before the last part. */
export function matchGetter(path: string): (d: Doc) => unknown {
  return makeGetter(path, () => THROUGH_ARRAY);
}

/**
 * Rank of a value in the fast path's comparison order, or -1 for values it does not compare
 * (arrays, objects, NaN, and BSON types other than ObjectId). Missing sorts before null (as in
 * mingo; MongoDB treats them as equal, so either order of such ties is a MongoDB answer).
 */
export function rankOf(v: unknown): number {
  switch (typeof v) {
    case 'undefined':
      return 0;
    case 'number':
      return v === v ? 2 : -1;
    case 'string':
      return 3;
    case 'boolean':
      return 8;
  }
  if (v === null) return 1;
  if (v instanceof Date) return 9;
  return -1;
}

/** Compare two values of ranks from rankOf (both >= 0). */
export function compareRanked(a: unknown, ra: number, b: unknown, rb: number): number {
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 2:
    case 3:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 8:
      return (a ? 1 : 0) - (b ? 1 : 0);
    case 9: {
      const x = (a as Date).getTime();
      const y = (b as Date).getTime();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    default:
      return 0;
  }
}

/** Scalar types the fast path can use as group keys and compare for equality. */
export function isKeyScalar(v: unknown): boolean {
  switch (typeof v) {
    case 'undefined':
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return v === v;
  }
  return v === null || v instanceof Date || v instanceof ObjectId;
}

/**
 * MongoDB equality of two key scalars (see isKeyScalar). Missing equals missing; missing and
 * null are *not* equal in expressions (callers bail on that pair where mingo differs).
 */
export function scalarEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date) return b instanceof Date && a.getTime() === b.getTime();
  if (a instanceof ObjectId) return b instanceof ObjectId && a.equals(b);
  return false;
}

/** Map keyed by key scalars (Dates by time, ObjectIds by hex), in first-insertion order. */
export class ScalarMap<V> {
  private readonly prim = new Map<unknown, V>();
  private dates: Map<number, V> | null = null;
  private oids: Map<string, V> | null = null;

  get(v: unknown): V | undefined {
    if (typeof v !== 'object' || v === null) return this.prim.get(v);
    if (v instanceof Date) return this.dates?.get(v.getTime());
    if (v instanceof ObjectId) return this.oids?.get(v.toHexString());
    return this.prim.get(v);
  }

  set(v: unknown, x: V): void {
    if (typeof v !== 'object' || v === null) this.prim.set(v, x);
    else if (v instanceof Date) (this.dates ??= new Map()).set(v.getTime(), x);
    else if (v instanceof ObjectId) (this.oids ??= new Map()).set(v.toHexString(), x);
    else this.prim.set(v, x);
  }
}

/** MongoDB truthiness (`$cond`, `$and`, `$expr`...); bails on NaN, where mingo differs. */
export function truthy(v: unknown): boolean {
  if (v === false || v === null || v === undefined) return false;
  if (typeof v === 'number') {
    if (v !== v) bail();
    return v !== 0;
  }
  return true;
}

function scalarToken(x: unknown): string {
  switch (typeof x) {
    case 'undefined':
      return 'u';
    case 'string':
      return JSON.stringify(x);
    case 'number':
      return Object.is(x, -0) ? 'n0' : 'n' + String(x);
    case 'boolean':
      return x ? 't' : 'f';
  }
  if (x === null) return 'z';
  if (x instanceof Date) return 'd' + x.getTime();
  return 'o' + (x as ObjectId).toHexString();
}

/**
 * Group key of a document value (e.g. `_id: '$_id'` over a compound key): a string naming its
 * fields in order and their (key scalar) values. MongoDB tells `{a, b}` from `{b, a}`, mingo does
 * not: the same fields in another order bail. Nested documents and arrays bail.
 */
export function objectKey(v: unknown, orders: Map<string, string>): string {
  if (!isPlainObject(v)) bail();
  const keys = Object.keys(v);
  let s = '{';
  for (const k of keys) {
    const x = v[k];
    if (!isKeyScalar(x)) bail();
    s += JSON.stringify(k) + ':' + scalarToken(x) + ',';
  }
  if (keys.length > 1) {
    const order = keys.join('\u0000');
    const set = [...keys].sort().join('\u0000');
    const seen = orders.get(set);
    if (seen === undefined) orders.set(set, order);
    else if (seen !== order) bail();
  }
  return s + '}';
}
