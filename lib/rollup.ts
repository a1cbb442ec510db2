/**
 * Building blocks for statistics rollups (docs/statistics.md): pre-aggregated counters kept next to
 * each bureau's raw rows, updated by the same write path and rebuildable from the raw rows.
 * Domain-free: bureaus decide what they count; this module gives them mergeable histograms, bucket
 * keys in China Standard Time and a progress line for rebuilds.
 *
 * Durations are kept as sparse fixed-width histograms (one bucket per whole hour or day, stored as
 * `{ "<bucket>": count }`), so quantiles stay exact to the bucket when histograms are merged across
 * 小区, districts and months: the p-th percentile of a merged histogram is the same bucket as the
 * nearest-rank p-th percentile of the raw values, floored to the bucket.
 */
import { cstDate, cstMonth } from './clock';

/** Sparse histogram: bucket (a whole number, e.g. hours floored) → count. */
export type Histogram = Record<string, number>;

/** The bucket of a value: its floor in units of `width` (1 = whole hours when values are hours). */
export const bucketOf = (value: number, width = 1) => Math.floor(value / width) * width;

/** Adds `n` values falling in `value`'s bucket (mutates and returns `h`). */
export function histAdd(h: Histogram, value: number, n = 1, width = 1): Histogram {
  const k = String(bucketOf(value, width));
  const next = (h[k] ?? 0) + n;
  if (next === 0) delete h[k];
  else h[k] = next;
  return h;
}

/** Adds every bucket of `from` into `into` (mutates and returns `into`). */
export function histMerge(into: Histogram, from: Histogram | null | undefined): Histogram {
  if (!from) return into;
  for (const [k, n] of Object.entries(from)) {
    const next = (into[k] ?? 0) + n;
    if (next === 0) delete into[k];
    else into[k] = next;
  }
  return into;
}

export const histCount = (h: Histogram | null | undefined) => Object.values(h ?? {}).reduce((s, n) => s + n, 0);

/**
 * Nearest-rank quantile (p in (0, 1]) of a histogram: the bucket holding the ceil(p·N)-th smallest
 * value (at least the first); null when empty. Equals `bucketOf(nearestRank(raw values, p))`.
 */
export function histQuantile(h: Histogram | null | undefined, p: number): number | null {
  const entries = Object.entries(h ?? {})
    .map(([k, n]) => [Number(k), n] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return null;
  const rank = Math.max(Math.ceil(p * total), 1);
  let seen = 0;
  for (const [bucket, n] of entries) {
    seen += n;
    if (seen >= rank) return bucket;
  }
  return entries[entries.length - 1][0];
}

/** Nearest-rank quantile of raw values (the reference the histograms are checked against). */
export function nearestRankOf(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(Math.ceil(p * s.length), 1) - 1];
}

/** Sums numeric fields of several rows into one (missing fields count as 0). */
export function sumCounters<K extends string>(rows: readonly Partial<Record<K, number>>[], fields: readonly K[]): Record<K, number> {
  const out = Object.fromEntries(fields.map((f) => [f, 0])) as Record<K, number>;
  for (const r of rows) for (const f of fields) out[f] += r[f] ?? 0;
  return out;
}

/** Bucket keys in CST: the day (`YYYY-MM-DD`) and month (`YYYY-MM`) an instant falls in. */
export const dayKey = (at: Date) => cstDate(at);
export const monthKey = (at: Date) => cstMonth(at);

/** A one-line progress bar for rebuild and seed commands. */
export function progressLine(done: number, total: number, label: string, width = 24): string {
  const filled = Math.round((done / Math.max(total, 1)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}`;
}
