/**
 * The aggregation fast path: pipelines compiled once per shape into closures (see shape.ts,
 * stages.ts), with a leading `$match` answered from an index when one applies.
 *
 * `fastAggregate` returns null when the pipeline's first stage is outside the supported subset
 * (the caller then runs the mingo path), and throws `Bail` (or any error) when the fast path is
 * not sure of an answer at run time; the caller then runs the whole pipeline through mingo.
 */
import type { Collection } from '../storage';
import { stats } from '../storage';
import type { Doc } from '../values';
import { makeFeeders, Feeders } from './codegen';
import { Compiler, NO_HOST } from './compiler';
import { BAIL, Bail } from './runtime';
import { guardKey, Shape, shapeOf } from './shape';
import { chain, Collector, compileStages, Host, matcher, Sink, Stage } from './stages';

export { Bail } from './runtime';
export type { Host } from './stages';

/** What the engine supplies for the leading `$match`. */
export interface SourceHost extends Host {
  /** The best index access for a filter (estimated size, record ids on demand), or null. */
  candidates(coll: Collection, filter: Doc): { estimate: number; sortedRids(): Float64Array } | null;
}

/**
 * `indexMaxShare`: an index access is used when it visits at most this share of the collection;
 * above it, one pass over the documents with the compiled filter is cheaper than sorting the
 * candidates back into natural order and fetching them one by one (see bench/bench-db.ts).
 */
export const fastTuning = { indexMaxShare: 0.15 };

interface Plan {
  /** Test of the leading $match, or null when the pipeline does not start with a compiled one. */
  lead: ((d: Doc) => boolean) | null;
  feeders: Feeders;
  stages: Stage[];
  restFrom: number;
  length: number;
}

interface Variant {
  guards: [number, string][];
  cx: Compiler;
  /** null: nothing worth running on the fast path */
  plan: Plan | null;
}

const MAX_SHAPES = 256;
const MAX_VARIANTS = 8;
const cache = new Map<string, Variant[]>();

/** Counters for tests and benchmarks (also in `embeddedEngineStats`). */
export const fastStats = {
  compiled: 0,
  cacheHits: 0,
  /** pipelines started on the fast path */
  runs: 0,
  /** ... of which a stage from some point on ran through mingo */
  partial: 0,
  /** runs abandoned for the mingo path (not sure of the answer) */
  bails: 0,
  /** runs abandoned because of an error (mingo's answer, or its error, is then returned) */
  errors: 0,
  lastError: '',
};

function compile(nodes: Shape[], params: unknown[]): Variant {
  const cx = new Compiler(params);
  let lead: ((d: Doc) => boolean) | null = null;
  let from = 0;
  const first = nodes[0] as Record<string, Shape> | undefined;
  let leadCompiled = false;
  if (first && Object.keys(first).length === 1 && '$match' in first) {
    lead = matcher(cx, first.$match);
    leadCompiled = lead !== null;
    if (!lead) {
      // a filter the fast path does not compile: mingo tests the (index-narrowed) candidates
      const concrete = cx.lazyConcrete(first.$match);
      const frame = cx.frame;
      let run = -1;
      let test: ((d: Doc) => boolean) | null = null;
      lead = (d) => {
        if (run !== frame.run || !test) {
          test = frame.host.mingoTest(concrete());
          run = frame.run;
        }
        return test(d);
      };
    }
    from = 1;
  }
  const c = compileStages(cx, nodes, false, from);
  fastStats.compiled++;
  const useful = leadCompiled || c.stages.length > 0;
  const plan = useful ? { lead, feeders: makeFeeders(), stages: c.stages, restFrom: c.restFrom, length: nodes.length } : null;
  return { guards: cx.guards, cx, plan };
}

function lookup(key: string, params: unknown[]): Variant | null {
  const list = cache.get(key);
  if (!list) return null;
  for (const v of list) {
    if (v.guards.every(([i, g]) => guardKey(params[i]) === g)) {
      // keep recently used shapes at the end (the oldest is evicted first)
      cache.delete(key);
      cache.set(key, list);
      return v;
    }
  }
  return null;
}

function store(key: string, v: Variant): void {
  let list = cache.get(key);
  if (!list) {
    list = [];
    cache.set(key, list);
    if (cache.size > MAX_SHAPES) cache.delete(cache.keys().next().value as string);
  }
  list.push(v);
  if (list.length > MAX_VARIANTS) list.shift();
}

/** Drop every compiled pipeline (tests). */
export function clearFastCache(): void {
  cache.clear();
}

/** Feed the documents matching the leading $match, in natural order, from an index when one applies. */
function feed(coll: Collection, filter: Doc, test: (d: Doc) => boolean, host: SourceHost, sink: Sink, feeders: Feeders): void {
  const plan = host.candidates(coll, filter);
  if (plan && plan.estimate <= coll.docs.size * fastTuning.indexMaxShare) {
    const rids = plan.sortedRids();
    stats.indexLookups++;
    stats.docsExamined += rids.length;
    feeders.rids(coll.byRid, rids, test, sink);
  } else {
    stats.collScans++;
    stats.docsExamined += coll.docs.size;
    feeders.scan(coll.docs, test, sink);
  }
}

/**
 * Run `stages` (already checked for refused features) over `coll` on the fast path, or return
 * null when the pipeline does not start with a supported stage.
 */
export function fastAggregate(coll: Collection, stages: Doc[], host: SourceHost): Doc[] | null {
  const { node, key, params } = shapeOf(stages);
  let variant = lookup(key, params);
  if (variant) fastStats.cacheHits++;
  else {
    variant = compile(node as Shape[], params);
    store(key, variant);
  }
  const plan = variant.plan;
  if (!plan) return null;
  const cx = variant.cx;
  let viaMingo = false;
  cx.frame.P = params;
  cx.frame.run++;
  cx.frame.host = {
    mingoTest: host.mingoTest,
    runMingo: (rest, docs) => {
      viaMingo = true;
      return host.runMingo(rest, docs);
    },
  };
  fastStats.runs++;
  try {
    for (const p of cx.prepares) p();
    const collect = new Collector();
    const head = chain(plan.stages, collect);
    if (plan.lead) feed(coll, stages[0].$match as Doc, plan.lead, host, head, plan.feeders);
    else {
      stats.collScans++;
      stats.docsExamined += coll.docs.size;
      plan.feeders.scan(coll.docs, null, head);
    }
    head.end();
    let docs = collect.docs;
    if (plan.restFrom < plan.length) docs = cx.frame.host.runMingo(stages.slice(plan.restFrom), docs);
    if (viaMingo) fastStats.partial++;
    return docs;
  } catch (e) {
    if (e === BAIL || e instanceof Bail) fastStats.bails++;
    throw e;
  } finally {
    // nothing of this run stays reachable from the cache
    cx.frame.P = [];
    cx.frame.host = NO_HOST;
  }
}
