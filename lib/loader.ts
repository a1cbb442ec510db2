/**
 * DataLoader helpers. Loaders are created per request in each subgraph's context function, never at
 * module scope. Batch functions return results in key order, with null (or []) for misses.
 */
import DataLoader from 'dataloader';

/** One entity per key (e.g. `_id $in keys`). */
export function entityLoader<V>(
  fetchMany: (keys: readonly string[]) => Promise<V[]>,
  keyOf: (value: V) => string,
): DataLoader<string, V | null> {
  return new DataLoader<string, V | null>(async (keys) => {
    const rows = await fetchMany(keys);
    const byKey = new Map<string, V>();
    for (const row of rows) byKey.set(keyOf(row), row);
    return keys.map((k) => byKey.get(k) ?? null);
  });
}

/** Many values per key (e.g. all meetings of each community in one `$in` query). */
export function groupLoader<V>(
  fetchMany: (keys: readonly string[]) => Promise<V[]>,
  keyOf: (value: V) => string | readonly string[],
): DataLoader<string, V[]> {
  return new DataLoader<string, V[]>(async (keys) => {
    const rows = await fetchMany(keys);
    const byKey = new Map<string, V[]>();
    for (const row of rows) {
      const k = keyOf(row);
      for (const key of Array.isArray(k) ? k : [k as string]) {
        const list = byKey.get(key);
        if (list) list.push(row);
        else byKey.set(key, [row]);
      }
    }
    return keys.map((k) => byKey.get(k) ?? []);
  });
}

/**
 * A loader whose key carries arguments too (e.g. `{ code, period }`): keys are compared by their
 * JSON form so equal argument objects share one load.
 */
export function keyedLoader<K extends object, V>(
  batch: (keys: readonly K[]) => Promise<V[]>,
): DataLoader<K, V, string> {
  return new DataLoader<K, V, string>(async (keys) => batch(keys), { cacheKeyFn: (k) => JSON.stringify(k) });
}
