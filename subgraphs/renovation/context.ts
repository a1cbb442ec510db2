import type { Request } from 'express';
import { createLoaders, type Loaders } from './loaders';
import type { Models } from './models';
import { createRepository, type Repository } from './services/repository';
import { createWrites, type Writes } from './services/writes';

export interface Context {
  repo: Repository;
  writes: Writes;
  loaders: Loaders;
}

/** Builds a fresh context (and fresh DataLoaders) for every request. */
export function contextFactory(models: Models) {
  const repo = createRepository(models);
  const writes = createWrites(models);
  return (_req?: Request): Context => ({ repo, writes, loaders: createLoaders(repo) });
}
