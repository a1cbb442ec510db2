/**
 * Seeds the synthetic city into every subgraph's database: the skeleton comes from ./city.ts and
 * each bureau writes its own rows for it (its own seedSynthetic). Prints progress and timing.
 */
import type { Connection } from 'mongoose';
import { seedSyntheticProperties } from '../../subgraphs/properties/seed-synthetic';
import { generateCity, type SyntheticCity } from './city';

export type SyntheticSeeder = (conn: Connection, city: SyntheticCity, seed: number) => Promise<number>;

/** Bureau seeders by subgraph name. Subgraphs without one get no synthetic rows. */
export async function loadSeeders(): Promise<Record<string, SyntheticSeeder>> {
  const seeders: Record<string, SyntheticSeeder> = { properties: (conn, city, seed) => seedSyntheticProperties(conn, city, seed) };
  for (const name of ['governance', 'elderly', 'renovation']) {
    try {
      const mod = (await import(`../../subgraphs/${name}/seed`)) as { seedSynthetic?: (conn: Connection, communities: SyntheticCity['communities'], seed: number) => Promise<number> };
      if (mod.seedSynthetic) seeders[name] = (conn, city, seed) => mod.seedSynthetic!(conn, city.communities, seed);
    } catch {
      // subgraph without a seed module: nothing to add
    }
  }
  return seeders;
}

export interface SeedReport {
  communities: number;
  documents: Record<string, number>;
  ms: Record<string, number>;
  totalMs: number;
}

export async function seedSyntheticCity(
  conns: Map<string, Connection>,
  opts: { communities: number; seed: number; progress?: (line: string) => void },
): Promise<SeedReport> {
  const started = Date.now();
  const city = generateCity(opts.communities, opts.seed);
  const seeders = await loadSeeders();
  const report: SeedReport = { communities: city.communities.length, documents: {}, ms: {}, totalMs: 0 };
  const names = [...conns.keys()].filter((n) => seeders[n]);
  let done = 0;
  for (const name of names) {
    const t = Date.now();
    opts.progress?.(bar(done, names.length, `seeding ${name}…`));
    report.documents[name] = await seeders[name](conns.get(name)!, city, opts.seed);
    report.ms[name] = Date.now() - t;
    done++;
    opts.progress?.(bar(done, names.length, `${name}: ${report.documents[name]} documents in ${(report.ms[name] / 1000).toFixed(1)} s`));
  }
  report.totalMs = Date.now() - started;
  return report;
}

function bar(done: number, total: number, label: string): string {
  const width = 24;
  const filled = Math.round((done / Math.max(total, 1)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}`;
}
