import type { Request } from 'express';
import { createLoaders, type Loaders } from './loaders';
import type { Models } from './models';
import { createRepository, type Repository } from './services/repository';
import { createWrites, type Writes } from './services/writes';
import { createRollupWriter, createStatsReader } from './stats';

export interface Context {
  repo: Repository;
  writes: Writes;
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
  const stats = createStatsReader(models);
  return (_req?: Request): Context => {
    const now = repo.now();
    return { repo, writes, loaders: createLoaders(repo, stats, now), now };
  };
}
