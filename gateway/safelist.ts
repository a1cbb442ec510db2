/**
 * Persisted operations for production dashboards.
 *  - Automatic persisted queries (APQ) stay on (Apollo Server's own), with an LRU store whose size
 *    is bounded; operations from the manifest are always known, so a dashboard may send only the
 *    hash of a manifest operation even after a restart.
 *  - Safelist mode (optional): only operations whose sha256 is in the manifest are executed; any
 *    other gets `OPERATION_NOT_IN_SAFELIST` (HTTP 403) before it reaches a subgraph.
 *
 * Manifest formats accepted: Apollo's persisted query manifest
 * (`{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id","body",…}]}`,
 * as written by @apollo/generate-persisted-query-manifest), a JSON array of such operations or of
 * bare sha256 hashes, or an object `{ "<sha256>": "<body>" }`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';

export interface Manifest {
  /** sha256 hex of each operation body → body (empty when only the hash is known). */
  operations: Map<string, string>;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export function loadManifest(file: string): Manifest {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  return parseManifest(raw);
}

export function parseManifest(raw: unknown): Manifest {
  const operations = new Map<string, string>();
  const add = (entry: unknown) => {
    if (typeof entry === 'string') {
      if (!/^[0-9a-f]{64}$/i.test(entry)) throw new Error('safelist manifest: a bare entry must be a sha256 hex hash');
      operations.set(entry.toLowerCase(), '');
      return;
    }
    const op = entry as { id?: unknown; body?: unknown };
    if (typeof op?.body !== 'string') throw new Error('safelist manifest: every operation needs a "body"');
    const id = sha256(op.body);
    if (typeof op.id === 'string' && op.id.toLowerCase() !== id) {
      throw new Error(`safelist manifest: operation id ${op.id} is not the sha256 of its body`);
    }
    operations.set(id, op.body);
  };
  if (Array.isArray(raw)) raw.forEach(add);
  else if (raw && typeof raw === 'object' && Array.isArray((raw as { operations?: unknown }).operations)) {
    (raw as { operations: unknown[] }).operations.forEach(add);
  } else if (raw && typeof raw === 'object') {
    for (const [id, body] of Object.entries(raw as Record<string, unknown>)) add({ id, body });
  } else throw new Error('safelist manifest: expected an array or an object');
  return { operations };
}

/** Rejects operations whose hash is not in the manifest (runs after parsing, before execution). */
export function safelistPlugin(manifest: Manifest): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(ctx) {
          if (ctx.queryHash && manifest.operations.has(ctx.queryHash)) return;
          throw new GraphQLError(
            'this gateway only accepts operations from its safelist manifest; ask the graph owners to add this operation',
            { extensions: { code: 'OPERATION_NOT_IN_SAFELIST', http: { status: 403 } } },
          );
        },
      };
    },
  };
}

/**
 * The APQ store: a bounded LRU (Map order) with TTL, which also answers every manifest operation.
 * Apollo Server prefixes its keys with `apq:`.
 */
export class PersistedQueryStore {
  private readonly entries = new Map<string, { value: string; expires: number }>();

  constructor(
    private readonly maxEntries = 5000,
    private readonly manifest?: Manifest,
  ) {}

  async get(key: string): Promise<string | undefined> {
    const fromManifest = this.manifest?.operations.get(key.replace(/^apq:/, ''));
    if (fromManifest) return fromManifest;
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires < Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }

  async set(key: string, value: string, options?: { ttl?: number | null }): Promise<void> {
    const ttl = options?.ttl;
    this.entries.delete(key);
    this.entries.set(key, { value, expires: ttl ? Date.now() + ttl * 1000 : Number.POSITIVE_INFINITY });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  async delete(key: string): Promise<boolean> {
    return this.entries.delete(key);
  }
}
