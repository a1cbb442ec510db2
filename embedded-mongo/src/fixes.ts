/**
 * Corrections to mingo where it silently differs from MongoDB (found by probing mingo 7.2.7).
 * mingo's Context gives existing operators precedence, so they cannot be overridden in place;
 * instead filters and pipelines are rewritten to use our own operators under private names.
 *
 *  - `$mod` (query): mingo matches null and numeric strings (`null % 2 === 0` in JS).
 *  - `$type` (query): mingo does not look inside arrays; MongoDB matches an array field when any
 *    element has the type. 'int' / 'long' / 'double' cannot be answered because numeric BSON
 *    types are not preserved, so they are refused.
 *  - `$push` (accumulator): mingo pushes null for a missing field; MongoDB skips it.
 */
import { Binary, Long, ObjectId, Timestamp } from 'bson';
import type * as AccumulatorModule from 'mingo/types/operators/accumulator';
import type * as UtilModule from 'mingo/types/util';
import { MongoServerError, unsupported } from './errors';
import { Doc, isPlainObject } from './values';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { resolve } = require('mingo/util') as typeof UtilModule;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { $push: mingoPush } = require('mingo/operators/accumulator') as typeof AccumulatorModule;

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

const TYPE_ALIASES: Record<string, string> = {
  1: 'double', 2: 'string', 3: 'object', 4: 'array', 5: 'binData', 6: 'undefined', 7: 'objectId', 8: 'bool', 9: 'date', 10: 'null',
  11: 'regex', 13: 'javascript', 16: 'int', 17: 'timestamp', 18: 'long', 19: 'decimal', [-1]: 'minKey', 127: 'maxKey',
};

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
    case 'int':
    case 'long':
    case 'double':
      throw unsupported(`$type '${name}' (numeric BSON types are not preserved; use 'number')`, 2);
    default:
      return () => false;
  }
}

function $__type(selector: string, value: unknown): Pred {
  const names = (Array.isArray(value) ? value : [value]).map((t) => (typeof t === 'number' ? TYPE_ALIASES[t] : String(t)));
  if (names.some((n) => n === undefined)) throw new MongoServerError(2, `Invalid numerical type code: ${String(value)}`);
  const tests = names.map(typeTest);
  const matches = (v: unknown) => tests.some((t) => t(v));
  return (o) => {
    const raw = resolve(o, selector, { unwrapArray: true });
    if (raw === undefined) return false;
    if (matches(raw)) return true;
    return Array.isArray(raw) && raw.some(matches);
  };
}

/** $push that skips missing values (MongoDB) instead of pushing null (mingo). */
function $__push(coll: Doc[], expr: unknown, options: unknown): unknown[] {
  const guarded = { $cond: [{ $eq: [{ $type: expr }, 'missing'] }, MISSING, expr] };
  return (mingoPush(coll, guarded, options as never) as unknown[]).filter((v) => v !== MISSING);
}

export const FIX_QUERY_OPS = { $__mod, $__type };
export const FIX_ACCUMULATOR_OPS = { $__push };

const QUERY_RENAMES: Record<string, string> = { $mod: '$__mod', $type: '$__type' };

/** Rewrite a query filter to use the corrected operators. Leaves $expr (expressions) alone. */
export function rewriteFilter(filter: unknown): unknown {
  if (Array.isArray(filter)) return filter.map(rewriteFilter);
  if (!isPlainObject(filter)) return filter;
  const out: Doc = {};
  for (const k of Object.keys(filter)) {
    const v = filter[k];
    if (k === '$expr' || k === '$where' || k === '$comment' || k === '$text') out[k] = v;
    else if (k === '$and' || k === '$or' || k === '$nor') out[k] = Array.isArray(v) ? v.map(rewriteFilter) : v;
    else out[QUERY_RENAMES[k] ?? k] = rewriteCondition(v);
  }
  return out;
}

/** A field's condition: operator object (recursing into $not/$elemMatch) or a literal. */
function rewriteCondition(cond: unknown): unknown {
  if (!isPlainObject(cond) || !Object.keys(cond).some((k) => k.startsWith('$'))) return cond;
  const out: Doc = {};
  for (const k of Object.keys(cond)) {
    const v = cond[k];
    if (k === '$not' || k === '$elemMatch') out[k] = isPlainObject(v) && Object.keys(v).some((x) => !x.startsWith('$')) ? rewriteFilter(v) : rewriteCondition(v);
    else if (k === '$all' && Array.isArray(v)) out[k] = v.map((x) => (isPlainObject(x) && x.$elemMatch ? { $elemMatch: rewriteFilter(x.$elemMatch) } : x));
    else out[QUERY_RENAMES[k] ?? k] = v;
  }
  return out;
}

/** Rewrite $match filters and $group $push accumulators in a pipeline (recursively). */
export function rewritePipeline(stages: Doc[]): Doc[] {
  return stages.map((st) => {
    const name = Object.keys(st)[0];
    const spec = st[name];
    switch (name) {
      case '$match':
        return { $match: rewriteFilter(spec) };
      case '$group': {
        if (!isPlainObject(spec)) return st;
        const g: Doc = {};
        for (const [k, v] of Object.entries(spec)) {
          g[k] = k !== '_id' && isPlainObject(v) && '$push' in v ? { $__push: v.$push } : v;
        }
        return { $group: g };
      }
      case '$facet': {
        if (!isPlainObject(spec)) return st;
        const f: Doc = {};
        for (const [k, v] of Object.entries(spec)) f[k] = Array.isArray(v) ? rewritePipeline(v as Doc[]) : v;
        return { $facet: f };
      }
      case '$lookup':
      case '$unionWith':
        if (isPlainObject(spec) && Array.isArray(spec.pipeline)) return { [name]: { ...spec, pipeline: rewritePipeline(spec.pipeline as Doc[]) } };
        return st;
      default:
        return st;
    }
  });
}
