/**
 * Update application on top of mingo's updater: $setOnInsert emulation, replacement and pipeline
 * updates, `_id` immutability, and upsert seed documents built from equality filters.
 */
import { BSON, Decimal128, Long, ObjectId } from 'bson';
import { Aggregator } from 'mingo';
import type * as UpdaterModule from 'mingo/types/updater';
import { mapMingoError, MongoServerError } from './errors';
import { refuseUnsupported } from './query';
import { cloneDoc, Doc, idFirst, isPlainObject, keyOf, setPath } from './values';

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
      const out = new Aggregator(u).run([cloneDoc(doc)]) as Doc[];
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
