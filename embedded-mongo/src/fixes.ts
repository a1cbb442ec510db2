/**
 * Corrections to mingo where it silently differs from MongoDB (found by probing mingo 7.2.7).
 * mingo's Context gives existing operators precedence, so they cannot be overridden in place;
 * instead filters and pipelines are rewritten to use our own operators under private names.
 *
 *  - `$mod` (query): mingo matches null and numeric strings (`null % 2 === 0` in JS).
 *  - `$type` (query): mingo does not look inside arrays; MongoDB matches an array field when any
 *    element has the type. 'int' / 'long' / 'double' read the numeric marks of numtypes.ts.
 *  - `$bitsAllSet` & co.: mingo ignores BinData; `$all`: mingo never matches a non-array field;
 *    `$elemMatch` on DBRef fields ($ref/$id/$db) and paths through `__proto__` are refused by
 *    mingo; range comparisons against BinData use mingo's string order. Own operators below.
 *  - Geo operators ($geoWithin, $geoIntersects, $near/$nearSphere as a filter): geo.ts.
 *  - `$push` (accumulator): mingo pushes null for a missing field; MongoDB skips it.
 *  - `$lt/$lte/$gt/$gte/$cmp` (expressions): mingo answers false whenever a side is null or
 *    missing; MongoDB compares in BSON order (null sorts before numbers: {$lt: [null, 0]} is
 *    true). Replaced by comparisons in BSON order.
 *  - `$size` (expression): mingo returns null for a missing / non-array argument; MongoDB fails.
 *  - `$lookup`: with localField/foreignField *and* a pipeline, mingo runs the pipeline over the
 *    whole foreign collection instead of the matched documents; and a `let` + `$expr $eq`
 *    pipeline is evaluated against every foreign document for every local one (O(n*m), 46 s for
 *    200 x 20k). Replaced by a hash join that narrows candidates before running the pipeline.
 *  - `$unwind`: mingo drops an empty string or empty document (MongoDB unwinds any non-array,
 *    non-null value as a one-element array) and edits its input documents (includeArrayIndex,
 *    removal of an empty array's field).
 *  - `$not` (expression): mingo negates JavaScript truthiness ('' and NaN are true in MongoDB).
 *  - `$count`: mingo answers `{n: 0}` for empty input; MongoDB answers no document.
 *  - `$comment` (query): mingo fails on it; MongoDB ignores it.
 */
import { Binary, Long, ObjectId, Timestamp } from 'bson';
import type * as AccumulatorModule from 'mingo/types/operators/accumulator';
import type * as UtilModule from 'mingo/types/util';
import type * as QueryModule from 'mingo/types/query';
import type * as CoreModule from 'mingo/types/core';
import type * as AggregatorModule from 'mingo/types/aggregator';
import type * as LazyModule from 'mingo/types/lazy';
import { compareValues } from './compare';
import { markOf, nullProto, numTypeOf, NumType } from './numtypes';
import { geoIntersectsTest, geoWithinTest, nearDistance, parseNear, pointsTest } from './geo';
import { MongoServerError, unsupported } from './errors';
import { cloneDoc, Doc, idFirst, isPlainObject, keyOf, setPath, valuesAtPath } from './values';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { resolve, flatten } = require('mingo/util') as typeof UtilModule;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Query: BaseQuery } = require('mingo/query') as typeof QueryModule;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { $push: mingoPush } = require('mingo/operators/accumulator') as typeof AccumulatorModule;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { evalExpr } = require('mingo/core') as typeof CoreModule;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Aggregator: BaseAggregator } = require('mingo/aggregator') as typeof AggregatorModule;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Lazy } = require('mingo/lazy') as typeof LazyModule;

const MISSING = '\u0000embedded-mongo:missing\u0000';

type Pred = (o: Doc) => boolean;

function valuesAt(o: Doc, selector: string): unknown[] {
  const v = resolve(o, selector, { unwrapArray: true });
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function $__mod(selector: string, value: unknown): Pred {
  if (!Array.isArray(value) || value.length !== 2) throw new MongoServerError(2, 'malformed mod, needs to be an array of two numbers');
  const [d, r] = value.map(Number);
  if (!Number.isFinite(d) || !Number.isFinite(r)) throw new MongoServerError(2, 'malformed mod, divisor and remainder must be numbers');
  if (Math.trunc(d) === 0) throw new MongoServerError(2, 'divisor cannot be 0');
  const div = Math.trunc(d);
  const rem = Math.trunc(r);
  return (o) => valuesAt(o, selector).some((x) => (typeof x === 'number' && Number.isFinite(x) && Math.trunc(x) % div === rem) || (x instanceof Long && x.modulo(div).toNumber() === rem));
}

const TYPE_ALIASES: Record<string, string> = nullProto({
  1: 'double', 2: 'string', 3: 'object', 4: 'array', 5: 'binData', 6: 'undefined', 7: 'objectId', 8: 'bool', 9: 'date', 10: 'null',
  11: 'regex', 13: 'javascript', 16: 'int', 17: 'timestamp', 18: 'long', 19: 'decimal', [-1]: 'minKey', 127: 'maxKey',
});

function typeTest(name: string): (v: unknown) => boolean {
  switch (name) {
    case 'number':
      return (v) => typeof v === 'number' || v instanceof Long || (v as { _bsontype?: string })?._bsontype === 'Decimal128';
    case 'string':
      return (v) => typeof v === 'string';
    case 'object':
      return (v) => isPlainObject(v);
    case 'array':
      return (v) => Array.isArray(v);
    case 'binData':
      return (v) => v instanceof Binary;
    case 'objectId':
      return (v) => v instanceof ObjectId;
    case 'bool':
      return (v) => typeof v === 'boolean';
    case 'date':
      return (v) => v instanceof Date;
    case 'null':
      return (v) => v === null;
    case 'regex':
      return (v) => v instanceof RegExp;
    case 'timestamp':
      return (v) => v instanceof Timestamp;
    case 'decimal':
      return (v) => (v as { _bsontype?: string })?._bsontype === 'Decimal128';
    default:
      return () => false;
  }
}

/** Values at a path with the numeric mark of the container each sits in (see numtypes.ts). */
function typedValuesAt(o: unknown, parts: string[], i: number, container: unknown, key: string | number, out: { v: unknown; mark: NumType | undefined }[]): void {
  if (i === parts.length) {
    out.push({ v: o, mark: container ? markOf(container, key) : undefined });
    if (Array.isArray(o)) o.forEach((el, j) => out.push({ v: el, mark: markOf(o, j) }));
    return;
  }
  if (o === null || typeof o !== 'object') return;
  const part = parts[i];
  if (Array.isArray(o)) {
    if (/^\d+$/.test(part)) typedValuesAt(o[Number(part)], parts, i + 1, o, Number(part), out);
    for (const el of o) if (isPlainObject(el)) typedValuesAt(el, parts, i, null, '', out);
    return;
  }
  if (!isPlainObject(o) || !Object.prototype.hasOwnProperty.call(o, part)) return;
  typedValuesAt(o[part], parts, i + 1, o, part, out);
}

const NUMERIC_TYPE_NAMES = new Set(['int', 'long', 'double']);

function $__type(selector: string, value: unknown): Pred {
  const names = (Array.isArray(value) ? value : [value]).map((t) => (typeof t === 'number' ? TYPE_ALIASES[t] : String(t)));
  if (names.some((n) => n === undefined)) throw new MongoServerError(2, `Invalid numerical type code: ${String(value)}`);
  const numeric = names.filter((n) => NUMERIC_TYPE_NAMES.has(n));
  const tests = names.filter((n) => !NUMERIC_TYPE_NAMES.has(n)).map(typeTest);
  const parts = selector.split('.');
  return (o) => {
    const found: { v: unknown; mark: NumType | undefined }[] = [];
    typedValuesAt(o, parts, 0, null, '', found);
    return found.some(({ v, mark }) => {
      if (v === undefined) return false;
      if (tests.some((t) => t(v))) return true;
      if (numeric.length === 0) return false;
      const t = numTypeOf(v, mark);
      return t !== null && numeric.includes(t);
    });
  };
}

/** Bits of a BinData (bit 0 = lowest bit of byte 0) or of an integral number (two's complement). */
function bitAt(v: unknown, pos: number): boolean | null {
  if (v instanceof Binary) {
    const bytes = v.buffer;
    const byte = pos >> 3;
    return byte < bytes.length ? ((bytes[byte] >> (pos & 7)) & 1) === 1 : false;
  }
  let n: bigint;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return null;
    n = BigInt(v);
  } else if (v instanceof Long) n = v.toBigInt();
  else return null;
  if (pos >= 64) return n < 0n;
  return ((BigInt.asUintN(64, n) >> BigInt(pos)) & 1n) === 1n;
}

function bitPositions(mask: unknown, op: string): number[] {
  if (Array.isArray(mask)) {
    if (!mask.every((p) => typeof p === 'number' && Number.isInteger(p) && p >= 0)) throw new MongoServerError(2, `${op} bit positions must be non-negative integers`);
    return mask as number[];
  }
  if (mask instanceof Binary) {
    const out: number[] = [];
    mask.buffer.forEach((b, i) => {
      for (let j = 0; j < 8; j++) if ((b >> j) & 1) out.push(i * 8 + j);
    });
    return out;
  }
  if (typeof mask === 'number' && Number.isInteger(mask) && mask >= 0) {
    const out: number[] = [];
    let m = BigInt(mask);
    for (let i = 0; m > 0n; i++, m >>= 1n) if (m & 1n) out.push(i);
    return out;
  }
  throw new MongoServerError(2, `${op} takes an Array, a number, or a BinData but received: ${String(mask)}`);
}

function bitsOp(op: string, want: boolean, all: boolean) {
  return (selector: string, value: unknown): Pred => {
    const positions = bitPositions(value, op);
    const test = (v: unknown) => {
      if (bitAt(v, 0) === null) return false;
      return all ? positions.every((p) => bitAt(v, p) === want) : positions.some((p) => bitAt(v, p) === want);
    };
    return (o) => valuesAt(o, selector).some(test);
  };
}

/** Range comparison against a BinData bound, in BSON order (length, subtype, bytes). */
function $__binCmp(name: string, ok: (c: number) => boolean) {
  return (selector: string, value: unknown): Pred => (o) =>
    valuesAt(o, selector).some((v) => v instanceof Binary && ok(compareValues(v, value)));
}

const DBREF_KEYS: Record<string, string> = nullProto({ $ref: '__dbref_ref', $id: '__dbref_id', $db: '__dbref_db' });

function renameDbRefKeys(v: unknown): unknown {
  if (!isPlainObject(v)) return v;
  const out: Doc = {};
  for (const k of Object.keys(v)) out[DBREF_KEYS[k] ?? k] = v[k];
  return out;
}

/** $elemMatch whose sub-filter names DBRef fields ($ref, $id, $db): they are fields, not operators. */
function $__elemMatchRef(selector: string, value: unknown, options: unknown): Pred {
  const q = makeSubQuery(renameDbRefKeys(value) as Doc, options);
  return (o) => {
    const arr = resolve(o, selector);
    if (!Array.isArray(arr)) return false;
    return arr.some((e) => isPlainObject(e) && q(renameDbRefKeys(e) as Doc));
  };
}

function makeSubQuery(filter: Doc, options: unknown): (d: Doc) => boolean {
  const q = new BaseQuery(rewriteFilter(filter) as Doc, options as never);
  return (d) => q.test(d);
}

/** A condition on a path through a `__proto__` field (mingo refuses such selectors). */
function $__protoPath(_selector: string, value: unknown, options: unknown): Pred {
  const { path, cond } = value as { path: string; cond: unknown };
  const q = new BaseQuery(rewriteFilter({ v: cond }) as Doc, options as never);
  const parts = path.split('.');
  return (o) => {
    let cur: unknown = o;
    for (const p of parts) {
      if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, p)) {
        cur = undefined;
        break;
      }
      cur = (cur as Doc)[p];
    }
    return q.test(cur === undefined ? {} : { v: cur });
  };
}

/**
 * `$in` / `$nin` with hash-set membership. mingo's `$in` intersects the field's values with the
 * whole list for every document it tests (a hash map of the list built per document), so a query
 * with n ids over n candidates cost ~n². The list is split once here: strings, numbers and
 * booleans go into one Set (int32, int64 and double are all JS numbers once numtypes.ts has
 * absorbed them, so 1, 1.0 and NumberLong(1) are one key; '1' and true stay apart), Dates by
 * time, ObjectIds by hex, null as a flag; regexes and the rest (arrays, documents, other BSON
 * values) are compared one by one in BSON order (documents field by field, in order, as MongoDB
 * compares them; mingo's equality ignores field order). The semantics are those of MongoDB's
 * `$in`, an `$or` of equalities: a null in the list matches null and missing, an array field
 * matches when the whole array or any of its elements (nested arrays one level per dotted level,
 * as mingo's `$eq`) equals a value, and a regex matches string values, elements included.
 */
function inMembership(selector: string, list: unknown, op: string): Pred {
  if (!Array.isArray(list)) throw new MongoServerError(2, `${op} needs an array`);
  const prim = new Set<unknown>();
  let times: Set<number> | null = null;
  let oids: Set<string> | null = null;
  let hasNull = false;
  const others: unknown[] = [];
  const patterns: RegExp[] = [];
  for (const x of list) {
    if (x === null || x === undefined) hasNull = true;
    else if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') prim.add(x);
    else if (x instanceof Date) (times ??= new Set()).add(x.getTime());
    else if (x instanceof ObjectId) (oids ??= new Set()).add(x.toHexString());
    else {
      if (x instanceof RegExp) patterns.push(x);
      others.push(x);
    }
  }
  const member = (e: unknown): boolean => {
    switch (typeof e) {
      case 'string':
      case 'number':
      case 'boolean':
        return prim.has(e);
      case 'undefined':
        return false;
    }
    if (e === null) return hasNull;
    if (e instanceof Date) return times !== null && times.has(e.getTime());
    if (e instanceof ObjectId) return oids !== null && oids.has(e.toHexString());
    for (let i = 0; i < others.length; i++) if (bsonEqual(e, others[i])) return true;
    return false;
  };
  const matchesPattern = (e: unknown): boolean => typeof e === 'string' && patterns.some((re) => re.test(e));
  let depth = 0;
  for (let i = selector.indexOf('.'); i !== -1; i = selector.indexOf('.', i + 1)) depth++;
  const opts = { unwrapArray: true };
  return (o) => {
    const v = resolve(o, selector, opts);
    if (v === null || v === undefined) return hasNull;
    if (!Array.isArray(v)) return member(v) || (patterns.length > 0 && matchesPattern(v));
    for (let i = 0; i < others.length; i++) if (bsonEqual(v, others[i])) return true;
    for (let i = 0; i < v.length; i++) if (member(v[i])) return true;
    if (depth > 0 && v.some(Array.isArray)) {
      for (const e of flatten(v, depth)) if (member(e)) return true;
    }
    if (patterns.length > 0 && (v.some(matchesPattern) || flatten(v, 1).some(matchesPattern))) return true;
    return false;
  };
}

/** MongoDB's equality of two BSON values: documents field by field in order, numbers across types. */
function bsonEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => bsonEqual(x, b[i]));
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && bsonEqual(a[k], b[k]));
  }
  if (a === null || a === undefined) return b === null || b === undefined;
  if (typeof a === 'number') return typeof b === 'number' && (a === b || (a !== a && b !== b));
  if (b === null || b === undefined || Array.isArray(b) || isPlainObject(b)) return false;
  if (typeof a === 'object' && typeof b === 'object' && (a as object).constructor !== (b as object).constructor) return false;
  return compareValues(a, b) === 0;
}

function $__in(selector: string, value: unknown): Pred {
  return inMembership(selector, value, '$in');
}

function $__nin(selector: string, value: unknown): Pred {
  const test = inMembership(selector, value, '$nin');
  return (o) => !test(o);
}

/** $push that skips missing values (MongoDB) instead of pushing null (mingo). */
function $__push(coll: Doc[], expr: unknown, options: unknown): unknown[] {
  const guarded = { $cond: [{ $eq: [{ $type: expr }, 'missing'] }, MISSING, expr] };
  return (mingoPush(coll, guarded, options as never) as unknown[]).filter((v) => v !== MISSING);
}

function isJoinScalar(v: unknown): boolean {
  const t = typeof v;
  return t === 'string' || t === 'number' || t === 'boolean' || v instanceof ObjectId || v instanceof Date;
}

/** foreign key -> foreign docs (natural order); arrays contribute each element and themselves. */
function hashBy(docs: Doc[], field: string): Map<string, Doc[]> {
  const map = new Map<string, Doc[]>();
  for (const d of docs) {
    const keys = new Set<string>();
    for (const v of valuesAtPath(d, field)) keys.add(keyOf(v === undefined ? null : v));
    const whole = field.includes('.') ? undefined : d[field];
    if (Array.isArray(whole)) keys.add(keyOf(whole));
    for (const k of keys) {
      const arr = map.get(k);
      if (arr) arr.push(d);
      else map.set(k, [d]);
    }
  }
  return map;
}

/** `{$match: {$expr: {$eq: ['$field', '$$var']}}}` (either order) leading a pipeline. */
function leadingExprEq(pipeline: Doc[]): { field: string; variable: string } | null {
  const m = pipeline[0]?.$match;
  if (!isPlainObject(m)) return null;
  const conds: unknown[] = [];
  const e = m.$expr;
  if (isPlainObject(e) && Array.isArray(e.$and)) conds.push(...e.$and);
  else conds.push(e);
  for (const c of conds) {
    if (!isPlainObject(c) || !Array.isArray(c.$eq) || c.$eq.length !== 2) continue;
    const [a, b] = c.$eq as unknown[];
    const field = [a, b].find((x) => typeof x === 'string' && x.startsWith('$') && !x.startsWith('$$')) as string | undefined;
    const variable = [a, b].find((x) => typeof x === 'string' && x.startsWith('$$')) as string | undefined;
    if (field && variable && /^\$\$[A-Za-z_][\w]*$/.test(variable)) return { field: field.slice(1), variable: variable.slice(2) };
  }
  return null;
}

/** MongoDB's $lookup, with hash joins (see the module comment). */
function $__lookup(coll: { map(fn: (o: Doc) => Doc): unknown }, expr: Doc, options: unknown): unknown {
  const opts = options as { collectionResolver?: (n: string) => Doc[] };
  const as = expr.as;
  if (typeof as !== 'string') throw new MongoServerError(9, "$lookup requires an 'as' field");
  const pipeline = (expr.pipeline as Doc[] | undefined) ?? [];
  if (pipeline[0] && '$documents' in pipeline[0]) throw unsupported('$lookup with $documents');
  if (typeof expr.from !== 'string') throw unsupported('$lookup without a same-database "from" collection');
  const foreign = opts.collectionResolver ? opts.collectionResolver(expr.from) : [];
  const localField = expr.localField as string | undefined;
  const foreignField = expr.foreignField as string | undefined;
  if (!!localField !== !!foreignField) throw new MongoServerError(9, '$lookup requires both or neither of localField and foreignField');
  if (!localField && !Array.isArray(expr.pipeline)) {
    throw new MongoServerError(9, "$lookup requires either 'pipeline' or both 'localField' and 'foreignField' to be specified");
  }
  const exprEq = !localField && expr.let ? leadingExprEq(pipeline) : null;
  const byKey = localField ? hashBy(foreign, foreignField!) : exprEq ? hashBy(foreign, exprEq.field) : null;
  // A ComputeOptions instance is needed to pass `let` variables to the sub-pipeline; mingo does
  // not export the class, so take it from the instance we were given (mingo 7.2.7).
  const CO = Object.getPrototypeOf(options).constructor as { init(o: unknown): { update(l: Doc): unknown } };
  const agg = pipeline.length ? new BaseAggregator(pipeline, options as never) : null;
  let position: Map<Doc, number> | null = null; // natural order of foreign docs, built on demand
  return coll.map((obj: Doc) => {
    let candidates: Doc[] = foreign;
    if (localField && byKey) {
      const local = valuesAtPath(obj, localField);
      const seen = new Set<Doc>();
      candidates = [];
      const keys = local.map((v) => keyOf(v === undefined ? null : v));
      const whole = localField.includes('.') ? undefined : obj[localField];
      if (Array.isArray(whole) && whole.length === 0) keys.push(keyOf(null));
      for (const k of keys) for (const d of byKey.get(k) ?? []) if (!seen.has(d)) (seen.add(d), candidates.push(d));
      if (candidates.length > 1 && keys.length > 1) {
        // several local values: restore the foreign natural order
        if (!position) position = new Map(foreign.map((d, i) => [d, i]));
        const pos = position;
        candidates.sort((a, b) => pos.get(a)! - pos.get(b)!);
      }
    }
    let variables: Doc = {};
    if (expr.let) variables = evalExpr(obj, expr.let, options as never) as Doc;
    if (exprEq && byKey && isJoinScalar(variables[exprEq.variable])) {
      candidates = byKey.get(keyOf(variables[exprEq.variable])) ?? [];
    }
    let joined: Doc[] = candidates;
    if (agg) {
      const copts = CO.init(options);
      copts.update({ root: null, variables });
      joined = (agg.run(candidates, copts as never) as Doc[]).map(idFirst);
    }
    if (as.includes('.')) {
      const out = cloneDoc(obj);
      setPath(out, as, joined);
      return out;
    }
    return { ...obj, [as]: joined };
  });
}

/** A copy of `obj` with the value at a dotted path replaced (or removed), sharing the rest. */
function withPath(obj: Doc, parts: string[], value: unknown, remove: boolean): Doc {
  const out: Doc = { ...obj };
  let cur = out;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = cur[parts[i]];
    if (!isPlainObject(next)) return out;
    cur[parts[i]] = { ...next };
    cur = cur[parts[i]] as Doc;
  }
  const last = parts[parts.length - 1];
  if (remove) delete cur[last];
  else cur[last] = value;
  return out;
}

/**
 * MongoDB's $unwind: a value that is not an array (an empty string or document included) is a
 * one-element array; mingo dropped '' and {}. Input documents are never edited (mingo wrote
 * `includeArrayIndex` into them and removed the field of empty arrays from them).
 */
function $__unwind(coll: { transform(fn: (docs: Doc[]) => unknown): unknown }, expr: unknown): unknown {
  const spec: Doc = typeof expr === 'string' ? { path: expr } : isPlainObject(expr) ? expr : {};
  const path = spec.path;
  if (typeof path !== 'string' || !path.startsWith('$') || path.length < 2) {
    throw new MongoServerError(28808, 'path option to $unwind stage should be prefixed with a \'$\'');
  }
  const parts = path.slice(1).split('.');
  const index = typeof spec.includeArrayIndex === 'string' && spec.includeArrayIndex !== '' ? spec.includeArrayIndex : null;
  const preserve = spec.preserveNullAndEmptyArrays === true;
  const withIndex = (o: Doc, i: number | null): Doc => (index === null ? o : { ...o, [index]: i });
  return coll.transform((docs: Doc[]) => {
    const out: Doc[] = [];
    for (const obj of docs) {
      let value: unknown = obj;
      for (const p of parts) value = isPlainObject(value) ? value[p] : undefined;
      if (Array.isArray(value)) {
        if (value.length === 0) {
          if (preserve) out.push(withIndex(withPath(obj, parts, undefined, true), null));
        } else {
          value.forEach((item, i) => out.push(withIndex(withPath(obj, parts, item, false), i)));
        }
      } else if (value === null || value === undefined) {
        if (preserve) out.push(withIndex(obj, null));
      } else out.push(withIndex(obj, null));
    }
    return Lazy(out);
  });
}

function comparison(name: string, test: (c: number) => boolean) {
  return (obj: unknown, expr: unknown, options: unknown): unknown => {
    const args = evalExpr(obj, expr, options as never);
    if (!Array.isArray(args) || args.length !== 2) throw new MongoServerError(16020, `Expression ${name} takes exactly 2 arguments. ${Array.isArray(args) ? args.length : 1} were passed in.`);
    return test(compareValues(args[0], args[1]));
  };
}

export const FIX_EXPRESSION_OPS = {
  $__lt: comparison('$lt', (c) => c < 0),
  $__lte: comparison('$lte', (c) => c <= 0),
  $__gt: comparison('$gt', (c) => c > 0),
  $__gte: comparison('$gte', (c) => c >= 0),
  /** mingo returns null for a non-array; MongoDB fails. */
  $__size: (obj: unknown, expr: unknown, options: unknown): unknown => {
    const v = evalExpr(obj, expr, options as never);
    if (!Array.isArray(v)) {
      throw new MongoServerError(17124, `The argument to $size must be an array. Type of argument: ${v === undefined ? 'missing' : v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v}`);
    }
    return v.length;
  },
  /** MongoDB truthiness: '' and NaN are true (mingo negated JavaScript truthiness). */
  $__not: (obj: unknown, expr: unknown, options: unknown): unknown => {
    const args = Array.isArray(expr) ? expr : [expr];
    if (args.length !== 1) throw new MongoServerError(16020, `Expression $not takes exactly 1 arguments. ${args.length} were passed in.`);
    const v = evalExpr(obj, args[0], options as never);
    return v === false || v === null || v === undefined || v === 0;
  },
  $__cmp: (obj: unknown, expr: unknown, options: unknown): unknown => {
    const args = evalExpr(obj, expr, options as never) as unknown[];
    const c = compareValues(args[0], args[1]);
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  },
};

const EXPRESSION_RENAMES: Record<string, string> = nullProto({ $lt: '$__lt', $lte: '$__lte', $gt: '$__gt', $gte: '$__gte', $cmp: '$__cmp', $size: '$__size', $not: '$__not' });

/** Rewrite comparison operators inside an aggregation expression (any depth). */
export function rewriteExpr(v: unknown, depth = 0): unknown {
  if (depth > 200 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => rewriteExpr(x, depth + 1));
  if (!isPlainObject(v)) return v;
  const out: Doc = {};
  for (const k of Object.keys(v)) {
    if (k === '$literal') out[k] = v[k];
    else out[EXPRESSION_RENAMES[k] ?? k] = rewriteExpr(v[k], depth + 1);
  }
  return out;
}

export const FIX_QUERY_OPS = {
  $__mod,
  $__in,
  $__nin,
  $__type,
  $__bitsAllSet: bitsOp('$bitsAllSet', true, true),
  $__bitsAnySet: bitsOp('$bitsAnySet', true, false),
  $__bitsAllClear: bitsOp('$bitsAllClear', false, true),
  $__bitsAnyClear: bitsOp('$bitsAnyClear', false, false),
  $__gtBin: $__binCmp('$gt', (c) => c > 0),
  $__gteBin: $__binCmp('$gte', (c) => c >= 0),
  $__ltBin: $__binCmp('$lt', (c) => c < 0),
  $__lteBin: $__binCmp('$lte', (c) => c <= 0),
  $__elemMatchRef,
  $__protoPath,
  $__geoWithin: (selector: string, value: unknown): Pred => pointsTest(selector, geoWithinTest(value)),
  $__geoIntersects: (selector: string, value: unknown): Pred => pointsTest(selector, geoIntersectsTest(value)),
  /** $near / $nearSphere as a filter (distance bounds); find orders the results by distance. */
  $__near: (selector: string, value: unknown): Pred => {
    const { op, spec, max, min } = value as { op: string; spec: unknown; max: unknown; min: unknown };
    const near = parseNear(op, spec, max, min);
    return (o) => {
      const d = nearDistance(o, selector, near.point);
      return d !== null && d >= near.min && d <= near.max;
    };
  },
};
export const FIX_ACCUMULATOR_OPS = { $__push };
export const FIX_PIPELINE_OPS = { $__lookup, $__unwind };

const QUERY_RENAMES: Record<string, string> = nullProto({
  $mod: '$__mod',
  $type: '$__type',
  $bitsAllSet: '$__bitsAllSet',
  $bitsAnySet: '$__bitsAnySet',
  $bitsAllClear: '$__bitsAllClear',
  $bitsAnyClear: '$__bitsAnyClear',
  $geoWithin: '$__geoWithin',
  $geoIntersects: '$__geoIntersects',
});
/** Operators renamed inside a field's condition (see inMembership). */
const CONDITION_RENAMES: Record<string, string> = nullProto({ ...QUERY_RENAMES, $in: '$__in', $nin: '$__nin' });
const BIN_CMP: Record<string, string> = nullProto({ $gt: '$__gtBin', $gte: '$__gteBin', $lt: '$__ltBin', $lte: '$__lteBin' });

/** Rewrite a query filter to use the corrected operators. Leaves $expr (expressions) alone. */
export function rewriteFilter(filter: unknown): unknown {
  if (Array.isArray(filter)) return filter.map(rewriteFilter);
  if (!isPlainObject(filter)) return filter;
  const out: Doc = {};
  const extra: Doc[] = [];
  let n = 0;
  for (const k of Object.keys(filter)) {
    const v = filter[k];
    if (k === '$expr') out[k] = rewriteExpr(v);
    else if (k === '$comment') continue; // MongoDB ignores it; mingo fails on it
    else if (k === '$where' || k === '$text') out[k] = v;
    else if (k === '$and' || k === '$or' || k === '$nor') out[k] = Array.isArray(v) ? v.map(rewriteFilter) : v;
    else if (k.split('.').includes('__proto__')) {
      // an ordinary field name in MongoDB; mingo refuses such paths, so test it ourselves
      out[`__embedded_proto_${n++}`] = { $__protoPath: { path: k, cond: v } };
    } else if (isPlainObject(v) && Array.isArray(v.$all) && Object.keys(v).every((x) => x.startsWith('$'))) {
      // MongoDB: {f: {$all: [a, b]}} is {$and: [{f: a}, {f: b}]}, also for a non-array f
      const { $all, ...rest } = v;
      if (($all as unknown[]).length === 0) extra.push({ [k]: { $in: [] } });
      for (const x of $all as unknown[]) extra.push(rewriteFilter({ [k]: x }) as Doc);
      if (Object.keys(rest).length) extra.push(rewriteFilter({ [k]: rest }) as Doc);
    } else out[QUERY_RENAMES[k] ?? k] = rewriteCondition(v);
  }
  if (extra.length) return Object.keys(out).length ? { $and: [out, ...extra] } : { $and: extra };
  return out;
}

/** A field's condition: operator object (recursing into $not/$elemMatch) or a literal. */
function rewriteCondition(cond: unknown): unknown {
  if (!isPlainObject(cond) || !Object.keys(cond).some((k) => k.startsWith('$'))) return cond;
  const out: Doc = {};
  const nearOp = '$near' in cond ? '$near' : '$nearSphere' in cond ? '$nearSphere' : null;
  for (const k of Object.keys(cond)) {
    const v = cond[k];
    if (nearOp && (k === '$maxDistance' || k === '$minDistance')) continue;
    if (k === nearOp) out.$__near = { op: k, spec: v, max: cond.$maxDistance, min: cond.$minDistance };
    else if (k === '$elemMatch' && isPlainObject(v) && Object.keys(v).some((x) => x in DBREF_KEYS)) out.$__elemMatchRef = v;
    else if (k === '$not' || k === '$elemMatch') out[k] = isPlainObject(v) && Object.keys(v).some((x) => !x.startsWith('$')) ? rewriteFilter(v) : rewriteCondition(v);
    else if (BIN_CMP[k] && v instanceof Binary) out[BIN_CMP[k]] = v;
    else if (k === '$all' && Array.isArray(v)) out[k] = v.map((x) => (isPlainObject(x) && x.$elemMatch ? { $elemMatch: rewriteFilter(x.$elemMatch) } : x));
    else out[CONDITION_RENAMES[k] ?? k] = v;
  }
  return out;
}

/**
 * `$count` as MongoDB defines it ($group + $project): no document at all for empty input, where
 * mingo 7.2.7 answers `{count: 0}`. Invalid names are left to mingo.
 */
function rewriteCount(spec: unknown): Doc[] | null {
  if (typeof spec !== 'string' || spec === '' || spec.startsWith('$') || spec.includes('.') || spec === '_id') return null;
  return [{ $group: { _id: null, [spec]: { $sum: 1 } } }, { $project: { _id: 0 } }];
}

/** Rewrite $match filters and $group $push accumulators in a pipeline (recursively). */
export function rewritePipeline(stages: Doc[]): Doc[] {
  return stages.flatMap((st): Doc | Doc[] => {
    const name = Object.keys(st)[0];
    const spec = st[name];
    switch (name) {
      case '$match':
        return { $match: rewriteFilter(spec) };
      case '$group': {
        if (!isPlainObject(spec)) return st;
        const g: Doc = {};
        for (const [k, v] of Object.entries(spec)) {
          g[k] = rewriteExpr(k !== '_id' && isPlainObject(v) && '$push' in v ? { $__push: v.$push } : v);
        }
        return { $group: g };
      }
      case '$facet': {
        if (!isPlainObject(spec)) return st;
        const f: Doc = {};
        for (const [k, v] of Object.entries(spec)) f[k] = Array.isArray(v) ? rewritePipeline(v as Doc[]) : v;
        return { $facet: f };
      }
      case '$lookup': {
        if (!isPlainObject(spec)) return st;
        const l: Doc = { ...spec };
        if (Array.isArray(spec.pipeline)) l.pipeline = rewritePipeline(spec.pipeline as Doc[]);
        if (spec.let !== undefined) l.let = rewriteExpr(spec.let);
        return { $__lookup: l };
      }
      case '$unionWith':
        if (isPlainObject(spec) && Array.isArray(spec.pipeline)) return { [name]: { ...spec, pipeline: rewritePipeline(spec.pipeline as Doc[]) } };
        return st;
      case '$count':
        return rewriteCount(spec) ?? st;
      case '$unwind':
        return { $__unwind: spec };
      case '$graphLookup':
      case '$sort':
      case '$limit':
      case '$skip':
      case '$out':
      case '$sample':
      case '$documents':
        return st;
      default:
        // expression-bearing stages ($project, $addFields/$set, $replaceRoot, $bucketAuto,
        // $sortByCount, $setWindowFields, $redact, ...)
        return { [name]: rewriteExpr(spec) };
    }
  }) as Doc[];
}
