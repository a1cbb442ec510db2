/**
 * Statistical disclosure control for counts of people published over an area hierarchy
 * (小区 → district → city, or any tree) and cross-tabulated by category: primary and secondary
 * (complementary) cell suppression, computed for a whole hierarchy at once so the pattern is the same
 * whichever cell a caller asks for.
 *
 * The tables. Every area has a margin (e.g. `registered`) and, per table, categories that partition
 * part of it (e.g. [highRisk, keyRisk]); what the categories leave over is the table's hidden
 * complement (margin − Σ categories: "general tier", "not living alone"), never published but
 * recoverable by subtraction, so it is a cell like the others. Standalone variables (e.g. holiday
 * visits) are hierarchical only. Every variable of an inner area is the sum of its children.
 *
 * Primary suppression: every cell (published or hidden) whose value is below `threshold`, zeros
 * included. Secondary suppression, top-down as in τ-ARGUS's hierarchical method (HiTaS): for every
 * primary cell not yet protected, the cheapest "move" is chosen and its cells suppressed. A move is
 * an integer change of the cells that keeps every published cell and every equation (each area's
 * margin = its categories + complement, each parent = Σ children) and keeps every cell ≥ 0: one unit
 * shifted between a category and its complement (or added to the margin and every complement) in one
 * 小区, and taken back in another below a common ancestor, or carried up to the root. A cell such a
 * move changes has at least two values consistent with everything published (the true one and the
 * moved one), so it cannot be recovered exactly, by differencing or by any linear algebra. Each
 * suppressed cell is changed by its own move or by the move that suppressed it.
 *
 * Cost of a move: cells newly suppressed, then their total value (small cells are given up first),
 * then a fixed order (area ids, then columns): same data → same pattern.
 */

import path from 'node:path';
import { Piscina } from 'piscina';

export interface DisclosureSpec {
  /** The margin every table partitions (e.g. `registered`). */
  margin: string;
  /** Categories of each table; the rest of the margin is the table's hidden complement. */
  tables: readonly (readonly string[])[];
  /** Variables published per area without a cross-tabulation (hierarchy only). */
  standalone: readonly string[];
  /** Counts below this (0 included) are suppressed. */
  threshold: number;
}

export interface AreaNode {
  id: string;
  parent: string | null;
}

export interface SuppressionPattern {
  /** Whether the area is in the hierarchy the pattern was computed for. */
  has(area: string): boolean;
  /** The area's figures (leaves as given, inner areas summed from them). */
  values(area: string): Record<string, number> | null;
  /** Whether `variable` of `area` is suppressed (unknown areas: everything is). */
  suppressed(area: string, variable: string): boolean;
  /** Number of published variable cells suppressed (for reports). */
  readonly suppressedCells: number;
}

/** A move's columns at one endpoint: each changes by sign × the endpoint's direction. */
type Kind = readonly (readonly [col: number, sign: 1 | -1])[];

const INF = Number.POSITIVE_INFINITY;

/** The inputs of a pattern as plain arrays (what a worker thread is sent; see `patternInput`). */
export interface PatternInput {
  spec: DisclosureSpec;
  /** The areas: ids, and the parent of each (null or an id not among them: a root). */
  ids: string[];
  parents: (string | null)[];
  /** The leaves with figures, and their figures: one row per leaf, columns `patternVariables(spec)`. */
  leafIds: string[];
  leafValues: Float64Array;
}

/** A computed pattern as plain arrays (transferable between threads; see `patternFromArrays`). */
export interface PatternArrays {
  /** The areas sorted by id (the rows below): their positions in the input's `ids`. */
  byId: Uint32Array;
  /** The published variables (the first columns), as `patternVariables(spec)`. */
  varNames: string[];
  /** Columns per row: the published variables, then one hidden complement per table. */
  nCols: number;
  /** Figures, row by row (leaves as given, inner areas summed from them). */
  val: Float64Array;
  /** 1 where a cell is suppressed (hidden complements: always). */
  sup: Uint8Array;
  /** Number of published variable cells suppressed. */
  suppressedCells: number;
}

/** The published variables of a spec, in column order: margin, categories of each table, standalone. */
export const patternVariables = (spec: DisclosureSpec): string[] => [spec.margin, ...spec.tables.flat(), ...spec.standalone];

/** The arrays a pattern is computed from; a leaf's missing variables count 0. */
export function patternInput(spec: DisclosureSpec, areas: readonly AreaNode[], leafValues: ReadonlyMap<string, Readonly<Record<string, number>>>): PatternInput {
  const varNames = patternVariables(spec);
  const nVars = varNames.length;
  const leafIds = [...leafValues.keys()];
  const values = new Float64Array(leafIds.length * nVars);
  let r = 0;
  for (const v of leafValues.values()) {
    for (let c = 0; c < nVars; c++) values[r * nVars + c] = v[varNames[c]] ?? 0;
    r++;
  }
  return { spec, ids: areas.map((a) => a.id), parents: areas.map((a) => a.parent), leafIds, leafValues: values };
}

/**
 * The suppression pattern of a hierarchy. `leafValues` holds the figures of the leaves (areas
 * without children); missing variables count 0. Each table's categories must not exceed the margin.
 * Synchronous: CPU work of about a second at 4,000 areas (see `suppressionPatternAsync`).
 */
export function suppressionPattern(spec: DisclosureSpec, areas: readonly AreaNode[], leafValues: ReadonlyMap<string, Readonly<Record<string, number>>>): SuppressionPattern {
  const input = patternInput(spec, areas, leafValues);
  return patternFromArrays(input.ids, computeSuppression(input));
}

/** The pattern of `patternInput`'s arrays: pure computation on plain data (runs in a worker thread too). */
export function computeSuppression(input: PatternInput): PatternArrays {
  const { spec, ids, parents } = input;
  // Columns: margin, categories of each table, standalone variables, then one hidden per table.
  const varNames = patternVariables(spec);
  const nVars = varNames.length;
  const tableCols: number[][] = [];
  {
    let c = 1;
    for (const t of spec.tables) tableCols.push(t.map(() => c++));
  }
  const hiddenCol = spec.tables.map((_, i) => nVars + i);
  const nCols = nVars + spec.tables.length;

  // The tree, ordered top-down (depth, then id) so every pass over it is deterministic.
  const index = new Map<string, number>();
  const byIdList = [...ids.keys()].sort((a, b) => (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0));
  const idOf = (i: number) => ids[byIdList[i]];
  byIdList.forEach((_, i) => index.set(idOf(i), i));
  const n = byIdList.length;
  const parent = byIdList.map((a) => {
    const p = parents[a];
    return p != null && index.has(p) ? index.get(p)! : -1;
  });
  const children: number[][] = byIdList.map(() => []);
  parent.forEach((p, i) => p >= 0 && children[p].push(i));
  const depth = new Array<number>(n).fill(-1);
  const depthOf = (i: number): number => (depth[i] >= 0 ? depth[i] : (depth[i] = parent[i] < 0 ? 0 : depthOf(parent[i]) + 1));
  for (let i = 0; i < n; i++) depthOf(i);
  const order = [...Array(n).keys()].sort((a, b) => depth[a] - depth[b] || a - b);
  const leafRow = new Map(input.leafIds.map((id, r) => [id, r]));

  // Values: leaves as given, inner areas summed bottom-up; hidden = margin − Σ categories.
  const val = new Float64Array(n * nCols);
  for (let i = 0; i < n; i++) {
    if (children[i].length) continue;
    const r = leafRow.get(idOf(i));
    if (r !== undefined) for (let c = 0; c < nVars; c++) val[i * nCols + c] = input.leafValues[r * nVars + c];
  }
  for (let k = order.length - 1; k >= 0; k--) {
    const i = order[k];
    if (parent[i] >= 0) for (let c = 0; c < nVars; c++) val[parent[i] * nCols + c] += val[i * nCols + c];
  }
  for (let i = 0; i < n; i++) {
    tableCols.forEach((cols, t) => {
      let rest = val[i * nCols];
      for (const c of cols) rest -= val[i * nCols + c];
      if (rest < 0) throw new Error(`disclosure: the categories of table ${t} exceed ${spec.margin} in ${idOf(i)}`);
      val[i * nCols + hiddenCol[t]] = rest;
    });
  }

  const sup = new Uint8Array(n * nCols); // suppressed (hidden columns: always)
  const covered = new Uint8Array(n * nCols); // changed by a chosen move
  for (let i = 0; i < n; i++) for (let c = 0; c < nCols; c++) if (c >= nVars || val[i * nCols + c] < spec.threshold) sup[i * nCols + c] = 1;
  const version = new Uint32Array(n); // bumped on a suppression in the subtree (cache invalidation)

  /** Per area, the children whose subtree had a suppression, in order (read by bestDown's caches). */
  const changed: number[][] = byIdList.map(() => []);
  const suppress = (i: number, c: number) => {
    if (sup[i * nCols + c]) return;
    sup[i * nCols + c] = 1;
    for (let a = i; a >= 0; a = parent[a]) {
      version[a]++;
      if (parent[a] >= 0) changed[parent[a]].push(a);
    }
  };

  /** Cost of the cells of `kind` at area i: [newly suppressed, their value]. */
  const cellCost = (i: number, kind: Kind): [number, number] => {
    let cells = 0;
    let value = 0;
    for (const [c] of kind) {
      if (!sup[i * nCols + c]) {
        cells++;
        value += val[i * nCols + c];
      }
    }
    return [cells, value];
  };
  const BIG = 1e9;
  const costNum = ([cells, value]: [number, number]) => cells * BIG + value;
  /** Whether a leaf can be an endpoint moving in `dir`: every column that decreases is ≥ 1. */
  const feasible = (leaf: number, kind: Kind, dir: 1 | -1) => kind.every(([c, s]) => s * dir > 0 || val[leaf * nCols + c] >= 1);

  // Move kinds (filled below); the caches of bestDown are indexed by kind and direction.
  const kinds: { kind: Kind }[] = [];
  const kindsOfCol: number[][] = Array.from({ length: nCols }, () => []);
  interface Down {
    v: number;
    /** How much of `changed[i]` the two cheapest children reflect. */
    seen: number;
    cost: number;
    leaf: number;
    /** The two cheapest children (inner areas): child index and its cost. */
    c1: number;
    k1: number;
    c2: number;
    k2: number;
  }
  const downCache: (Down | undefined)[][] = [];

  /**
   * Cheapest path from area i down to a feasible leaf (cells of i included). Costs only fall as
   * cells are suppressed, so an inner area's two cheapest children are updated from the children
   * that changed since, not by a new scan.
   */
  const before = (ka: number, a: number, kb: number, b: number) => ka < kb || (ka === kb && a < b);
  const bestDown = (i: number, k: number, dir: 1 | -1): Down => {
    const slot = k * 2 + (dir === 1 ? 0 : 1);
    const cache = (downCache[slot] ??= new Array(n));
    const hit = cache[i];
    if (hit && hit.v === version[i]) return hit;
    const kind = kinds[k].kind;
    const own = costNum(cellCost(i, kind));
    const out: Down = hit ?? { v: 0, seen: 0, cost: INF, leaf: -1, c1: -1, k1: INF, c2: -1, k2: INF };
    out.v = version[i];
    if (!children[i].length) {
      out.cost = feasible(i, kind, dir) ? own : INF;
      out.leaf = out.cost < INF ? i : -1;
    } else {
      const offer = (ch: number) => {
        const kc = bestDown(ch, k, dir).cost;
        if (ch === out.c1) out.k1 = kc;
        else if (ch === out.c2) {
          out.k2 = kc;
          if (before(out.k2, out.c2, out.k1, out.c1)) [out.c1, out.k1, out.c2, out.k2] = [out.c2, out.k2, out.c1, out.k1];
        } else if (before(kc, ch, out.k1, out.c1)) (out.c2 = out.c1), (out.k2 = out.k1), (out.c1 = ch), (out.k1 = kc);
        else if (before(kc, ch, out.k2, out.c2)) (out.c2 = ch), (out.k2 = kc);
      };
      if (!hit) for (const ch of children[i]) offer(ch);
      else for (const log = changed[i]; out.seen < log.length; out.seen++) offer(log[out.seen]);
      if (!hit) out.seen = changed[i].length;
      out.cost = out.c1 >= 0 && out.k1 < INF ? out.k1 + own : INF;
      out.leaf = out.cost < INF ? bestDown(out.c1, k, dir).leaf : -1;
    }
    cache[i] = out;
    return out;
  };

  /**
   * The cheapest move of kind `k` changing the cells of area `a`: one endpoint below `a` moving in
   * `dir`, and either the other endpoint under a common ancestor (moving back) or the path to the
   * root. Returns the areas whose cells of the kind it changes, or null.
   */
  const cheapestMove = (a: number, k: number): { cost: number; areas: number[] } | null => {
    const kind = kinds[k].kind;
    let best: { cost: number; build: () => number[] } | null = null;
    for (const dir of [1, -1] as const) {
      const down = bestDown(a, k, dir);
      if (down.cost === INF) continue;
      let up = 0; // cost of the ancestors of a passed so far (below the candidate common ancestor)
      for (let anc = a, L = parent[a]; ; anc = L, L = parent[L]) {
        if (L < 0) {
          // Carried to the root.
          const cost = down.cost + up;
          if (!best || cost < best.cost) best = { cost, build: () => pathUp(down.leaf, -1) };
          break;
        }
        // Taken back under L by the cheapest feasible leaf of another child of L.
        const other = bestDown(L, k, dir === 1 ? -1 : 1);
        const sib = other.c1 !== anc ? other.c1 : other.c2;
        const backCost = other.c1 !== anc ? other.k1 : other.k2;
        if (sib >= 0 && backCost < INF) {
          const cost = down.cost + up + backCost;
          if (!best || cost < best.cost) {
            const leafA = down.leaf;
            const leafB = bestDown(sib, k, dir === 1 ? -1 : 1).leaf;
            const lca = L;
            best = { cost, build: () => [...pathUp(leafA, lca), ...pathUp(leafB, lca)] };
          }
        }
        up += costNum(cellCost(L, kind));
      }
    }
    return best ? { cost: best.cost, areas: best.build() } : null;
  };
  /** Areas from `leaf` up to (not including) `stop` (-1: the root included). */
  const pathUp = (leaf: number, stop: number) => {
    const out: number[] = [];
    for (let i = leaf; i >= 0 && i !== stop; i = parent[i]) out.push(i);
    return out;
  };

  // Move kinds: the margin with every complement (or with one category and the other complements);
  // a category against its table's complement; a standalone variable alone. Moving up (+1) from
  // any leaf to the root is always possible, so every cell can be protected.
  const addKind = (kind: Kind) => {
    const k = kinds.length;
    kinds.push({ kind });
    for (const [c] of kind) kindsOfCol[c].push(k);
  };
  addKind([[0, 1], ...hiddenCol.map((h) => [h, 1] as const)]);
  // The margin with one category (a cell of an empty area can only change with its margin).
  tableCols.forEach((cols, t) => cols.forEach((c) => addKind([[0, 1], [c, 1], ...hiddenCol.filter((_, u) => u !== t).map((h) => [h, 1] as const)])));
  tableCols.forEach((cols, t) => cols.forEach((c) => addKind([[c, 1], [hiddenCol[t], -1]])));
  spec.standalone.forEach((_, s) => addKind([[1 + spec.tables.flat().length + s, 1]]));

  // Protect every primary cell, top-down.
  for (const i of order) {
    for (let c = 0; c < nCols; c++) {
      const cell = i * nCols + c;
      if (covered[cell] || !(val[cell] < spec.threshold)) continue;
      let best: { cost: number; areas: number[]; kind: Kind } | null = null;
      for (const k of kindsOfCol[c]) {
        const move = cheapestMove(i, k);
        if (move && (!best || move.cost < best.cost)) best = { cost: move.cost, areas: move.areas, kind: kinds[k].kind };
      }
      if (!best) throw new Error(`disclosure: no protecting move for ${idOf(i)}/${c}`); // unreachable: the root path always exists
      for (const a of best.areas)
        for (const [col] of best.kind) {
          suppress(a, col);
          covered[a * nCols + col] = 1;
        }
    }
  }

  let suppressedCells = 0;
  for (let i = 0; i < n; i++) for (let c = 0; c < nVars; c++) suppressedCells += sup[i * nCols + c];
  return { byId: Uint32Array.from(byIdList), varNames, nCols, val, sup, suppressedCells };
}

/** The SuppressionPattern of computed arrays; `ids` are the input's area ids (`PatternInput.ids`). */
export function patternFromArrays(ids: readonly string[], a: PatternArrays): SuppressionPattern {
  const { val, sup, nCols, varNames } = a;
  const index = new Map<string, number>();
  a.byId.forEach((k, i) => index.set(ids[k], i));
  const colOf = new Map(varNames.map((v, i) => [v, i]));
  return {
    has: (area) => index.has(area),
    values(area) {
      const i = index.get(area);
      if (i === undefined) return null;
      return Object.fromEntries(varNames.map((v, c) => [v, val[i * nCols + c]]));
    },
    suppressed(area, variable) {
      const i = index.get(area);
      const c = colOf.get(variable);
      if (c === undefined) throw new Error(`disclosure: unknown variable ${variable}`);
      return i === undefined || sup[i * nCols + c] === 1;
    },
    suppressedCells: a.suppressedCells,
  };
}

/**
 * Hierarchies of at least this many areas are computed in the worker thread by
 * `suppressionPatternAsync` (smaller ones take milliseconds: not worth a thread's start-up).
 */
export const WORKER_MIN_AREAS = 1000;
/**
 * How long the worker thread outlives its last computation: longer than a disclosure snapshot's
 * period (subgraphs/elderly/services/disclosure.ts), so a served city keeps a warm thread while an
 * idle process holds none.
 */
export const WORKER_IDLE_MS = 90_000;

let pool: Piscina | null = null;
/**
 * One thread at most (the machine's other cores serve requests and the database), none when idle.
 * Idle threads are unref'd by piscina, so the pool never keeps the process alive; `execArgv: []`
 * keeps the host's loader flags (jest's, tsx's) out of the thread, whose entry registers its own.
 */
const workerPool = () =>
  (pool ??= new Piscina({
    filename: path.join(__dirname, 'disclosure-worker-entry.js'),
    minThreads: 0,
    maxThreads: 1,
    idleTimeout: WORKER_IDLE_MS,
    execArgv: [],
  }));

/**
 * `suppressionPattern` off the event loop: the same pattern, computed in a worker thread (for
 * hierarchies of WORKER_MIN_AREAS areas or more, or whenever `options.worker` says so) while the
 * process goes on serving. Computations queue for the one thread.
 */
export function suppressionPatternAsync(
  spec: DisclosureSpec,
  areas: readonly AreaNode[],
  leafValues: ReadonlyMap<string, Readonly<Record<string, number>>>,
  options: { worker?: boolean } = {},
): Promise<SuppressionPattern> {
  return patternOfInputAsync(patternInput(spec, areas, leafValues), options);
}

/** `suppressionPatternAsync` from `patternInput`'s arrays (the leaf values' buffer is transferred, not copied). */
export async function patternOfInputAsync(input: PatternInput, options: { worker?: boolean } = {}): Promise<SuppressionPattern> {
  if (!(options.worker ?? input.ids.length >= WORKER_MIN_AREAS)) return patternFromArrays(input.ids, computeSuppression(input));
  // Sending the input copies its strings (tens of ms at 40,000 areas): in a turn of the event loop
  // of its own, not in the caller's, which built the input.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const out: PatternArrays = await workerPool().run(input, { transferList: [input.leafValues.buffer as ArrayBuffer] });
  return patternFromArrays(input.ids, out);
}
