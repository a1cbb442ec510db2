import type { Request } from 'express';
import type { RowFilter } from '../../lib/auth/directives';
import { ANONYMOUS, type AuthContext } from '../../lib/auth/context';
import { createLoaders, type Loaders } from './loaders';
import type { Models } from './models';
import { createRepository, type Repository } from './services/repository';

export interface Context {
  repo: Repository;
  loaders: Loaders;
  /**
   * Whether the caller may see individual-level figures (unsuppressed small counts). False for
   * everyone until the authorization layer (JWT scopes) decides it per request.
   */
  individualAccess: boolean;
  /**
   * The caller's area as a database filter for a row-scoped type (ElderlyResident, HomeVisit); set
   * per request by the access layer (lib/auth). Until then it matches nothing (fail closed).
   */
  rowFilter: (typeName: string) => RowFilter;
  /** The verified caller; set per request by the access layer (anonymous until then). */
  auth: AuthContext;
}

export interface ContextOptions {
  /** Decides individual-level access per request; default: nobody has it. */
  individualAccess?: (req?: Request) => boolean;
  /**
   * Clock used by due dates and "last 30 days" figures; default: the product clock (lib/clock.ts).
   * Tests may pin it here for one server.
   */
  now?: () => Date;
}

/** Builds a fresh context (and fresh DataLoaders) for every request. */
export function contextFactory(models: Models, opts: ContextOptions = {}) {
  const repo = createRepository(models, opts.now);
  return (req?: Request): Context => ({
    repo,
    loaders: createLoaders(repo),
    individualAccess: opts.individualAccess?.(req) ?? false,
    rowFilter: () => ({ _id: { $in: [] } }),
    auth: ANONYMOUS,
  });
}
