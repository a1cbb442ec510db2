import type { Request } from 'express';
import { createLoaders, type Loaders } from './loaders';
import type { Models } from './models';
import { createRepository, type Repository } from './services/repository';
import { createWrites, type Writes } from './services/writes';
import { createImports, type Imports } from './services/import';
import { now as clockNow } from '../../lib/clock';
import { createRollupWriter, createStatsReader } from './stats';

export interface Context {
  repo: Repository;
  writes: Writes;
  /** Spreadsheet imports (batch mutations, services/import.ts). */
  imports: Imports;
  loaders: Loaders;
  /** The request's instant (the context clock read once): statistics "as of now" and trend windows. */
  now: Date;
}

export interface ContextOptions {
  /**
   * Clock used by the late flags and the "not in the future" checks; default: the product clock
   * (lib/clock.ts). Tests may pin it here for one server.
   */
  now?: () => Date;
}

/** Builds a fresh context (and fresh DataLoaders) for every request. */
export function contextFactory(models: Models, opts: ContextOptions = {}) {
  const repo = createRepository(models, opts.now);
  const writes = createWrites(models, opts.now, createRollupWriter(models));
  const imports = createImports(models, writes, opts.now ?? clockNow);
  const stats = createStatsReader(models);
  return (_req?: Request): Context => {
    const now = repo.now();
    return { repo, writes, imports, loaders: createLoaders(repo, stats, now), now };
  };
}
