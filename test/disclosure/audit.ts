/**
 * An attacker's exact audit of a published hierarchy of tables (the test side of lib/disclosure.ts):
 * every cell of every area (margin, categories, standalone variables and each table's complement)
 * is an integer unknown ≥ 0; published cells are fixed; the equations are "each area's margin =
 * its categories + the complement" per table and "each inner area = Σ its children" per column.
 * `feasibleOther` searches (bounds propagation and branching, complete) for an assignment where a
 * cell differs from its true value: when none exists the cell is recovered exactly.
 */
import type { AreaNode, DisclosureSpec, SuppressionPattern } from '../../lib/disclosure';

export interface AuditCell {
  area: string;
  column: string;
  value: number;
  published: boolean;
}

interface Lin {
  pos: number[];
  neg: number[];
}

export class Audit {
  readonly cells: AuditCell[] = [];
  private readonly cons: Lin[] = [];
  private readonly consOf: number[][] = [];
  private readonly id = new Map<string, number>();
  private nodes = 0;
  static NODE_LIMIT = 200_000;

  constructor(spec: DisclosureSpec, areas: readonly AreaNode[], pattern: SuppressionPattern) {
    const columns = [spec.margin, ...spec.tables.flat(), ...spec.standalone, ...spec.tables.map((_, t) => `~hidden${t}`)];
    for (const a of areas) {
      const v = pattern.values(a.id)!;
      for (const c of columns) {
        const t = c.startsWith('~hidden') ? Number(c.slice(7)) : -1;
        const value = t >= 0 ? v[spec.margin] - spec.tables[t].reduce((s, k) => s + v[k], 0) : v[c];
        this.id.set(`${a.id}|${c}`, this.cells.length);
        this.cells.push({ area: a.id, column: c, value, published: t < 0 && !pattern.suppressed(a.id, c) });
      }
    }
    const cell = (a: string, c: string) => this.id.get(`${a}|${c}`)!;
    for (const a of areas) {
      spec.tables.forEach((cats, t) => this.cons.push({ pos: [cell(a.id, spec.margin)], neg: [...cats.map((k) => cell(a.id, k)), cell(a.id, `~hidden${t}`)] }));
      const kids = areas.filter((x) => x.parent === a.id);
      if (kids.length) for (const c of columns) this.cons.push({ pos: [cell(a.id, c)], neg: kids.map((k) => cell(k.id, c)) });
    }
    this.cells.forEach(() => this.consOf.push([]));
    this.cons.forEach((l, i) => [...l.pos, ...l.neg].forEach((v) => this.consOf[v].push(i)));
  }

  /** Bounds propagation to a fixpoint; false when infeasible. */
  private propagate(lo: number[], hi: number[], changed?: number): boolean {
    let queue = changed === undefined ? this.cons.map((_, i) => i) : [...this.consOf[changed]];
    const queued = new Uint8Array(this.cons.length);
    for (const ci of queue) queued[ci] = 1;
    while (queue.length) {
      const next: number[] = [];
      for (const ci of queue) {
        queued[ci] = 0;
        const { pos, neg } = this.cons[ci];
        // Σpos − Σneg = 0.
        let minSum = 0;
        let maxSum = 0;
        for (const v of pos) (minSum += lo[v]), (maxSum += hi[v]);
        for (const v of neg) (minSum -= hi[v]), (maxSum -= lo[v]);
        if (minSum > 0 || maxSum < 0) return false;
        const tighten = (v: number, nlo: number, nhi: number) => {
          if (nlo > lo[v] || nhi < hi[v]) {
            lo[v] = Math.max(lo[v], nlo);
            hi[v] = Math.min(hi[v], nhi);
            for (const o of this.consOf[v]) if (!queued[o]) (queued[o] = 1), next.push(o);
          }
        };
        // x = −(the rest) for a positive term, x = the rest for a negative one.
        for (const v of pos) tighten(v, hi[v] - maxSum, lo[v] - minSum);
        for (const v of neg) tighten(v, minSum + hi[v], maxSum + lo[v]);
        for (const v of [...pos, ...neg]) if (lo[v] > hi[v]) return false;
      }
      queue = next;
    }
    return true;
  }

  private search(lo: number[], hi: number[], changed?: number): number[] | null {
    if (!this.propagate(lo, hi, changed)) return null;
    let pick = -1;
    for (let v = 0; v < lo.length; v++) if (lo[v] < hi[v] && (pick < 0 || hi[v] - lo[v] < hi[pick] - lo[pick])) pick = v;
    if (pick < 0) return lo;
    // Values nearest the true one first: a protecting change is local, so it is found quickly.
    const truth = this.cells[pick].value;
    const values: number[] = [];
    for (let x = lo[pick]; x <= hi[pick]; x++) values.push(x);
    values.sort((a, b) => Math.abs(a - truth) - Math.abs(b - truth) || a - b);
    if (++this.nodes > Audit.NODE_LIMIT) throw new Error('audit: search too large');
    for (const x of values) {
      const l = [...lo];
      const h = [...hi];
      l[pick] = h[pick] = x;
      const found = this.search(l, h, pick);
      if (found) return found;
    }
    return null;
  }

  /** Cells already shown to take another value by a solution found earlier. */
  private readonly shown = new Set<number>();

  /** Whether an assignment consistent with everything published gives cell `i` another value. */
  feasibleOther(i: number): boolean {
    if (this.shown.has(i)) return true;
    const top = this.cells.reduce((s, c) => Math.max(s, c.value), 0);
    const base = () => this.cells.map((c) => (c.published ? [c.value, c.value] : [0, top]));
    const truth = this.cells[i].value;
    this.nodes = 0;
    for (const [from, to] of [
      [0, truth - 1],
      [truth + 1, top],
    ]) {
      if (from > to) continue;
      const b = base();
      const lo = b.map((x) => x[0]);
      const hi = b.map((x) => x[1]);
      lo[i] = from;
      hi[i] = to;
      const solution = this.search(lo, hi);
      if (solution) {
        // Every cell this solution changes has two feasible values too.
        solution.forEach((x, v) => x !== this.cells[v].value && this.shown.add(v));
        return true;
      }
    }
    return false;
  }

  /** Whether the true values are a solution (the audit's equations hold). */
  consistent(): boolean {
    const lo = this.cells.map((c) => c.value);
    return this.propagate(lo, [...lo]);
  }
}
