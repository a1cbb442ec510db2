/**
 * Thin wrappers around mingo that avoid its per-call cost of copying the whole operator context
 * (`new Query()` from the package root copies ~300 operators every time, ~30 µs). We capture one
 * fully initialised options object and reuse it: mingo treats a ComputeOptions instance as
 * already initialised and only copies its (small) locals.
 */
import { Context, Query as RootQuery } from 'mingo';
import { FIX_EXPRESSION_OPS, FIX_QUERY_OPS, rewriteFilter } from './fixes';
// The repo resolves modules the node10 way (no "exports" subpaths for types), so the subpath
// modules are required at run time and typed from their declaration files.
import type * as QueryModule from 'mingo/types/query';
import type { AnyObject, Options } from 'mingo/types/types';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Query: BaseQuery } = require('mingo/query') as typeof QueryModule;
type BaseQuery = QueryModule.Query;

let shared: Options | null = null;

function sharedOptions(): Options {
  if (!shared) {
    const ctx = Context.init({
      expression: FIX_EXPRESSION_OPS as never,
      query: {
        ...(FIX_QUERY_OPS as unknown as Record<string, never>),
        $__embeddedCapture: ((_selector: string, _value: unknown, options: Options) => {
          shared = options;
          return () => true;
        }) as never,
      },
    });
    new RootQuery({ a: { $__embeddedCapture: 1 } }, { context: ctx });
    if (!shared) throw new Error('embedded-mongo: could not initialise mingo options');
  }
  return shared;
}

/** A compiled mingo query with the full default operator set (plus our fixes, see fixes.ts). */
export function makeQuery(filter: AnyObject): BaseQuery {
  return new BaseQuery(rewriteFilter(filter) as AnyObject, sharedOptions());
}

export type { BaseQuery as MingoQuery };
