/**
 * Pipeline stages compiled to closures. Each compiled stage makes, for every run, a sink that
 * takes documents one at a time and passes its output on to the next stage's sink, so a leading
 * `$match` feeds `$group` or `$count` without building an array in between. A pipeline compiles
 * stage by stage up to the first stage outside the supported subset; the stages from there on run
 * through mingo (with the engine's corrections) on the collected output of the compiled prefix.
 *
 * Supported: `$match` (filter.ts; documents the compiled filter is unsure of go to mingo one by
 * one), `$group` with `_id` any compiled expression (compound `_id` objects included) and
 * `$sum $avg $min $max $push $addToSet $first $last $count`, `$project` (inclusion, top-level
 * exclusion, computed fields, dotted inclusion), `$addFields`/`$set` (top-level fields), `$sort`
 * (stable; with a following `$limit` it keeps only the top documents), `$limit`, `$skip`,
 * `$count`, `$unwind` of a top-level field (string form), `$facet` of such sub-pipelines.
 *
 * No stage edits its input documents or arrays: stages build new arrays and new documents, and
 * share unchanged values with their input (the engine copies documents before any mingo stage
 * that edits in place).
 */
import { isPlainObject } from '../values';
import type { Doc } from '../values';
import { Compiler } from './compiler';
import { compileExpr, Expr } from './expr';
import { compileFilter, compileSimpleTest, Pred } from './filter';
import { AccKind, genGroupPush, GroupPushSpec, MakePush, simpleField, ValueCode } from './codegen';
import { bail, compareRanked, exprGetter, rankOf, ScalarMap } from './runtime';
import { Param, Shape } from './shape';

/** Receives a stage's input, one document at a time, then `end()`. */
export interface Sink {
  push(d: Doc): void;
  end(): void;
}

/** A compiled stage: makes, for one run, the sink that feeds `next`. */
export type Stage = (next: Sink) => Sink;

/** A sink that keeps what it receives. */
export class Collector implements Sink {
  readonly docs: Doc[] = [];
  push(d: Doc): void {
    this.docs.push(d);
  }
  end(): void {}
}

/** Chain compiled stages in front of `last`. */
export function chain(stages: Stage[], last: Sink): Sink {
  let sink = last;
  for (let i = stages.length - 1; i >= 0; i--) sink = stages[i](sink);
  return sink;
}

/** Map each document through `fn` (never the same object back for another). */
function mapStage(fn: (d: Doc) => Doc): Stage {
  return (next) => ({
    push: (d) => next.push(fn(d)),
    end: () => next.end(),
  });
}

export type { Host } from './compiler';

export interface CompiledPipeline {
  /** Compiled prefix. */
  stages: Stage[];
  /** Index of the first stage left to mingo (= number of shape stages when all compiled). */
  restFrom: number;
  length: number;
}

function stageName(node: Shape): string | null {
  if (!isPlainObject(node)) return null;
  const ks = Object.keys(node);
  return ks.length === 1 ? ks[0] : null;
}

/** Compile the longest supported prefix of a pipeline (shape nodes). */
export function compileStages(cx: Compiler, nodes: Shape[], inFacet: boolean, from = 0): CompiledPipeline {
  const stages: Stage[] = [];
  let i = from;
  for (; i < nodes.length; i++) {
    const name = stageName(nodes[i]);
    if (!name) break;
    const spec = (nodes[i] as Record<string, Shape>)[name];
    let st: Stage | null = null;
    switch (name) {
      case '$match':
        st = compileMatch(cx, spec);
        break;
      case '$group':
        st = compileGroup(cx, spec);
        break;
      case '$project':
        st = compileProject(cx, spec);
        break;
      case '$addFields':
      case '$set':
        st = compileAddFields(cx, spec);
        break;
      case '$sort': {
        // $sort + $limit: keep only the top documents
        const next = nodes[i + 1];
        const limit = stageName(next) === '$limit' ? positiveInt(cx, (next as Record<string, Shape>).$limit) : null;
        st = compileSort(cx, spec, limit);
        if (st && limit !== null) i++;
        break;
      }
      case '$limit': {
        const n = positiveInt(cx, spec);
        if (n !== null) {
          st = (next) => {
            let seen = 0;
            return {
              push: (d) => {
                if (seen++ < n) next.push(d);
              },
              end: () => next.end(),
            };
          };
        }
        break;
      }
      case '$skip': {
        const n = cx.sval(spec);
        if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) {
          st = (next) => {
            let seen = 0;
            return {
              push: (d) => {
                if (seen++ >= n) next.push(d);
              },
              end: () => next.end(),
            };
          };
        }
        break;
      }
      case '$count':
        st = compileCount(cx, spec);
        break;
      case '$unwind':
        st = compileUnwind(spec);
        break;
      case '$facet':
        st = inFacet ? null : compileFacet(cx, spec);
        break;
    }
    if (!st) break;
    stages.push(st);
  }
  return { stages, restFrom: i, length: nodes.length };
}

function positiveInt(cx: Compiler, node: Shape): number | null {
  if (!(node instanceof Param) || node.tag !== 'n') return null;
  const n = cx.sval(node);
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : null;
}

// ---- $match ----------------------------------------------------------------------------------

/** A filter test for whole documents: the compiled filter, mingo for documents it is unsure of. */
export function matcher(cx: Compiler, spec: Shape): ((d: Doc) => boolean) | null {
  if (!isPlainObject(spec)) return null;
  const concrete = cx.lazyConcrete(spec);
  const frame = cx.frame;
  let run = -1;
  let mingo: ((d: Doc) => boolean) | null = null;
  const slow = (d: Doc): boolean => {
    if (run !== frame.run || !mingo) {
      mingo = frame.host.mingoTest(concrete());
      run = frame.run;
    }
    return mingo(d);
  };
  const simple = compileSimpleTest(cx, spec, slow);
  if (simple) return simple;
  const pred: Pred | null = compileFilter(cx, spec);
  if (!pred) return null;
  return (d) => {
    const r = pred(d);
    return r !== 2 ? r === 1 : slow(d);
  };
}

function compileMatch(cx: Compiler, spec: Shape): Stage | null {
  const test = matcher(cx, spec);
  if (!test) return null;
  return (next) => ({
    push: (d) => {
      if (test(d)) next.push(d);
    },
    end: () => next.end(),
  });
}

// ---- $group ----------------------------------------------------------------------------------

interface Accumulator {
  kind: AccKind;
  /** the argument (null for counts) */
  value: ValueCode | null;
  init: () => unknown;
  final: (s: unknown) => unknown;
}

/** How generated code reads a value: a plain field directly, anything else through `E`. */
function valueOf(cx: Compiler, node: Shape, E: Expr[]): ValueCode | null {
  const f = simpleField(node);
  if (f !== null) return { field: f };
  const e = compileExpr(cx, node);
  if (!e) return null;
  E.push(e);
  return { expr: E.length - 1 };
}

function compileAccumulator(cx: Compiler, node: Shape, E: Expr[]): Accumulator | null {
  if (!isPlainObject(node)) return null;
  const ks = Object.keys(node);
  if (ks.length !== 1) return null;
  const op = ks[0];
  const arg = node[op];
  const same = (s: unknown) => s;
  if (op === '$count') {
    if (!isPlainObject(arg) || Object.keys(arg).length !== 0) return null;
    return { kind: 'count', value: null, init: () => 0, final: same };
  }
  if (op === '$sum' && arg instanceof Param && arg.tag === 'n') {
    // constant: count x c (mingo's arithmetic; exact for integers, which is all we take)
    const i = arg.i;
    let c = 0;
    cx.prepare((P) => {
      c = P[i] as number;
      if (!Number.isSafeInteger(c) || Object.is(c, -0)) bail();
    });
    return { kind: 'count', value: null, init: () => 0, final: (s) => (s as number) * c };
  }
  if (Array.isArray(arg)) return null; // MongoDB: accumulators are unary in $group
  const value = valueOf(cx, arg, E);
  if (!value) return null;
  // $first / $last keep the document and evaluate at the end
  const read = (d: Doc): unknown => ('field' in value ? d[value.field] : E[value.expr](d));
  switch (op) {
    case '$sum':
      return { kind: 'sum', value, init: () => 0, final: same };
    case '$avg':
      return {
        kind: 'avg',
        value,
        init: () => ({ s: 0, n: 0 }),
        final: (s) => {
          const st = s as { s: number; n: number };
          return st.n === 0 ? null : st.s / st.n;
        },
      };
    case '$min':
    case '$max':
      return { kind: op === '$min' ? 'min' : 'max', value, init: () => ({ v: null, r: -1 }), final: (s) => (s as { v: unknown }).v };
    case '$push':
      return { kind: 'push', value, init: () => [], final: same };
    case '$addToSet':
      // missing: MongoDB skips it, mingo adds null; documents/arrays: equality differs (both bail)
      return { kind: 'addToSet', value, init: () => ({ arr: [], seen: new ScalarMap<true>() }), final: (s) => (s as { arr: unknown[] }).arr };
    case '$first':
    case '$last':
      return { kind: op === '$first' ? 'first' : 'last', value, init: () => null, final: (s) => (s === null ? null : (read(s as Doc) ?? null)) };
    default:
      return null;
  }
}

interface Group {
  id: unknown;
  acc: unknown[];
}

function compileGroup(cx: Compiler, spec: Shape): Stage | null {
  if (!isPlainObject(spec) || !('_id' in spec)) return null;
  const E: Expr[] = [];
  const names: string[] = [];
  const accs: Accumulator[] = [];
  for (const [k, v] of Object.entries(spec)) {
    if (k === '_id') continue;
    if (k.includes('.') || k.startsWith('$') || k === '') return null;
    const a = compileAccumulator(cx, v, E);
    if (!a) return null;
    names.push(k);
    accs.push(a);
  }
  const idNode = spec._id;
  let key: GroupPushSpec['key'];
  if (isPlainObject(idNode) && Object.keys(idNode).length > 0 && !Object.keys(idNode).some((k) => k.startsWith('$'))) {
    // compound _id {a: expr, b: expr}: nested maps, no key strings; missing parts left out of _id
    const parts: { name: string; value: ValueCode }[] = [];
    for (const k of Object.keys(idNode)) {
      if (k.includes('.') || k === '') return null;
      const value = valueOf(cx, idNode[k], E);
      if (!value) return null;
      parts.push({ name: k, value });
    }
    key = { parts };
  } else {
    const single = valueOf(cx, idNode, E);
    if (!single) return null;
    key = { single };
  }
  const makePush: MakePush = genGroupPush({ key, accs: accs.map((a) => ({ kind: a.kind, value: a.value })) }, E);
  const n = accs.length;
  const newGroup = (id: unknown): Group => {
    const acc = new Array(n);
    for (let i = 0; i < n; i++) acc[i] = accs[i].init();
    return { id, acc };
  };
  return (next) => {
    const root = new ScalarMap<unknown>();
    const groups: Group[] = [];
    return {
      push: makePush(root, groups, newGroup),
      end: () => {
        for (const g of groups) {
          const out: Doc = { _id: g.id };
          for (let i = 0; i < n; i++) out[names[i]] = accs[i].final(g.acc[i]);
          next.push(out);
        }
        next.end();
      },
    };
  };
}

// ---- $project / $addFields ---------------------------------------------------------------------

type InclTree = { [k: string]: true | InclTree };

/** Dotted inclusion below the top level (MongoDB: arrays map over their documents). */
function projectInto(v: unknown, tree: InclTree): unknown {
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const el of v) {
      if (Array.isArray(el)) bail(); // nested arrays: left to mingo
      if (isPlainObject(el)) out.push(projectInto(el, tree));
    }
    return out;
  }
  if (!isPlainObject(v)) return undefined;
  const out: Doc = {};
  for (const k in v) {
    const t = tree[k];
    if (t === undefined || !Object.prototype.hasOwnProperty.call(tree, k)) continue;
    if (t === true) out[k] = v[k];
    else {
      const p = projectInto(v[k], t);
      if (p !== undefined) out[k] = p;
    }
  }
  return out;
}

function compileProject(cx: Compiler, spec: Shape): Stage | null {
  if (!isPlainObject(spec)) return null;
  const entries = Object.entries(spec);
  if (entries.length === 0) return null;
  let idIncluded = true;
  const tree: InclTree = Object.create(null);
  const excluded = new Set<string>();
  const computed: [string, Expr][] = [];
  let inclusions = 0;
  for (const [k, v] of entries) {
    if (k === '' || k.startsWith('$') || k.split('.').some((p) => p === '')) return null;
    let flag: boolean | null = null;
    if (v instanceof Param && (v.tag === 'n' || v.tag === 'b')) {
      const x = cx.sval(v);
      if (typeof x === 'number' && x !== x) return null;
      flag = !!x;
    }
    if (k === '_id') {
      if (flag === null) return null; // computed _id: left to mingo
      idIncluded = flag;
      continue;
    }
    if (flag === false) {
      if (k.includes('.')) return null;
      excluded.add(k);
    } else if (flag === true) {
      inclusions++;
      const parts = k.split('.');
      let t = tree;
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i];
        const cur = t[p];
        if (i === parts.length - 1) {
          if (cur !== undefined) return null; // path collision
          t[p] = true;
        } else {
          if (cur === true) return null;
          if (cur === undefined) t[p] = Object.create(null) as InclTree;
          t = t[p] as InclTree;
        }
      }
    } else {
      const isExpr =
        (typeof v === 'string' && v.startsWith('$')) ||
        Array.isArray(v) ||
        (v instanceof Param && v.tag.startsWith('a[')) ||
        (isPlainObject(v) && Object.keys(v).length === 1 && Object.keys(v)[0].startsWith('$'));
      if (!isExpr || k.includes('.')) return null;
      const e = compileExpr(cx, v);
      if (!e) return null;
      computed.push([k, e]);
    }
  }
  if (excluded.size > 0) {
    if (inclusions > 0 || computed.length > 0) return null; // MongoDB refuses the mix
    return mapStage((d) => {
      const out: Doc = {};
      for (const k in d) if ((k !== '_id' || idIncluded) && !excluded.has(k)) out[k] = d[k];
      return out;
    });
  }
  if (inclusions === 0 && computed.length === 0) {
    // only `_id: 0/1`
    if (idIncluded) return mapStage((d) => (d._id !== undefined ? { _id: d._id } : {}));
    return mapStage((d) => {
      const out: Doc = {};
      for (const k in d) if (k !== '_id') out[k] = d[k];
      return out;
    });
  }
  const hasNested = Object.values(tree).some((t) => t !== true);
  const nc = computed.length;
  return mapStage((d) => {
      const out: Doc = {};
      if (inclusions > 0 || idIncluded) {
        for (const k in d) {
          if (k === '_id') {
            if (idIncluded && d._id !== undefined) out._id = d._id;
            continue;
          }
          const t = tree[k];
          if (t === undefined) continue;
          if (t === true || !hasNested) out[k] = d[k];
          else {
            const p = projectInto(d[k], t);
            if (p !== undefined) out[k] = p;
          }
        }
      }
      for (let i = 0; i < nc; i++) {
        const v = computed[i][1](d);
        if (v !== undefined) out[computed[i][0]] = v;
      }
      return out;
  });
}

function compileAddFields(cx: Compiler, spec: Shape): Stage | null {
  if (!isPlainObject(spec)) return null;
  const fields: [string, Expr][] = [];
  for (const [k, v] of Object.entries(spec)) {
    if (k === '' || k.startsWith('$') || k.includes('.')) return null;
    // a nested object without operators merges into an existing document in MongoDB: not here
    if (isPlainObject(v) && !(Object.keys(v).length === 1 && Object.keys(v)[0].startsWith('$'))) return null;
    const e = compileExpr(cx, v);
    if (!e) return null;
    fields.push([k, e]);
  }
  if (fields.length === 0) return null;
  const nf = fields.length;
  return mapStage((d) => {
    const out: Doc = {};
    for (const k in d) out[k] = d[k];
    for (let i = 0; i < nf; i++) {
      const v = fields[i][1](d);
      if (v === undefined) bail(); // MongoDB removes the field; left to mingo
      out[fields[i][0]] = v;
    }
    return out;
  });
}

// ---- $sort -----------------------------------------------------------------------------------

function compileSort(cx: Compiler, spec: Shape, limit: number | null): Stage | null {
  if (!isPlainObject(spec)) return null;
  const keys = Object.keys(spec);
  if (keys.length === 0 || keys.length > 32) return null;
  const gets: ((d: Doc) => unknown)[] = [];
  const dirs: number[] = [];
  for (const k of keys) {
    if (k.startsWith('$') || k.split('.').some((p) => p === '')) return null;
    const dir = cx.sval(spec[k]);
    if (dir !== 1 && dir !== -1) return null;
    gets.push(exprGetter(k));
    dirs.push(dir);
  }
  const nk = keys.length;
  const sortDocs = (docs: Doc[]): Doc[] => {
    const n = docs.length;
    if (n <= 1) return docs;
    const vals: unknown[][] = [];
    const ranks: Int8Array[] = [];
    for (let j = 0; j < nk; j++) {
      const get = gets[j];
      const vs = new Array(n);
      const rs = new Int8Array(n);
      for (let i = 0; i < n; i++) {
        const v = get(docs[i]);
        const r = rankOf(v);
        if (r < 0) bail(); // arrays, documents, NaN, other BSON types: mingo
        vs[i] = v;
        rs[i] = r === 0 ? 1 : r; // missing sorts as null (ties keep input order)
      }
      vals.push(vs);
      ranks.push(rs);
    }
    let cmp: (a: number, b: number) => number;
    if (nk === 1 && ranks[0].every((r) => r === 2)) {
      const K = Float64Array.from(vals[0] as number[]);
      const dir = dirs[0];
      cmp = (a, b) => {
        const x = K[a];
        const y = K[b];
        return x < y ? -dir : x > y ? dir : a - b;
      };
    } else {
      cmp = (a, b) => {
        for (let j = 0; j < nk; j++) {
          const c = compareRanked(vals[j][a], ranks[j][a], vals[j][b], ranks[j][b]);
          if (c !== 0) return c * dirs[j];
        }
        return a - b;
      };
    }
    if (limit !== null && limit * 8 < n) {
      // top-k by binary insertion (stable: ties keep input order)
      const best: number[] = [];
      for (let i = 0; i < n; i++) {
        if (best.length === limit && cmp(i, best[limit - 1]) >= 0) continue;
        let lo = 0;
        let hi = best.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (cmp(best[mid], i) <= 0) lo = mid + 1;
          else hi = mid;
        }
        best.splice(lo, 0, i);
        if (best.length > limit) best.pop();
      }
      return best.map((i) => docs[i]);
    }
    const idx = new Array<number>(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    idx.sort(cmp);
    const m = limit !== null ? Math.min(limit, n) : n;
    const out = new Array<Doc>(m);
    for (let i = 0; i < m; i++) out[i] = docs[idx[i]];
    return out;
  };
  return (next) => {
    const docs: Doc[] = [];
    return {
      push: (d) => {
        docs.push(d);
      },
      end: () => {
        for (const d of sortDocs(docs)) next.push(d);
        next.end();
      },
    };
  };
}

// ---- $count / $unwind / $facet ------------------------------------------------------------------

function compileCount(cx: Compiler, spec: Shape): Stage | null {
  const name = cx.sval(spec);
  if (typeof name !== 'string' || name === '' || name.startsWith('$') || name.includes('.') || name === '_id') return null;
  // MongoDB: no document at all for empty input ($group + $project)
  return (next) => {
    let n = 0;
    return {
      push: () => {
        n++;
      },
      end: () => {
        if (n > 0) next.push({ [name]: n });
        next.end();
      },
    };
  };
}

function compileUnwind(spec: Shape): Stage | null {
  if (typeof spec !== 'string' || !spec.startsWith('$') || spec.startsWith('$$')) return null;
  const f = spec.slice(1);
  if (f === '' || f.includes('.') || f === '_id') return null;
  return (next) => ({
    push: (d) => {
      const v = Object.prototype.hasOwnProperty.call(d, f) ? d[f] : undefined;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const copy: Doc = {};
          for (const k in d) copy[k] = k === f ? v[i] : d[k];
          next.push(copy);
        }
      } else if (v !== null && v !== undefined) next.push(d);
    },
    end: () => next.end(),
  });
}

function compileFacet(cx: Compiler, spec: Shape): Stage | null {
  if (!isPlainObject(spec)) return null;
  const names = Object.keys(spec);
  if (names.length === 0) return null;
  const subs: { name: string; pipe: SubPipeline }[] = [];
  for (const name of names) {
    const sub = spec[name];
    if (!Array.isArray(sub) || name.startsWith('$') || name.includes('.') || name === '') return null;
    subs.push({ name, pipe: subPipeline(cx, sub, true) });
  }
  // every input document goes to each sub-pipeline in turn; one output document at the end
  return (next) => {
    const runs = subs.map((s) => s.pipe());
    const heads = runs.map((r) => r.head);
    const nh = heads.length;
    return {
      push: (d) => {
        for (let i = 0; i < nh; i++) heads[i].push(d);
      },
      end: () => {
        const out: Doc = {};
        for (let i = 0; i < nh; i++) {
          heads[i].end();
          out[subs[i].name] = runs[i].result();
        }
        next.push(out);
        next.end();
      },
    };
  };
}

/** One run of a (sub-)pipeline: where to push its input, and its output after `head.end()`. */
export type SubPipeline = () => { head: Sink; result(): Doc[] };

/** A (sub-)pipeline: its compiled prefix, then mingo for the rest. */
export function subPipeline(cx: Compiler, nodes: Shape[], inFacet: boolean): SubPipeline {
  const c = compileStages(cx, nodes, inFacet);
  const frame = cx.frame;
  const rest = c.restFrom < nodes.length ? cx.lazyConcrete(nodes.slice(c.restFrom)) : null;
  return () => {
    const collect = new Collector();
    return {
      head: chain(c.stages, collect),
      result: () => (rest ? frame.host.runMingo(rest() as Doc[], collect.docs) : collect.docs),
    };
  };
}
