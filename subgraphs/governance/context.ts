import type { Request } from 'express';
import { ANONYMOUS, type AuthContext } from '../../lib/auth/context';
import { clock, type Clock, type WorkCalendar } from '../../lib/clock';
import { createLoaders, type Loaders } from './loaders';
import type { Models } from './models';
import { createCommands, type Commands } from './services/commands';
import { createRepository, type Repository } from './services/repository';
import { createImports, type Imports } from './services/import';
import { createStatsReader, createStatsWriter, type StatsReader } from './stats';

export interface Context {
  repo: Repository;
  commands: Commands;
  /** Spreadsheet imports (batch mutations, services/import.ts). */
  imports: Imports;
  loaders: Loaders;
  /** Statistics read from the rollups (stats/). */
  stats: StatsReader;
  /** The request's clock reading: every "now" within one request is the same instant. */
  now: Date;
  /** The verified caller; set per request by the access layer (lib/auth). Anonymous until then. */
  auth: AuthContext;
  /**
   * Whether the caller may see individual-level figures (unsuppressed small counts, see
   * services/privacy.ts). False until the access layer decides it per request.
   */
  individualAccess: boolean;
}

export interface ContextOptions {
  /**
   * Clock for deadlines, overdue flags and "last N days" figures: the product clock
   * (lib/clock.ts) unless a test pins its own.
   */
  now?: () => Date;
  /** Working-day calendar for 12345 deadlines (default: weekends only). */
  calendar?: WorkCalendar;
}

/** Builds a fresh context (and fresh DataLoaders) for every request. */
export function contextFactory(models: Models, opts: ContextOptions = {}) {
  const repo = createRepository(models);
  const stats = createStatsReader(models);
  // Every command updates the rollups its raw writes touch (stats/write.ts).
  const commands = createCommands(repo, { calendar: opts.calendar ?? {}, stats: createStatsWriter(models) });
  const imports = createImports(models);
  const source: Clock = opts.now ? { now: opts.now } : clock;
  return (_req?: Request): Context => {
    const now = source.now();
    return { repo, commands, imports, loaders: createLoaders(repo, stats, now), stats, now, auth: ANONYMOUS, individualAccess: false };
  };
}
