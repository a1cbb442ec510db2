import type { Request } from 'express';
import { createLoaders, type Loaders } from './loaders';
import type { Models } from './models';
import { createRepository, type Repository } from './services/repository';

export interface Context {
  repo: Repository;
  loaders: Loaders;
}

/** Builds a fresh context (and fresh DataLoaders) for every request. */
export function contextFactory(models: Models) {
  const repo = createRepository(models);
  return (_req?: Request): Context => ({ repo, loaders: createLoaders(repo) });
}
