/**
 * `$match` filters compiled to three-valued predicates: 1 (matches), 0 (does not), 2 (not sure).
 *
 * Compiled: field equality with a string / number / boolean / null / Date / ObjectId, `$eq`,
 * `$ne`, `$in`, `$nin` (lists of such values), `$gt $gte $lt $lte` with a number, string or Date
 * bound (type-bracketed like MongoDB), `$exists`, `$and $or $nor`, `$expr` (see expr.ts) and
 * `$comment`. A document whose path crosses or ends in an array, or holds a value the fast path
 * does not compare, gives 2, and that one document is tested by mingo (with the engine's fixes),
 * so the result is always the mingo path's. Filters with other operators are not compiled.
 */
import { ObjectId } from 'bson';
import { isPlainObject } from '../values';
import type { Doc } from '../values';
import { Compiler } from './compiler';
import { compileExpr } from './expr';
import { FieldTest, genFilter, OpTest } from './codegen';
import { Bail, matchGetter, THROUGH_ARRAY, truthy } from './runtime';
import { Param, Shape } from './shape';

/** 0 = no, 1 = yes, 2 = unknown */
export type Tri = 0 | 1 | 2;
export type Pred = (d: Doc) => Tri;

const ALWAYS: Pred = () => 1;

function and(ps: Pred[]): Pred {
  if (ps.length === 0) return ALWAYS;
  if (ps.length === 1) return ps[0];
  if (ps.length === 2) {
    const [a, b] = ps;
    return (d) => {
      const x = a(d);
      if (x === 0) return 0;
      const y = b(d);
      return y === 0 ? 0 : x === 2 || y === 2 ? 2 : 1;
    };
  }
  return (d) => {
    let r: Tri = 1;
    for (let i = 0; i < ps.length; i++) {
      const x = ps[i](d);
      if (x === 0) return 0;
      if (x === 2) r = 2;
    }
    return r;
  };
}

function or(ps: Pred[]): Pred {
  return (d) => {
    let r: Tri = 0;
    for (let i = 0; i < ps.length; i++) {
      const x = ps[i](d);
      if (x === 1) return 1;
      if (x === 2) r = 2;
    }
    return r;
  };
}

function not(p: Pred): Pred {
  return (d) => {
    const x = p(d);
    return x === 2 ? 2 : x === 1 ? 0 : 1;
  };
}

/** Value tests on one (non-array) value: 0/1, or 2 when the value is of a type not handled. */
type VTest = (v: unknown) => Tri;

/** `{a: null}` against a non-array value that is not null/missing. */
function nullMismatch(v: unknown): Tri {
  return v instanceof Date || v instanceof ObjectId || typeof v !== 'object' ? 0 : plainOrOther(v);
}

function plainOrOther(v: unknown): Tri {
  // a document never equals / compares with a scalar; other BSON values are left to mingo
  return isPlainObject(v) ? 0 : 2;
}

function eqTest(cx: Compiler, node: Shape): VTest | null {
  if (node === null) return (v) => (v === null || v === undefined ? 1 : nullMismatch(v));
  if (!(node instanceof Param)) return null;
  const i = node.i;
  switch (node.tag) {
    case 's': {
      let x = '';
      cx.prepare((P) => {
        x = P[i] as string;
      });
      return (v) => (typeof v === 'string' ? (v === x ? 1 : 0) : scalarMismatch(v));
    }
    case 'n': {
      let x = 0;
      cx.prepare((P) => {
        x = P[i] as number;
      });
      return (v) => (typeof v === 'number' ? (v !== v || x !== x ? 2 : v === x ? 1 : 0) : scalarMismatch(v));
    }
    case 'b': {
      let x = false;
      cx.prepare((P) => {
        x = P[i] as boolean;
      });
      return (v) => (typeof v === 'boolean' ? (v === x ? 1 : 0) : scalarMismatch(v));
    }
    case 'd': {
      let t = 0;
      cx.prepare((P) => {
        t = (P[i] as Date).getTime();
      });
      return (v) => (v instanceof Date ? (v.getTime() === t ? 1 : 0) : scalarMismatch(v));
    }
    case 'o': {
      let x: ObjectId;
      cx.prepare((P) => {
        x = P[i] as ObjectId;
      });
      return (v) => (v instanceof ObjectId ? (v.equals(x) ? 1 : 0) : scalarMismatch(v));
    }
    default:
      return null;
  }
}

/** A value of another type than the literal: not equal, unless it is an exotic BSON value. */
function scalarMismatch(v: unknown): Tri {
  if (v === null || v === undefined) return 0;
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
      return 0;
  }
  if (v instanceof Date || v instanceof ObjectId) return 0;
  return plainOrOther(v);
}

function inTest(cx: Compiler, node: Shape): VTest | null {
  if (!(node instanceof Param) || !node.tag.startsWith('a[')) return Array.isArray(node) && node.length === 0 ? () => 0 : null;
  const tags = node.tag.slice(2, -1).split(',');
  if (!tags.every((t) => ['s', 'n', 'b', 'z', 'd', 'o'].includes(t))) return null;
  const i = node.i;
  let prim = new Set<unknown>();
  let nul = false;
  let times: Set<number> | null = null;
  let oids: Set<string> | null = null;
  cx.prepare((P) => {
    prim = new Set();
    nul = false;
    times = null;
    oids = null;
    for (const x of P[i] as unknown[]) {
      if (x === null) nul = true;
      else if (x instanceof Date) (times ??= new Set()).add(x.getTime());
      else if (x instanceof ObjectId) (oids ??= new Set()).add(x.toHexString());
      else if (typeof x === 'number' && x !== x) throw new Bail();
      else prim.add(x);
    }
  });
  return (v) => {
    if (v === null || v === undefined) return nul ? 1 : 0;
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return prim.has(v) ? 1 : 0;
      case 'number':
        return v !== v ? 2 : prim.has(v) ? 1 : 0;
    }
    if (v instanceof Date) return times !== null && times.has(v.getTime()) ? 1 : 0;
    if (v instanceof ObjectId) return oids !== null && oids.has(v.toHexString()) ? 1 : 0;
    return plainOrOther(v);
  };
}

function rangeTest(cx: Compiler, op: string, node: Shape): VTest | null {
  if (!(node instanceof Param) || !['s', 'n', 'd'].includes(node.tag)) return null;
  const i = node.i;
  const tag = node.tag;
  let x: number | string = 0;
  cx.prepare((P) => {
    const b = P[i];
    if (typeof b === 'number' && b !== b) throw new Bail();
    x = b instanceof Date ? b.getTime() : (b as number | string);
  });
  const test = op === '$gt' ? (c: number) => c > 0 : op === '$gte' ? (c: number) => c >= 0 : op === '$lt' ? (c: number) => c < 0 : (c: number) => c <= 0;
  const cmp = (a: number | string): Tri => (test(a < x ? -1 : a > x ? 1 : 0) ? 1 : 0);
  switch (tag) {
    case 'n':
      return (v) => (typeof v === 'number' ? (v !== v ? 2 : cmp(v)) : scalarMismatch(v));
    case 's':
      return (v) => (typeof v === 'string' ? cmp(v) : scalarMismatch(v));
    default:
      return (v) => (v instanceof Date ? cmp(v.getTime()) : scalarMismatch(v));
  }
}

function isOperatorObject(node: Shape): node is Record<string, Shape> {
  if (!isPlainObject(node)) return false;
  const ks = Object.keys(node);
  return ks.length > 0 && ks.every((k) => k.startsWith('$'));
}

/** Compile one field's condition (`{a: 5}` or `{a: {$gte: 1, $lt: 9}}`). */
function fieldPred(cx: Compiler, path: string, cond: Shape): Pred | null {
  if (path.startsWith('$') || path.split('.').some((p) => p === '')) return null;
  const get = matchGetter(path);
  const tests: { t: VTest; negate: boolean }[] = [];
  let exists: boolean | null = null;
  if (isOperatorObject(cond)) {
    for (const [op, arg] of Object.entries(cond)) {
      let t: VTest | null = null;
      let negate = false;
      switch (op) {
        case '$eq':
          t = eqTest(cx, arg);
          break;
        case '$ne':
          t = eqTest(cx, arg);
          negate = true;
          break;
        case '$in':
          t = inTest(cx, arg);
          break;
        case '$nin':
          t = inTest(cx, arg);
          negate = true;
          break;
        case '$gt':
        case '$gte':
        case '$lt':
        case '$lte':
          t = rangeTest(cx, op, arg);
          break;
        case '$exists': {
          const v = cx.sval(arg);
          if (typeof v !== 'boolean' && v !== 0 && v !== 1) return null;
          exists = !!v;
          continue;
        }
        default:
          return null;
      }
      if (!t) return null;
      tests.push({ t, negate });
    }
  } else {
    const t = eqTest(cx, cond);
    if (!t) return null;
    tests.push({ t, negate: false });
  }
  const ex = exists;
  return (d) => {
    const v = get(d);
    if (v === THROUGH_ARRAY) return 2;
    if (ex !== null && (v !== undefined) !== ex) return 0;
    if (tests.length === 0) return 1;
    if (Array.isArray(v)) return 2;
    let r: Tri = 1;
    for (let i = 0; i < tests.length; i++) {
      let x = tests[i].t(v);
      if (tests[i].negate && x !== 2) x = x === 1 ? 0 : 1;
      if (x === 0) return 0;
      if (x === 2) r = 2;
    }
    return r;
  };
}

/** Compile a filter; null when it uses something the fast path does not compile. */
export function compileFilter(cx: Compiler, node: Shape): Pred | null {
  if (!isPlainObject(node)) return null;
  const preds: Pred[] = [];
  for (const [k, v] of Object.entries(node)) {
    switch (k) {
      case '$and':
      case '$or':
      case '$nor': {
        if (!Array.isArray(v) || v.length === 0) return null;
        const subs: Pred[] = [];
        for (const sub of v) {
          const p = compileFilter(cx, sub);
          if (!p) return null;
          subs.push(p);
        }
        preds.push(k === '$and' ? and(subs) : k === '$or' ? or(subs) : not(or(subs)));
        break;
      }
      case '$expr': {
        const e = compileExpr(cx, v);
        if (!e) return null;
        preds.push((d) => {
          try {
            return truthy(e(d)) ? 1 : 0;
          } catch (err) {
            if (err instanceof Bail) return 2;
            throw err;
          }
        });
        break;
      }
      case '$comment':
        break;
      default: {
        if (k.startsWith('$')) return null;
        const p = fieldPred(cx, k, v);
        if (!p) return null;
        preds.push(p);
      }
    }
  }
  return and(preds);
}

const protoKeys = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * A generated test for the common filter shape: conditions on top-level fields (literal
 * equality, `$eq $ne $in $nin $gt $gte $lt $lte $exists`), possibly inside `$and`. Null for
 * anything else. `slow` answers the documents the generated code is unsure of.
 */
export function compileSimpleTest(cx: Compiler, node: Shape, slow: (d: Doc) => boolean): ((d: Doc) => boolean) | null {
  if (!isPlainObject(node)) return null;
  const fields: FieldTest[] = [];
  const K: unknown[] = [];
  const IN: VTest[] = [];
  const slot = (p: Param, conv: (v: unknown) => unknown): number => {
    const j = K.length;
    K.push(undefined);
    const i = p.i;
    cx.prepare((P) => {
      K[j] = conv(P[i]);
    });
    return j;
  };
  const same = (v: unknown) => v;
  const time = (v: unknown) => (v as Date).getTime();
  const collect = (obj: Record<string, Shape>): boolean => {
    for (const [k, v] of Object.entries(obj)) {
      if (k === '$comment') continue;
      if (k === '$and') {
        if (!Array.isArray(v) || v.length === 0) return false;
        for (const sub of v) if (!isPlainObject(sub) || !collect(sub)) return false;
        continue;
      }
      if (k === '' || k.startsWith('$') || k.includes('.') || protoKeys.has(k)) return false;
      const ft: FieldTest = { field: k, exists: null, ops: [] };
      const conds: [string, Shape][] = isOperatorObject(v) ? Object.entries(v) : [['$eq', v]];
      for (const [op, arg] of conds) {
        switch (op) {
          case '$exists': {
            const x = cx.sval(arg);
            if (typeof x !== 'boolean' && x !== 0 && x !== 1) return false;
            ft.exists = !!x;
            break;
          }
          case '$eq':
          case '$ne': {
            if (arg === null) ft.ops.push({ op, tag: 'z', j: 0 });
            else if (arg instanceof Param && ['s', 'n', 'b', 'd', 'o'].includes(arg.tag)) {
              ft.ops.push({ op, tag: arg.tag as OpTest['tag'], j: slot(arg, arg.tag === 'd' ? time : same) });
            } else return false;
            break;
          }
          case '$in':
          case '$nin': {
            const t = inTest(cx, arg);
            if (!t) return false;
            IN.push(t);
            ft.ops.push({ op, tag: 'in', j: IN.length - 1 });
            break;
          }
          case '$gt':
          case '$gte':
          case '$lt':
          case '$lte': {
            if (!(arg instanceof Param) || !['s', 'n', 'd'].includes(arg.tag)) return false;
            const conv = (x: unknown) => {
              if (typeof x === 'number' && x !== x) throw new Bail();
              return x instanceof Date ? x.getTime() : x;
            };
            ft.ops.push({ op, tag: arg.tag as OpTest['tag'], j: slot(arg, conv) });
            break;
          }
          default:
            return false;
        }
      }
      fields.push(ft);
    }
    return true;
  };
  if (!collect(node)) return null;
  return genFilter(fields, K, IN, slow as (d: Record<string, unknown>) => boolean, { mis: scalarMismatch, nullMis: nullMismatch, ObjectId });
}
