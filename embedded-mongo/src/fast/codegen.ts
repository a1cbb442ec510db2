/**
 * Generated inner loops for the hottest parts of the fast path. V8 keeps type feedback per
 * function: closures shared by every pipeline see every field name and document shape there is,
 * and their property loads go megamorphic. A loop generated for one compiled stage reads its own
 * fields with constant names and stays monomorphic.
 *
 * Only structure goes into generated source: field names (as JSON string literals, which are
 * valid JavaScript string literals), output field names likewise, and indexes. Literal values of
 * the pipeline never do; they reach the code through closures and the run's slot values.
 */
import { Shape } from './shape';
import { bail, compareRanked, isKeyScalar, objectKey, rankOf, ScalarMap } from './runtime';

const protoKeys = new Set(Object.getOwnPropertyNames(Object.prototype));

/** The field of a `$field` path with one part (no dots), or null. */
export function simpleField(node: Shape): string | null {
  if (typeof node !== 'string' || !node.startsWith('$') || node.startsWith('$$')) return null;
  const f = node.slice(1);
  if (f === '' || f.includes('.') || protoKeys.has(f)) return null;
  return f;
}

/** Code reading a value: a direct property load, or a call of a compiled expression `E[j]`. */
export type ValueCode = { field: string } | { expr: number };

export function valueCode(v: ValueCode): string {
  return 'field' in v ? `d[${JSON.stringify(v.field)}]` : `E[${v.expr}](d)`;
}

export type AccKind = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'push' | 'addToSet' | 'first' | 'last';

/** One accumulator's per-document step, on `A` (the group's states). */
function accStep(kind: AccKind, i: number, val: string | null): string {
  const s = `A[${i}]`;
  switch (kind) {
    case 'count':
      return `${s}++;`;
    case 'sum':
      return `{ const v = ${val}; if (typeof v === 'number') { if (v !== v) bail(); ${s} += v; } }`;
    case 'avg':
      return `{ const v = ${val}; if (typeof v === 'number') { if (v !== v) bail(); const st = ${s}; st.s += v; st.n++; } }`;
    case 'min':
    case 'max':
      return (
        `{ const v = ${val}; if (v !== null && v !== undefined) { const r = rankOf(v); if (r < 0) bail(); const st = ${s}; ` +
        `if (st.r < 0 || compareRanked(v, r, st.v, st.r) ${kind === 'min' ? '< 0' : '>= 0'}) { st.v = v; st.r = r; } } }`
      );
    case 'push':
      return `{ const v = ${val}; if (v !== undefined) ${s}.push(v); }`;
    case 'addToSet':
      return `{ const v = ${val}; if (v === undefined || !isKeyScalar(v)) bail(); const st = ${s}; if (st.seen.get(v) === undefined) { st.seen.set(v, true); st.arr.push(v); } }`;
    case 'first':
      return `if (${s} === null) ${s} = d;`;
    case 'last':
      return `${s} = d;`;
  }
}

const HELPERS = { bail, compareRanked, isKeyScalar, objectKey, rankOf, ScalarMap };

export interface GroupPushSpec {
  /** One value for a plain `_id`; named parts for a compound `_id` object. */
  key: { single: ValueCode } | { parts: { name: string; value: ValueCode }[] };
  accs: { kind: AccKind; value: ValueCode | null }[];
}

export type MakePush = (root: ScalarMap<unknown>, groups: unknown[], newGroup: (id: unknown) => { acc: unknown[] }) => (d: Record<string, unknown>) => void;

/** Document-valued group keys of one run (see objectKey). */
const objectKeyState = () => ({ objs: new Map<string, unknown>(), orders: new Map<string, string>() });

/** A factory of `push(doc)` for one compiled `$group` (E: its compiled expressions). */
export function genGroupPush(spec: GroupPushSpec, E: unknown[]): MakePush {
  const lines: string[] = [];
  if ('single' in spec.key) {
    lines.push(`let k = ${valueCode(spec.key.single)};`);
    lines.push(`if (k === undefined) k = null;`);
    lines.push(`let g;`);
    lines.push(`if (isKeyScalar(k)) { g = root.get(k); if (g === undefined) { g = newGroup(k); root.set(k, g); groups.push(g); } }`);
    lines.push(`else { const ks = objectKey(k, orders); g = objs.get(ks); if (g === undefined) { g = newGroup(k); objs.set(ks, g); groups.push(g); } }`);
  } else {
    const parts = spec.key.parts;
    parts.forEach((p, i) => lines.push(`const k${i} = ${valueCode(p.value)}; if (!isKeyScalar(k${i})) bail();`));
    lines.push(`let m = root;`);
    for (let i = 0; i < parts.length - 1; i++) {
      lines.push(`{ let nx = m.get(k${i}); if (nx === undefined) { nx = new ScalarMap(); m.set(k${i}, nx); } m = nx; }`);
    }
    const last = parts.length - 1;
    const id = parts.map((p, i) => `if (k${i} !== undefined) id[${JSON.stringify(p.name)}] = k${i};`).join(' ');
    lines.push(`let g = m.get(k${last});`);
    lines.push(`if (g === undefined) { const id = {}; ${id} g = newGroup(id); m.set(k${last}, g); groups.push(g); }`);
  }
  lines.push('const A = g.acc;');
  spec.accs.forEach((a, i) => lines.push(accStep(a.kind, i, a.value ? valueCode(a.value) : null)));
  const src =
    `'use strict';\nconst { bail, compareRanked, isKeyScalar, objectKey, rankOf, ScalarMap } = H;\n` +
    `return function makePush(root, groups, newGroup) {\n  const { objs, orders } = S();\n  return function push(d) {\n    ${lines.join('\n    ')}\n  };\n};`;
  return new Function('E', 'H', 'S', src)(E, HELPERS, objectKeyState) as MakePush;
}

/** A fresh copy (own type feedback) of the loops feeding a pipeline from its collection. */
export interface Feeders {
  scan(docs: Map<number, Record<string, unknown>>, test: ((d: Record<string, unknown>) => boolean) | null, sink: { push(d: Record<string, unknown>): void }): void;
  rids(byRid: (Record<string, unknown> | undefined)[], rids: Float64Array, test: (d: Record<string, unknown>) => boolean, sink: { push(d: Record<string, unknown>): void }): void;
}

const FEEDERS_SRC = `'use strict';
return {
  scan(docs, test, sink) {
    if (test === null) { for (const d of docs.values()) sink.push(d); return; }
    for (const d of docs.values()) if (test(d)) sink.push(d);
  },
  rids(byRid, rids, test, sink) {
    for (let i = 0; i < rids.length; i++) { const d = byRid[rids[i]]; if (test(d)) sink.push(d); }
  },
};`;

export function makeFeeders(): Feeders {
  return new Function(FEEDERS_SRC)() as Feeders;
}

// ---- filters ---------------------------------------------------------------------------------

/** One operator test of a generated filter on value `v` (never an array there). */
export interface OpTest {
  op: '$eq' | '$ne' | '$gt' | '$gte' | '$lt' | '$lte' | '$in' | '$nin';
  /** literal type: s n b d o (a slot), z (null), in (a prepared membership test `IN[j]`) */
  tag: 's' | 'n' | 'b' | 'd' | 'o' | 'z' | 'in';
  /** index into K (the run's prepared literal) or IN */
  j: number;
}

export interface FieldTest {
  field: string;
  exists: boolean | null;
  ops: OpTest[];
}

const RANGE_OP: Record<string, string> = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' };

function opCode(t: OpTest): string {
  const k = `K[${t.j}]`;
  if (t.tag === 'in') return `IN[${t.j}](v)`;
  if (t.op === '$eq' || t.op === '$ne') {
    switch (t.tag) {
      case 's':
        return `(typeof v === 'string' ? (v === ${k} ? 1 : 0) : mis(v))`;
      case 'n':
        return `(typeof v === 'number' ? (v !== v || ${k} !== ${k} ? 2 : v === ${k} ? 1 : 0) : mis(v))`;
      case 'b':
        return `(typeof v === 'boolean' ? (v === ${k} ? 1 : 0) : mis(v))`;
      case 'd':
        return `(v instanceof Date ? (v.getTime() === ${k} ? 1 : 0) : mis(v))`;
      case 'o':
        return `(v instanceof ObjectId ? (v.equals(${k}) ? 1 : 0) : mis(v))`;
      case 'z':
        return `(v === null || v === undefined ? 1 : nullMis(v))`;
    }
  }
  const op = RANGE_OP[t.op];
  switch (t.tag) {
    case 'n':
      return `(typeof v === 'number' ? (v !== v ? 2 : v ${op} ${k} ? 1 : 0) : mis(v))`;
    case 's':
      return `(typeof v === 'string' ? (v ${op} ${k} ? 1 : 0) : mis(v))`;
    case 'd':
      return `(v instanceof Date ? (v.getTime() ${op} ${k} ? 1 : 0) : mis(v))`;
  }
  throw new Error(`no code for ${t.op} ${t.tag}`);
}

export type GenTest = (d: Record<string, unknown>) => boolean;

/**
 * A conjunction of conditions on top-level fields as one generated test. Documents it is unsure
 * of (an array value, NaN, a BSON value the fast path does not compare) go to `slow(d)`.
 */
export function genFilter(
  fields: FieldTest[],
  K: unknown[],
  IN: unknown[],
  slow: (d: Record<string, unknown>) => boolean,
  helpers: { mis: unknown; nullMis: unknown; ObjectId: unknown },
): GenTest {
  const lines: string[] = ['let r = 1, v, x;'];
  for (const f of fields) {
    lines.push(`v = d[${JSON.stringify(f.field)}];`);
    if (f.exists !== null) lines.push(`if ((v !== undefined) !== ${f.exists}) return false;`);
    if (f.ops.length === 0) continue;
    const body: string[] = [];
    for (const t of f.ops) {
      body.push(`x = ${opCode(t)};`);
      if (t.op === '$ne' || t.op === '$nin') body.push('if (x !== 2) x = 1 - x;');
      body.push('if (x === 0) return false; if (x === 2) r = 2;');
    }
    lines.push(`if (Array.isArray(v)) r = 2; else { ${body.join(' ')} }`);
  }
  lines.push('return r === 1 ? true : slow(d);');
  const src = `'use strict';\nconst { mis, nullMis, ObjectId } = H;\nreturn function test(d) {\n  ${lines.join('\n  ')}\n};`;
  return new Function('K', 'IN', 'slow', 'H', src)(K, IN, slow, helpers) as GenTest;
}
