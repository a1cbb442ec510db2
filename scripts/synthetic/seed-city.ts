/**
 * Seeds the synthetic city into every subgraph's database: the skeleton comes from ./city.ts and
 * each bureau writes its own rows for it (its module's `seedSynthetic`), all dated relative to one
 * instant, the product clock's `now()` when the seeding starts. Prints progress and timing.
 *
 * Each database also keeps a one-document marker (collection `synthetic_city`: size, seed, as-of),
 * so `npm start` knows whether a synthetic city was chosen (`npm run seed -- --communities 0`
 * chooses none) and regenerates it with the same size and seed when it has gone stale (its as-of
 * is in another calendar month or more than a week away), keeping "last month", LAST_30D and
 * 12-month windows filled whenever the demo runs.
 */
import type { Connection } from 'mongoose';
import { cstMonth, DAY_MS, now } from '../../lib/clock';
import type { SubgraphModule } from '../../lib/subgraph-module';
import { SUBGRAPHS } from '../subgraphs';
import { generateCity } from './city';
import { progressLine } from '../../lib/rollup';

/** The demo city `npm start` and `npm run seed` load next to the article's four 小区. */
export const DEMO_CITY = { communities: 400, seed: 42 } as const;

export interface SeedReport {
  communities: number;
  documents: Record<string, number>;
  ms: Record<string, number>;
  totalMs: number;
}

export interface SyntheticCityOptions {
  communities: number;
  seed: number;
  progress?: (line: string) => void;
  /** Modules by subgraph name (default: the ones scripts/subgraphs.ts runs). */
  subgraphs?: readonly SubgraphModule[];
}

/**
 * Writes the synthetic city of `communities` 小区 into every connection whose subgraph has a
 * synthetic generator, replacing an earlier synthetic city (0 removes it, where the bureau's
 * generator deletes its earlier rows first).
 */
export async function seedSyntheticCity(conns: Map<string, Connection>, opts: SyntheticCityOptions): Promise<SeedReport> {
  const started = performance.now();
  const asOf = now();
  const city = generateCity(opts.communities, opts.seed);
  const mods = (opts.subgraphs ?? SUBGRAPHS).filter((m) => m.seedSynthetic && conns.has(m.name));
  const report: SeedReport = { communities: city.communities.length, documents: {}, ms: {}, totalMs: 0 };
  let done = 0;
  for (const mod of mods) {
    const t = performance.now();
    opts.progress?.(progressLine(done, mods.length, `seeding ${mod.name}…`));
    report.documents[mod.name] = await mod.seedSynthetic!(conns.get(mod.name)!, city, opts.seed, asOf);
    report.ms[mod.name] = performance.now() - t;
    done++;
    opts.progress?.(progressLine(done, mods.length, `${mod.name}: ${report.documents[mod.name]} documents in ${(report.ms[mod.name] / 1000).toFixed(1)} s`));
  }
  const marker: SyntheticCityMarker = { communities: opts.communities, seed: opts.seed, asOf };
  for (const conn of conns.values()) {
    await markerCollection(conn).replaceOne({ _id: 'city' }, marker, { upsert: true });
  }
  report.totalMs = performance.now() - started;
  return report;
}

export interface SyntheticCityMarker {
  communities: number;
  seed: number;
  /** The product clock's `now()` when the city was generated. */
  asOf: Date;
}

const markerCollection = (conn: Connection) => conn.db!.collection<{ _id: string } & SyntheticCityMarker>('synthetic_city');

/** The synthetic city recorded in the databases (the oldest when they differ), or null if none is. */
export async function readSyntheticCityMarker(conns: Map<string, Connection>): Promise<{ marker: SyntheticCityMarker | null; complete: boolean }> {
  let oldest: SyntheticCityMarker | null = null;
  let missing = 0;
  for (const conn of conns.values()) {
    const m = await markerCollection(conn).findOne({ _id: 'city' });
    if (!m) missing++;
    else if (!oldest || m.asOf.getTime() < oldest.asOf.getTime()) oldest = { communities: m.communities, seed: m.seed, asOf: m.asOf };
  }
  return { marker: oldest, complete: missing === 0 };
}

/** Whether a city generated at `asOf` no longer fills the windows that end now. */
export function isStale(asOf: Date, at: Date = now()): boolean {
  return cstMonth(asOf) !== cstMonth(at) || Math.abs(at.getTime() - asOf.getTime()) > 7 * DAY_MS;
}

/**
 * For `npm start`: loads the default synthetic city when none was ever chosen, regenerates the
 * chosen one (same size and seed) when it is stale or some database lacks it, and otherwise leaves
 * the data alone. Returns the report, or null when nothing was written.
 */
export async function ensureSyntheticCity(
  conns: Map<string, Connection>,
  defaults: SyntheticCityOptions,
): Promise<SeedReport | null> {
  const { marker, complete } = await readSyntheticCityMarker(conns);
  if (!marker) return defaults.communities > 0 ? seedSyntheticCity(conns, defaults) : null;
  if (marker.communities === 0 && complete) return null;
  if (complete && !isStale(marker.asOf)) return null;
  return seedSyntheticCity(conns, { ...defaults, communities: marker.communities, seed: marker.seed });
}

