/**
 * Update application on top of mingo's updater: $setOnInsert emulation, replacement and pipeline
 * updates, `_id` immutability, and upsert seed documents built from equality filters.
 */
import { BSON, Decimal128, Long, ObjectId } from 'bson';
import type * as UpdaterModule from 'mingo/types/updater';
import { mapMingoError, MongoServerError } from './errors';
import { refuseUnsupported, runPipeline } from './query';
import { cloneDoc, Doc, idFirst, isPlainObject, keyOf, renderValue, setPath } from './values';

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
    const mod: Doc = { ...u };
    const soi = mod.$setOnInsert as Doc | undefined;
    delete mod.$setOnInsert;
    if (opts.inserting && soi && Object.keys(soi).length) {
      const set = { ...((mod.$set as Doc) ?? {}) };
      for (const k of Object.keys(soi)) {
        if (k in set) throw new MongoServerError(40, `Updating the path '${k}' would create a conflict at '${k}'`);
        set[k] = soi[k];
      }
      mod.$set = set;
    }
    for (const k of Object.keys(mod)) if (isPlainObject(mod[k]) && Object.keys(mod[k] as Doc).length === 0) delete mod[k];
    if (Object.keys(mod).length === 0) return { doc, changed: false };
    checkOperatorTargets(doc, mod);
    next = cloneDoc(doc);
    let paths: string[];
    try {
      paths = mingoUpdate(next, mod as never, opts.arrayFilters, opts.inserting ? undefined : opts.condition, { cloneMode: 'copy' });
    } catch (e) {
      throw mapMingoError(e);
    }
    if (paths.length === 0) return { doc, changed: false };
  }
  if (doc._id !== undefined && !sameId(doc._id, next._id)) {
    throw new MongoServerError(66, "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
  next = idFirst(next);
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
