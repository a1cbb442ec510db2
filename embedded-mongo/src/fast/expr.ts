/**
 * Aggregation expressions compiled to closures `(doc) => value` (undefined = missing).
 *
 * Supported: literals and `$literal`, field paths (`$a.b`, `$$ROOT`, `$$CURRENT`), expression
 * objects and arrays, `$add $subtract $multiply $divide $abs $floor $ceil`, `$cond $ifNull`,
 * `$eq $ne $gt $gte $lt $lte $cmp`, `$and $or $not`, `$in`, `$size`, and `$dateToString` with
 * `%Y %m %d %H %M %S %L` and a fixed `±HH:MM` timezone. `compileExpr` returns null for anything
 * else (the stage then runs through mingo).
 *
 * At run time the closures throw BAIL where MongoDB and the engine's mingo path might answer
 * differently or where MongoDB raises an error (non-numeric arithmetic, division by zero, NaN
 * operands of operators that mingo rejects, missing compared with null, arrays or documents in
 * comparisons, an array met inside a field path...). The whole pipeline then runs through mingo.
 */
import { ObjectId } from 'bson';
import type { Doc } from '../values';
import { isPlainObject } from '../values';
import { Compiler, Const } from './compiler';
import { bail, compareRanked, exprGetter, isKeyScalar, rankOf, ScalarMap, scalarEquals, truthy } from './runtime';
import { Param, Shape } from './shape';

export type Expr = (d: Doc) => unknown;

const SIMPLE_TAGS = new Set(['s', 'n', 'b', 'd', 'o']);

function isNil(v: unknown): boolean {
  return v === null || v === undefined;
}

/** Operator arguments as shape nodes: a structural array, a literal array, or one operand. */
function argNodes(cx: Compiler, node: Shape): Shape[] {
  if (Array.isArray(node)) return node;
  if (node instanceof Param && node.tag.startsWith('a[')) return (cx.sval(node) as unknown[]).map((v) => new Const(v));
  return [node];
}

function constant(cx: Compiler, node: Param | Const): Expr | null {
  if (node instanceof Const) {
    const v = node.v;
    if (v !== null && typeof v === 'object' && !(v instanceof Date) && !(v instanceof ObjectId)) return null;
    return () => v;
  }
  if (!SIMPLE_TAGS.has(node.tag) && !node.tag.startsWith('a[')) return null;
  if (node.tag.startsWith('a[') && /x:/.test(node.tag)) return null;
  let v: unknown;
  const i = node.i;
  cx.prepare((P) => {
    v = P[i];
  });
  return () => v;
}

export function compileExpr(cx: Compiler, node: Shape): Expr | null {
  if (node instanceof Param || node instanceof Const) return constant(cx, node);
  if (node === null) return () => null;
  if (node === undefined) return null;
  if (typeof node === 'string') {
    if (node === '$$ROOT' || node === '$$CURRENT') return (d) => d;
    if (node.startsWith('$$ROOT.') || node.startsWith('$$CURRENT.')) {
      const path = node.slice(node.indexOf('.') + 1);
      return validPath(path) ? exprGetter(path) : null;
    }
    if (node.startsWith('$$')) return null;
    const path = node.slice(1);
    return validPath(path) ? exprGetter(path) : null;
  }
  if (Array.isArray(node)) {
    // array expression: elements evaluated, a missing one becomes null (MongoDB and mingo)
    const es: Expr[] = [];
    for (const n of node) {
      const e = compileExpr(cx, n);
      if (!e) return null;
      es.push(e);
    }
    return (d) => {
      const out = new Array(es.length);
      for (let i = 0; i < es.length; i++) out[i] = es[i](d) ?? null;
      return out;
    };
  }
  if (!isPlainObject(node)) return null;
  const keys = Object.keys(node);
  if (keys.length === 1 && keys[0].startsWith('$')) return compileOperator(cx, keys[0], node[keys[0]]);
  if (keys.some((k) => k.startsWith('$') || k.includes('.') || k === '')) return null;
  // expression object: fields evaluated in order, missing values left out
  const fields = keys.map((k) => [k, compileExpr(cx, node[k])] as const);
  if (fields.some(([, e]) => e === null)) return null;
  const ks = fields.map(([k]) => k);
  const es = fields.map(([, e]) => e!) as Expr[];
  return (d) => {
    const out: Doc = {};
    for (let i = 0; i < ks.length; i++) {
      const v = es[i](d);
      if (v !== undefined) out[ks[i]] = v;
    }
    return out;
  };
}

function validPath(path: string): boolean {
  return path.length > 0 && !path.startsWith('$') && path.split('.').every((p) => p.length > 0);
}

function compileArgs(cx: Compiler, node: Shape, min: number, max: number): Expr[] | null {
  const nodes = argNodes(cx, node);
  if (nodes.length < min || nodes.length > max) return null;
  const out: Expr[] = [];
  for (const n of nodes) {
    const e = compileExpr(cx, n);
    if (!e) return null;
    out.push(e);
  }
  return out;
}

type Cmp = (c: number) => boolean;
const COMPARISONS: Record<string, Cmp> = {
  $gt: (c) => c > 0,
  $gte: (c) => c >= 0,
  $lt: (c) => c < 0,
  $lte: (c) => c <= 0,
};

/** Compare for $gt/$lt/$cmp: ranked scalars only; missing vs null bails (mingo differs). */
function compare(a: unknown, b: unknown): number {
  const ra = rankOf(a);
  const rb = rankOf(b);
  if (ra < 0 || rb < 0) bail();
  if (ra + rb === 1) bail(); // missing vs null: MongoDB orders missing first, mingo ties them
  return compareRanked(a, ra, b, rb);
}

function equals(a: unknown, b: unknown): boolean {
  if (!isKeyScalar(a) || !isKeyScalar(b)) bail();
  if ((a === undefined && b === null) || (a === null && b === undefined)) bail();
  return scalarEquals(a, b);
}

function checkedNumber(v: unknown): number {
  if (typeof v !== 'number' || v !== v) bail();
  return v;
}

function compileOperator(cx: Compiler, op: string, arg: Shape): Expr | null {
  switch (op) {
    case '$literal': {
      if (arg instanceof Param) return constant(cx, arg);
      if (arg === null || typeof arg === 'string') return () => arg;
      if (isPlainObject(arg) && Object.keys(arg).length === 0) return () => ({});
      return null;
    }
    case '$add': {
      const es = compileArgs(cx, arg, 0, 64);
      if (!es) return null;
      return (d) => {
        let sum = 0;
        let date: Date | null = null;
        let nil = false;
        for (let i = 0; i < es.length; i++) {
          const v = es[i](d);
          if (typeof v === 'number') sum += v;
          else if (v === null || v === undefined) nil = true;
          else if (v instanceof Date && date === null) date = v;
          else bail();
        }
        if (nil) return null;
        if (date) {
          if (!Number.isSafeInteger(sum)) bail();
          return new Date(date.getTime() + sum);
        }
        return sum;
      };
    }
    case '$subtract': {
      const es = compileArgs(cx, arg, 2, 2);
      if (!es) return null;
      const [ea, eb] = es;
      return (d) => {
        const a = ea(d);
        const b = eb(d);
        const an = typeof a === 'number';
        const bn = typeof b === 'number';
        if (!(an || isNil(a) || a instanceof Date) || !(bn || isNil(b) || b instanceof Date)) bail();
        if (isNil(a) || isNil(b)) return null;
        if (an && bn) return (a as number) - (b as number);
        if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
        if (a instanceof Date && bn && Number.isSafeInteger(b)) return new Date(a.getTime() - (b as number));
        return bail();
      };
    }
    case '$multiply': {
      const es = compileArgs(cx, arg, 0, 64);
      if (!es) return null;
      return (d) => {
        let prod = 1;
        let nil = false;
        for (let i = 0; i < es.length; i++) {
          const v = es[i](d);
          if (v === null || v === undefined) nil = true;
          else prod *= checkedNumber(v);
        }
        return nil ? null : prod;
      };
    }
    case '$divide': {
      const es = compileArgs(cx, arg, 2, 2);
      if (!es) return null;
      const [ea, eb] = es;
      return (d) => {
        const a = ea(d);
        const b = eb(d);
        if (!(isNil(a) || typeof a === 'number') || !(isNil(b) || typeof b === 'number')) bail();
        if (isNil(a) || isNil(b)) return null;
        const x = checkedNumber(a);
        const y = checkedNumber(b);
        if (y === 0) bail();
        return x / y;
      };
    }
    case '$abs':
    case '$floor':
    case '$ceil': {
      const es = compileArgs(cx, arg, 1, 1);
      if (!es) return null;
      const [e] = es;
      const fn = op === '$abs' ? Math.abs : op === '$floor' ? Math.floor : Math.ceil;
      return (d) => {
        const v = e(d);
        if (isNil(v)) return null;
        return fn(checkedNumber(v));
      };
    }
    case '$cond': {
      let nodes: Shape[];
      if (isPlainObject(arg)) {
        const ks = Object.keys(arg);
        if (ks.length !== 3 || !('if' in arg) || !('then' in arg) || !('else' in arg)) return null;
        nodes = [arg.if, arg.then, arg.else];
      } else {
        nodes = argNodes(cx, arg);
        if (nodes.length !== 3) return null;
      }
      const es = nodes.map((n) => compileExpr(cx, n));
      if (es.some((e) => e === null)) return null;
      const [c, t, f] = es as Expr[];
      return (d) => (truthy(c(d)) ? t(d) : f(d));
    }
    case '$ifNull': {
      const es = compileArgs(cx, arg, 2, 16);
      if (!es) return null;
      const last = es.length - 1;
      return (d) => {
        for (let i = 0; i < last; i++) {
          const v = es[i](d);
          if (!isNil(v)) return v;
        }
        const r = es[last](d);
        if (r === undefined) bail();
        return r;
      };
    }
    case '$eq':
    case '$ne': {
      const es = compileArgs(cx, arg, 2, 2);
      if (!es) return null;
      const [ea, eb] = es;
      return op === '$eq' ? (d) => equals(ea(d), eb(d)) : (d) => !equals(ea(d), eb(d));
    }
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      const es = compileArgs(cx, arg, 2, 2);
      if (!es) return null;
      const [ea, eb] = es;
      const test = COMPARISONS[op];
      return (d) => test(compare(ea(d), eb(d)));
    }
    case '$cmp': {
      const es = compileArgs(cx, arg, 2, 2);
      if (!es) return null;
      const [ea, eb] = es;
      return (d) => {
        const c = compare(ea(d), eb(d));
        return c < 0 ? -1 : c > 0 ? 1 : 0;
      };
    }
    case '$and':
    case '$or': {
      const es = compileArgs(cx, arg, 0, 64);
      if (!es) return null;
      if (op === '$and') {
        return (d) => {
          for (let i = 0; i < es.length; i++) if (!truthy(es[i](d))) return false;
          return true;
        };
      }
      return (d) => {
        for (let i = 0; i < es.length; i++) if (truthy(es[i](d))) return true;
        return false;
      };
    }
    case '$not': {
      const es = compileArgs(cx, arg, 1, 1);
      if (!es) return null;
      const [e] = es;
      return (d) => !truthy(e(d));
    }
    case '$in': {
      if (!Array.isArray(arg) || arg.length !== 2) return null;
      const ex = compileExpr(cx, arg[0]);
      if (!ex) return null;
      const list = arg[1];
      if (list instanceof Param && list.tag.startsWith('a[')) {
        // literal list: a set built once per run
        const i = list.i;
        const set = cx.prepared((P) => {
          const m = new ScalarMap<true>();
          for (const v of P[i] as unknown[]) if (isKeyScalar(v)) m.set(v, true);
          return m;
        });
        return (d) => {
          const v = ex(d);
          if (!isKeyScalar(v)) bail();
          return v !== undefined && set.v.get(v) === true;
        };
      }
      const el = compileExpr(cx, list);
      if (!el) return null;
      return (d) => {
        const v = ex(d);
        const arr = el(d);
        if (!Array.isArray(arr) || !isKeyScalar(v)) bail();
        if (v === undefined) return false;
        for (const x of arr) if (isKeyScalar(x) && scalarEquals(v, x)) return true;
        return false;
      };
    }
    case '$size': {
      const es = compileArgs(cx, arg, 1, 1);
      if (!es) return null;
      const [e] = es;
      return (d) => {
        const v = e(d);
        if (!Array.isArray(v)) bail();
        return v.length;
      };
    }
    case '$dateToString':
      return compileDateToString(cx, arg);
    default:
      return null;
  }
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

function compileDateToString(cx: Compiler, arg: Shape): Expr | null {
  if (!isPlainObject(arg)) return null;
  const ks = Object.keys(arg);
  if (!ks.every((k) => k === 'date' || k === 'format' || k === 'timezone') || !('date' in arg) || !('format' in arg)) return null;
  const format = cx.sval(arg.format);
  if (typeof format !== 'string') return null;
  let offsetMin = 0;
  if ('timezone' in arg) {
    const tz = cx.sval(arg.timezone);
    const m = typeof tz === 'string' ? /^([+-])(\d{2}):(\d{2})$/.exec(tz) : null;
    if (!m || Number(m[2]) > 23 || Number(m[3]) > 59) return null;
    offsetMin = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  }
  // literal text and %Y %m %d %H %M %S %L only
  const pieces: (string | ((d: Date) => string))[] = [];
  for (let i = 0; i < format.length; i++) {
    const ch = format[i];
    if (ch !== '%') {
      if (typeof pieces[pieces.length - 1] === 'string') pieces[pieces.length - 1] += ch;
      else pieces.push(ch);
      continue;
    }
    const spec = format[++i];
    switch (spec) {
      case 'Y':
        pieces.push((d) => pad(d.getUTCFullYear(), 4));
        break;
      case 'm':
        pieces.push((d) => pad(d.getUTCMonth() + 1, 2));
        break;
      case 'd':
        pieces.push((d) => pad(d.getUTCDate(), 2));
        break;
      case 'H':
        pieces.push((d) => pad(d.getUTCHours(), 2));
        break;
      case 'M':
        pieces.push((d) => pad(d.getUTCMinutes(), 2));
        break;
      case 'S':
        pieces.push((d) => pad(d.getUTCSeconds(), 2));
        break;
      case 'L':
        pieces.push((d) => pad(d.getUTCMilliseconds(), 3));
        break;
      default:
        return null;
    }
  }
  const de = compileExpr(cx, arg.date);
  if (!de) return null;
  const shift = offsetMin * 60_000;
  return (doc) => {
    const v = de(doc);
    if (isNil(v)) return null;
    if (!(v instanceof Date)) return bail();
    const t = v.getTime();
    if (!Number.isFinite(t)) bail();
    const local = new Date(t + shift);
    const y = local.getUTCFullYear();
    if (y < 0 || y > 9999) bail();
    let s = '';
    for (const p of pieces) s += typeof p === 'string' ? p : p(local);
    return s;
  };
}
