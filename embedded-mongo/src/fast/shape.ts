/**
 * Pipeline "shapes" for the aggregation fast path: a pipeline with its literal values taken out.
 *
 * `shapeOf(pipeline)` returns a tree in which every literal leaf (a string not starting with `$`,
 * a number, a boolean, a Date, an ObjectId, any other BSON value, or an array made only of such
 * leaves, e.g. the list of a `$in`) is replaced by a `Param` slot, plus the values of the slots
 * and a string key. Two pipelines with the same key differ only in the values of their slots, so
 * the closures compiled for one serve the other: they read the slot values at run time.
 *
 * The key records the type of each slot (and, for arrays, the set of element types), so a
 * compiled pipeline never meets a slot value of another type. When the compiler needs a slot's
 * actual value to decide what to compile (a `$project` flag, a `$sort` direction, a `$limit`, a
 * date format...), it reads it through `Compiler.sval`, which records a guard: the compiled
 * variant is reused only for pipelines whose guarded slots hold the same values.
 */
import { ObjectId } from 'bson';
import { isPlainObject, keyOf } from '../values';

export class Param {
  constructor(
    readonly i: number,
    /** 's' string, 'n' number, 'b' boolean, 'd' Date, 'o' ObjectId, 'a[..]' array, 'x:Name' other */
    readonly tag: string,
  ) {}
}

export type Shape = unknown;

function scalarTag(v: unknown): string | null {
  switch (typeof v) {
    case 'string':
      return v.startsWith('$') ? null : 's';
    case 'number':
      return 'n';
    case 'boolean':
      return 'b';
    case 'bigint':
      return 'x:bigint';
  }
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return 'd';
  if (v instanceof ObjectId) return 'o';
  if (Array.isArray(v) || isPlainObject(v)) return null;
  return 'x:' + ((v as object).constructor?.name ?? 'object');
}

/** Tag of an array that is one literal leaf (no `$` strings, objects or nested arrays), or null. */
function arrayTag(a: unknown[]): string | null {
  const tags = new Set<string>();
  for (const x of a) {
    if (x === null) {
      tags.add('z');
      continue;
    }
    const t = scalarTag(x);
    if (t === null) return null;
    tags.add(t);
  }
  return 'a[' + [...tags].sort().join(',') + ']';
}

export interface Shaped {
  node: Shape;
  key: string;
  params: unknown[];
}

export function shapeOf(v: unknown): Shaped {
  const params: unknown[] = [];
  const parts: string[] = [];
  const walk = (x: unknown, depth: number): Shape => {
    if (depth > 100) throw new Error('pipeline too deep for the fast path');
    if (x === null) {
      parts.push('null');
      return null;
    }
    if (x === undefined) {
      parts.push('undef');
      return undefined;
    }
    if (Array.isArray(x)) {
      const at = x.length > 0 ? arrayTag(x) : null;
      if (at !== null) {
        const p = new Param(params.length, at);
        params.push(x);
        parts.push('?' + at);
        return p;
      }
      parts.push('[');
      const out = x.map((el) => {
        const r = walk(el, depth + 1);
        parts.push(',');
        return r;
      });
      parts.push(']');
      return out;
    }
    if (isPlainObject(x)) {
      parts.push('{');
      const out: Record<string, Shape> = {};
      for (const k of Object.keys(x)) {
        parts.push(JSON.stringify(k), ':');
        out[k] = walk(x[k], depth + 1);
        parts.push(',');
      }
      parts.push('}');
      return out;
    }
    const t = scalarTag(x);
    if (t === null) {
      // a `$`-prefixed string: a field path or variable, part of the shape
      parts.push(JSON.stringify(x));
      return x;
    }
    const p = new Param(params.length, t);
    params.push(x);
    parts.push('?' + t);
    return p;
  };
  const node = walk(v, 0);
  return { node, key: parts.join(''), params };
}

/** The concrete value of a shape under the given slot values. */
export function materialize(node: Shape, P: readonly unknown[]): unknown {
  if (node instanceof Param) return P[node.i];
  if (Array.isArray(node)) return node.map((n) => materialize(n, P));
  if (isPlainObject(node)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(node)) out[k] = materialize(node[k], P);
    return out;
  }
  return node;
}

/** Guard value of a slot (compared on cache lookups). */
export function guardKey(v: unknown): string {
  return typeof v === 'number' && Number.isNaN(v) ? 'nNaN' : keyOf(v) + (typeof v === 'number' && Object.is(v, -0) ? '-' : '');
}
