/**
 * Compile-time context of the aggregation fast path: reads slot values (recording guards),
 * registers per-run preparation steps, and holds the frame through which compiled closures see
 * the current run's slot values.
 */
import { guardKey, materialize, Param, Shape } from './shape';

/** A literal known at compile time (guarded), used where a shape holds a literal array. */
export class Const {
  constructor(readonly v: unknown) {}
}

/** What compiled stages need from the engine at run time (set for each run: never captured). */
export interface Host {
  /** mingo's test of a filter (with the engine's fixes), for documents the fast filter is unsure of. */
  mingoTest(filter: unknown): (d: Record<string, unknown>) => boolean;
  /** Run stages through the engine's mingo path (copying the input when a stage edits in place). */
  runMingo(stages: Record<string, unknown>[], docs: Record<string, unknown>[]): Record<string, unknown>[];
}

export interface Frame {
  P: readonly unknown[];
  /** The current run's engine services (a cached pipeline serves calls on any database). */
  host: Host;
  /** Incremented at the start of every run (for values computed lazily once per run). */
  run: number;
}

export const NO_HOST: Host = {
  mingoTest: () => {
    throw new Error('fast path: no host outside a run');
  },
  runMingo: () => {
    throw new Error('fast path: no host outside a run');
  },
};

export class Compiler {
  readonly frame: Frame;
  readonly guards: [number, string][] = [];
  readonly prepares: (() => void)[] = [];

  constructor(private readonly P0: readonly unknown[]) {
    this.frame = { P: P0, run: 0, host: NO_HOST };
  }

  /**
   * The value of a shape node decided at compile time: a slot's value is guarded (the compiled
   * variant is reused only when the slot holds the same value again).
   */
  sval(node: Shape): unknown {
    if (node instanceof Const) return node.v;
    if (node instanceof Param) {
      const v = this.P0[node.i];
      if (!this.guards.some(([i]) => i === node.i)) this.guards.push([node.i, guardKey(v)]);
      return v;
    }
    return node;
  }

  /** Whole concrete value of a shape (guarding every slot in it). */
  svalDeep(node: Shape): unknown {
    if (node instanceof Param || node instanceof Const) return this.sval(node);
    if (Array.isArray(node)) return node.map((n) => this.svalDeep(n));
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(node as object)) out[k] = this.svalDeep((node as Record<string, Shape>)[k]);
      return out;
    }
    return node;
  }

  /** Run `fn` at the start of every run (after the frame holds that run's slot values). */
  prepare(fn: (P: readonly unknown[]) => void): void {
    this.prepares.push(() => fn(this.frame.P));
  }

  /** A box refreshed at the start of each run with `fn(P)`. */
  prepared<T>(fn: (P: readonly unknown[]) => T): { v: T } {
    const box = { v: undefined as unknown as T };
    this.prepare((P) => {
      box.v = fn(P);
    });
    return box;
  }

  /** The concrete value of a shape for the current run, computed on first use in that run. */
  lazyConcrete(node: Shape): () => unknown {
    const frame = this.frame;
    let run = -1;
    let value: unknown;
    return () => {
      if (run !== frame.run) {
        value = materialize(node, frame.P);
        run = frame.run;
      }
      return value;
    };
  }
}
