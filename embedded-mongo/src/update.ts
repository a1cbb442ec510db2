/**
 * Update application on top of mingo's updater: $setOnInsert emulation, replacement and pipeline
 * updates, `_id` immutability, and upsert seed documents built from equality filters.
 */
import { BSON, Decimal128, Long, ObjectId } from 'bson';
import type * as UpdaterModule from 'mingo/types/updater';
import { mapMingoError, MongoServerError } from './errors';
import { refuseUnsupported, runPipeline } from './query';
import { makeQuery } from './mingo';
import { flagHas, hasMarks, markOf, NumType, setMark, setOwn } from './numtypes';
import { cloneDoc, Doc, getPath, idFirst, isPlainObject, keyOf, renderValue, setPath } from './values';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { update: mingoUpdate } = require('mingo/updater') as typeof UpdaterModule;

const PIPELINE_UPDATE_STAGES = new Set(['$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith']);

export type UpdateSpec = Doc | Doc[];

export function isOperatorUpdate(u: UpdateSpec): u is Doc {
  if (Array.isArray(u)) return false;
  const ks = Object.keys(u);
  return ks.length > 0 && ks[0].startsWith('$');
}

export function validateUpdate(u: unknown): UpdateSpec {
  if (Array.isArray(u)) {
    for (const st of u) {
      const name = isPlainObject(st) ? Object.keys(st)[0] : undefined;
      if (!name || !PIPELINE_UPDATE_STAGES.has(name)) {
        throw new MongoServerError(72, `${String(name)} is not allowed to be used within an update`);
      }
    }
    refuseUnsupported(u);
    return u as Doc[];
  }
  if (!isPlainObject(u)) throw new MongoServerError(9, 'Update argument must be either an object or an array');
  const ks = Object.keys(u);
  if (ks.length > 0 && ks[0].startsWith('$')) {
    for (const k of ks) {
      if (!k.startsWith('$')) throw new MongoServerError(9, `Unknown modifier: ${k}. Expected a valid update modifier or pipeline-style update specified as an array`);
    }
    // Decimal128 as a stored value is fine ($set); arithmetic on it is not.
    for (const op of ['$inc', '$mul', '$min', '$max', '$bit']) if (u[op] !== undefined) refuseUnsupported(u[op]);
    for (const k of ks) if (k !== '$inc' && k !== '$mul' && k !== '$min' && k !== '$max') refuseNonDecimal(u[k]);
  } else {
    for (const k of ks) if (k.startsWith('$')) throw new MongoServerError(52, `The dollar ($) prefixed field '${k}' in '${k}' is not allowed in the context of an update's replacement document.`);
  }
  return u;
}

/** Refuse unsupported operators but allow Decimal128 values (storing them is fine). */
function refuseNonDecimal(v: unknown): void {
  const strip = (x: unknown): unknown => {
    if (x instanceof Decimal128 || x instanceof Long) return null;
    if (Array.isArray(x)) return x.map(strip);
    if (isPlainObject(x)) {
      const o: Doc = {};
      for (const k of Object.keys(x)) o[k] = strip(x[k]);
      return o;
    }
    return x;
  };
  refuseUnsupported(strip(v));
}

type Resolved = { kind: 'value'; value: unknown } | { kind: 'missing' } | { kind: 'blocked'; field: string; elem: unknown; prefix: string };

/** Resolve an update path in `doc` the way the server does (arrays only by numeric index). */
function resolveUpdatePath(doc: Doc, path: string): Resolved {
  const parts = path.split('.');
  let cur: unknown = doc;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(part)) return { kind: 'blocked', field: part, elem: cur, prefix: parts.slice(0, i).join('.') };
      const idx = Number(part);
      if (idx >= cur.length) return { kind: 'missing' };
      cur = cur[idx];
    } else if (isPlainObject(cur)) {
      if (!(part in cur)) return { kind: 'missing' };
      cur = cur[part];
    } else {
      return { kind: 'blocked', field: part, elem: cur, prefix: parts.slice(0, i).join('.') };
    }
  }
  return { kind: 'value', value: cur };
}

function bsonTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'double';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (isPlainObject(v)) return 'object';
  return (v as { _bsontype?: string })._bsontype?.toLowerCase() ?? 'object';
}

const isNumeric = (v: unknown) => typeof v === 'number' || v instanceof Long;

/**
 * mingo silently skips updates whose target has the wrong type (e.g. $inc on a string, $push
 * on a number, $set through a scalar); MongoDB fails them. Check first and fail the same way.
 * Paths with positional parts ($, $[], $[id]) are left to mingo.
 */
function checkOperatorTargets(doc: Doc, mod: Doc): void {
  const idText = renderValue(doc._id);
  // Conflicting paths are a parse error in MongoDB, reported before any type problem.
  const paths: string[] = [];
  for (const op of Object.keys(mod)) {
    const fields = mod[op];
    if (!isPlainObject(fields)) continue;
    for (const p of Object.keys(fields)) {
      paths.push(p);
      if (op === '$rename' && typeof fields[p] === 'string') paths.push(fields[p] as string);
    }
  }
  const sortedPaths = [...paths].sort();
  for (let i = 1; i < sortedPaths.length; i++) {
    const a = sortedPaths[i - 1];
    const b = sortedPaths[i];
    if (a === b || b.startsWith(a + '.')) throw new MongoServerError(40, `Updating the path '${b}' would create a conflict at '${a}'`);
  }
  for (const op of Object.keys(mod)) {
    const fields = mod[op];
    if (!isPlainObject(fields)) throw new MongoServerError(9, `Modifiers operate on fields but we found type ${bsonTypeName(fields)} instead. For example: {$mod: {<field>: ...}} not {${op}: ${String(fields)}}`);
    for (const path of Object.keys(fields)) {
      const arg = fields[path];
      if (op === '$rename') {
        if (typeof arg !== 'string') throw new MongoServerError(2, `The 'to' field for $rename must be a string: ${path}: ${String(arg)}`);
        const t = resolveUpdatePath(doc, arg);
        if (t.kind === 'blocked' && resolveUpdatePath(doc, path).kind === 'value') {
          throw new MongoServerError(28, `Cannot create field '${t.field}' in element {${t.prefix}: ${renderValue(t.elem)}}`);
        }
        continue;
      }
      if ((op === '$inc' || op === '$mul') && !isNumeric(arg)) {
        throw new MongoServerError(14, `Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${path}: ${renderValue(arg)}}`);
      }
      if (path.split('.').some((p) => p.startsWith('$'))) continue;
      const r = resolveUpdatePath(doc, path);
      if (r.kind === 'blocked') {
        if (op === '$unset' || op === '$pull' || op === '$pullAll' || op === '$pop') continue; // no-ops in MongoDB too
        throw new MongoServerError(28, `Cannot create field '${r.field}' in element {${r.prefix}: ${renderValue(r.elem)}}`);
      }
      if (r.kind !== 'value') continue;
      const v = r.value;
      switch (op) {
        case '$inc':
        case '$mul':
          if (!isNumeric(v)) {
            throw new MongoServerError(
              14,
              `Cannot apply ${op} to a value of non-numeric type. {_id: ${idText}} has the field '${path.split('.').pop()}' of non-numeric type ${bsonTypeName(v)}`,
            );
          }
          break;
        case '$push':
        case '$addToSet':
          if (!Array.isArray(v)) {
            throw new MongoServerError(2, `The field '${path}' must be an array but is of type ${bsonTypeName(v)} in document {_id: ${idText}}`);
          }
          break;
        case '$pull':
        case '$pullAll':
          if (!Array.isArray(v)) throw new MongoServerError(2, `Cannot apply ${op} to a non-array value`);
          break;
        case '$pop':
          if (!Array.isArray(v)) throw new MongoServerError(14, `Path '${path}' contains an element of non-array type '${bsonTypeName(v)}'`);
          break;
      }
    }
  }
}

/** MongoDB's document size limit (BSONObjMaxUserSize). */
export const MAX_BSON_SIZE = 16 * 1024 * 1024;

function checkSize(doc: Doc): void {
  const size = BSON.calculateObjectSize(doc, { ignoreUndefined: true });
  if (size > MAX_BSON_SIZE) throw new MongoServerError(10334, `Resulting document after update is larger than ${MAX_BSON_SIZE}`);
}

const isPositional = (part: string) => part === '$' || part === '$[]' || (part.startsWith('$[') && part.endsWith(']'));

/** Top-level field conditions of a filter (and of a top-level $and). */
function conditionEntries(filter: Doc | undefined, out: [string, unknown][] = []): [string, unknown][] {
  if (!filter) return out;
  for (const k of Object.keys(filter)) {
    if (k === '$and' && Array.isArray(filter.$and)) for (const sub of filter.$and) conditionEntries(sub as Doc, out);
    else if (!k.startsWith('$')) out.push([k, filter[k]]);
  }
  return out;
}

/**
 * Replace the positional `$` in an update path by the index of the first element of that array
 * the query matched (MongoDB resolves it once, against the document as it was matched).
 */
function resolvePositional(doc: Doc, path: string, condition: Doc | undefined): string {
  const parts = path.split('.');
  const at = parts.indexOf('$');
  if (at < 0) return path;
  const prefix = parts.slice(0, at).join('.');
  const conds = conditionEntries(condition).filter(([k]) => k === prefix || k.startsWith(prefix + '.'));
  if (conds.length === 0) throw new MongoServerError(2, 'The positional operator did not find the match needed from the query.');
  const arr = getPath(doc, prefix);
  if (!Array.isArray(arr)) throw new MongoServerError(2, 'The positional operator did not find the match needed from the query.');
  const q = makeQuery(Object.fromEntries(conds));
  const idx = arr.findIndex((e) => q.test(prefixDoc(prefix, [e])));
  if (idx < 0) throw new MongoServerError(2, 'The positional operator did not find the match needed from the query.');
  parts[at] = String(idx);
  return resolvePositional(doc, parts.join('.'), undefined);
}

function prefixDoc(prefix: string, value: unknown): Doc {
  const out: Doc = {};
  setPath(out, prefix, value);
  return out;
}

/** $set of a plain path (no positional parts), MongoDB's way: creates missing parents, pads arrays. */
function assignPath(doc: Doc, parts: string[], value: unknown, mark: NumType | undefined): boolean {
  let cur: Doc | unknown[] = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i];
    let next: unknown = Array.isArray(cur) ? cur[Number(p)] : Object.prototype.hasOwnProperty.call(cur, p) ? cur[p] : undefined;
    if (next === undefined || next === null) {
      next = {};
      if (Array.isArray(cur)) while (cur.length < Number(p)) cur.push(null);
      setOwn(cur, Array.isArray(cur) ? Number(p) : p, next);
    }
    cur = next as Doc | unknown[];
  }
  const last = parts[parts.length - 1];
  const key: string | number = Array.isArray(cur) ? Number(last) : last;
  const exists = Array.isArray(cur) ? (key as number) < cur.length : Object.prototype.hasOwnProperty.call(cur, last);
  const prev = exists ? (cur as Record<string | number, unknown>)[key] : undefined;
  const same = exists && keyOf(prev) === keyOf(value) && typeOf(prev) === typeOf(value) && markOf(cur, key) === mark;
  if (same) return false;
  if (Array.isArray(cur)) while (cur.length < (key as number)) cur.push(null);
  setOwn(cur, key, value);
  setMark(cur, key, mark);
  if (mark || hasMarks(value)) {
    // flag every container on the path, so output finds the marked number
    let c: unknown = doc;
    flagHas(c);
    for (let i = 0; i < parts.length - 1; i++) {
      c = Array.isArray(c) ? c[Number(parts[i])] : (c as Doc)[parts[i]];
      flagHas(c);
    }
  }
  return true;
}

/** Same value and same BSON type (keyOf puts all numbers in one key space; binData subtypes differ). */
function typeOf(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v !== 'object') return typeof v;
  return (v as { _bsontype?: string })._bsontype ?? (Array.isArray(v) ? 'array' : v instanceof Date ? 'date' : 'object');
}

/** Container and key of a plain path, when it exists. */
function locate(doc: Doc, parts: string[]): { container: Doc | unknown[]; key: string | number } | null {
  let cur: unknown = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    if (cur === null || typeof cur !== 'object') return null;
    cur = Array.isArray(cur) ? cur[Number(parts[i])] : (cur as Doc)[parts[i]];
  }
  if (cur === null || typeof cur !== 'object') return null;
  const last = parts[parts.length - 1];
  return { container: cur as Doc, key: Array.isArray(cur) ? Number(last) : last };
}

function numType(v: unknown, mark: NumType | undefined): 'int' | 'long' | 'double' {
  if (mark) return mark;
  if (typeof v === 'number' && Number.isInteger(v)) return 'int';
  return 'double';
}

/** A pull predicate with a top-level $and / $or / $nor is a query on the array's documents. */
function isLogicalPullSpec(spec: unknown): spec is Doc {
  return isPlainObject(spec) && Object.keys(spec).some((k) => k === '$or' || k === '$and' || k === '$nor');
}

function applyOperators(doc: Doc, u: Doc, opts: { arrayFilters?: Doc[]; condition?: Doc; inserting?: boolean }): { doc: Doc; changed: boolean } {
  const mod: Doc = { ...u };
  const soi = mod.$setOnInsert as Doc | undefined;
  delete mod.$setOnInsert;
  if (opts.inserting && soi && Object.keys(soi).length) {
    const set = { ...((mod.$set as Doc) ?? {}) };
    for (const k of Object.keys(soi)) {
      if (k in set) throw new MongoServerError(40, `Updating the path '${k}' would create a conflict at '${k}'`);
      setOwn(set, k, soi[k]);
      setMark(set, k, markOf(soi, k));
    }
    mod.$set = set;
  }
  // $set of _id to its current value is a no-op in MongoDB (a different value fails below, 66)
  if (isPlainObject(mod.$set) && '_id' in mod.$set && doc._id !== undefined && sameId(doc._id, mod.$set._id)) {
    const set = { ...mod.$set };
    delete set._id;
    mod.$set = set;
  }
  for (const k of Object.keys(mod)) if (isPlainObject(mod[k]) && Object.keys(mod[k] as Doc).length === 0) delete mod[k];
  if (Object.keys(mod).length === 0) return { doc, changed: false };
  checkOperatorTargets(doc, mod);
  const next = cloneDoc(doc);
  let changed = false;
  for (const op of Object.keys(mod)) {
    const fields = mod[op] as Doc;
    for (const rawPath of Object.keys(fields)) {
      const arg = fields[rawPath];
      const path = rawPath.includes('$') ? resolvePositional(doc, rawPath, opts.condition) : rawPath;
      const parts = path.split('.');
      const dollarName = parts.find((p) => p.startsWith('$') && !isPositional(p));
      if (dollarName !== undefined && !opts.inserting) {
        // MongoDB 5+ stores $-prefixed names on insert (and upsert inserts), not on updates
        throw new MongoServerError(52, `The dollar ($) prefixed field '${dollarName}' in '${rawPath}' is not allowed in the context of an update. Consider using $setField or an aggregation pipeline update`);
      }
      const plain = !parts.some(isPositional);
      if (op === '$set' && plain) {
        if (path === '_id' || path.startsWith('_id.')) {
          if (doc._id !== undefined) throw new MongoServerError(66, "Performing an update on the path '_id' would modify the immutable field '_id'");
        }
        if (assignPath(next, parts, cloneDoc(arg), markOf(fields, rawPath))) changed = true;
        continue;
      }
      if (op === '$pull' && plain && isLogicalPullSpec(arg)) {
        const loc = locate(next, parts);
        const arr = loc ? (loc.container as Record<string | number, unknown>)[loc.key] : undefined;
        if (!Array.isArray(arr)) continue;
        const q = makeQuery(arg);
        const kept = arr.filter((e) => !(isPlainObject(e) && q.test(e)));
        if (kept.length !== arr.length) {
          setOwn(loc!.container, loc!.key, kept);
          changed = true;
        }
        continue;
      }
      if (dollarName !== undefined || parts.includes('__proto__')) {
        throw new MongoServerError(2, `embedded engine does not support ${op} on the field path '${rawPath}' ($-prefixed or __proto__ names; $set supports them)`);
      }
      const before = plain && (op === '$inc' || op === '$mul' || op === '$rename') ? locate(next, parts) : null;
      const prevMark = before ? markOf(before.container, before.key) : undefined;
      const prevValue = before ? (before.container as Record<string | number, unknown>)[before.key] : undefined;
      let paths: string[];
      try {
        paths = mingoUpdate(next, { [op]: { [path]: arg } } as never, opts.arrayFilters, undefined, { cloneMode: 'copy' });
      } catch (e) {
        throw mapMingoError(e);
      }
      if (paths.length > 0) changed = true;
      if (!before || paths.length === 0) continue;
      if (op === '$rename') {
        const to = locate(next, String(arg).split('.'));
        if (to) {
          setMark(to.container, to.key, prevMark);
          if (prevMark) flagHas(next);
          if (prevMark) for (let c: unknown = next, i = 0; i < String(arg).split('.').length - 1 && c; i++) flagHas((c = (c as Doc)[String(arg).split('.')[i]]));
        }
        continue;
      }
      // $inc / $mul: int op int -> int (long on overflow), long involved -> long, double involved -> double
      const a = numType(arg, markOf(fields, rawPath));
      const b = prevValue === undefined ? a : numType(prevValue, prevMark);
      const result = (before.container as Record<string | number, unknown>)[before.key] as number;
      let t: NumType | undefined;
      if (a === 'double' || b === 'double') t = Number.isInteger(result) ? 'double' : undefined;
      else if (a === 'long' || b === 'long' || result > 2147483647 || result < -2147483648) t = 'long';
      setMark(before.container, before.key, t);
      if (t) {
        flagHas(next);
        let c: unknown = next;
        for (let i = 0; i < parts.length - 1 && c; i++) flagHas((c = Array.isArray(c) ? c[Number(parts[i])] : (c as Doc)[parts[i]]));
      }
    }
  }
  return { doc: next, changed };
}

function sameId(a: unknown, b: unknown): boolean {
  return keyOf(a) === keyOf(b);
}

/**
 * Apply an update to (a copy of) `doc`. Returns the new document and whether it changed.
 * `condition` is the query filter, needed by the positional `$` operator.
 */
export function applyUpdate(
  doc: Doc,
  u: UpdateSpec,
  opts: { arrayFilters?: Doc[]; condition?: Doc; inserting?: boolean },
): { doc: Doc; changed: boolean } {
  let next: Doc;
  if (Array.isArray(u)) {
    try {
      const out = runPipeline(u, [cloneDoc(doc)]);
      next = out[0] ?? {};
    } catch (e) {
      throw mapMingoError(e);
    }
    if (doc._id !== undefined && next._id === undefined) next = { _id: doc._id, ...next };
  } else if (!isOperatorUpdate(u)) {
    next = { ...cloneDoc(u as Doc) };
    if (next._id === undefined && doc._id !== undefined) next = { _id: doc._id, ...next };
  } else {
    const r = applyOperators(doc, u, opts);
    if (!r.changed) return { doc, changed: false };
    next = r.doc;
  }
  if (doc._id !== undefined && !sameId(doc._id, next._id)) {
    throw new MongoServerError(66, "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
  next = idFirst(next);
  checkSize(next);
  if (!Array.isArray(u) && isOperatorUpdate(u)) return { doc: next, changed: true };
  const changed = !Buffer.from(BSON.serialize(doc)).equals(BSON.serialize(next));
  return { doc: next, changed };
}

/** The equality part of a filter, as the seed document of an upsert. */
export function seedFromFilter(filter: Doc, out: Doc = {}): Doc {
  for (const k of Object.keys(filter)) {
    const v = filter[k];
    if (k === '$and' && Array.isArray(v)) {
      for (const sub of v) if (isPlainObject(sub)) seedFromFilter(sub, out);
      continue;
    }
    if (k.startsWith('$')) continue;
    if (isPlainObject(v) && Object.keys(v).some((x) => x.startsWith('$'))) {
      if ('$eq' in v) setPath(out, k, cloneDoc(v.$eq));
      else if (Array.isArray(v.$in) && v.$in.length === 1) setPath(out, k, cloneDoc(v.$in[0]));
      continue;
    }
    setPath(out, k, cloneDoc(v));
  }
  return out;
}

/** Build the document an upsert inserts. */
export function upsertDoc(filter: Doc, u: UpdateSpec, arrayFilters?: Doc[]): Doc {
  const seed = seedFromFilter(filter);
  let doc: Doc;
  if (!Array.isArray(u) && !isOperatorUpdate(u)) {
    doc = cloneDoc(u);
    if (doc._id === undefined && seed._id !== undefined) doc = { _id: seed._id, ...doc };
  } else {
    doc = applyUpdate(seed, u, { arrayFilters, inserting: true }).doc;
  }
  if (doc._id === undefined) doc = { _id: new ObjectId(), ...doc };
  return idFirst(doc);
}
