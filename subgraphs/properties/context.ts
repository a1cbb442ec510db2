import type { Request } from 'express';
import { now as clockNow } from '../../lib/clock';
import { createLoaders, type Loaders } from './loaders';
import type { Models } from './models';
import { createRepository, type Repository } from './services/repository';
import { createWrites, type Writes } from './services/writes';
import { createImports, type Imports } from './services/import';
import { createRollupWriter, createStatsReader } from './stats';

export interface Context {
  repo: Repository;
  loaders: Loaders;
  writes: Writes;
  /** Spreadsheet imports (batch mutations, services/import.ts). */
  imports: Imports;
  /** The request's instant (the context clock read once): the months of the trends. */
  now: Date;
}

export interface ContextOptions {
  /** Clock of the trends' months; default: the product clock (lib/clock.ts). Tests may pin it here. */
  now?: () => Date;
}

/** Builds a fresh context (and fresh DataLoaders) for every request. */
export function contextFactory(models: Models, opts: ContextOptions = {}) {
  const repo = createRepository(models);
  const rollups = createRollupWriter(models);
  const writes = createWrites(models, rollups);
  const imports = createImports(models, rollups);
  const stats = createStatsReader(models);
  const clock = opts.now ?? clockNow;
  return (_req?: Request): Context => ({ repo, writes, imports, loaders: createLoaders(repo, stats), now: clock() });
}
