import type { Request } from 'express';
import { now as clockNow } from '../../lib/clock';
import { createLoaders, type Loaders } from './loaders';
import type { Models } from './models';
import { createRepository, type Repository } from './services/repository';
import { createWrites, type Writes } from './services/writes';
import { createRollupWriter, createStatsReader } from './stats';

export interface Context {
  repo: Repository;
  loaders: Loaders;
  writes: Writes;
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
  const writes = createWrites(models, createRollupWriter(models));
  const stats = createStatsReader(models);
  const clock = opts.now ?? clockNow;
  return (_req?: Request): Context => ({ repo, writes, loaders: createLoaders(repo, stats), now: clock() });
}
