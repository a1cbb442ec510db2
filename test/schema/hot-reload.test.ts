/**
 * The gateway reloads the supergraph file when it changes: `npm run compose` while it runs swaps
 * the schema with no failed request during the swap; a broken file is refused and the previous
 * supergraph keeps serving.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createGatewayServer } from '../../gateway/server';
import { createSupergraphSource, type ReloadResult } from '../../gateway/supergraph-source';
import type { Listening } from '../../lib/http';
import { createLogger } from '../../lib/logger';
import { LINK, post, startTinySubgraph, tempRepo, type RunningTiny, type TempRepo } from './helpers';

const V1 = `${LINK}type Query { community(id: ID!): Community }\ntype Community @key(fields: "id") { id: ID! name: String! }\n`;
const V2 = `${LINK}type Query { community(id: ID!): Community }\ntype Community @key(fields: "id") { id: ID! name: String! floors: Int }\n`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(predicate: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    if (await predicate()) return;
    await sleep(50);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

describe('gateway supergraph hot reload', () => {
  let repo: TempRepo;
  let places: RunningTiny;
  let gw: Listening;

  beforeAll(async () => {
    repo = tempRepo('reload-');
    repo.write([{ name: 'places', owner: 'housing bureau', sdl: V1 }]);
    repo.compose();
    // The subgraph already serves V2; the gateway only knows V1 until the supergraph changes.
    places = await startTinySubgraph(V2, {
      Query: { community: (_: unknown, { id }: { id: string }) => ({ id, name: '怡江苑', floors: 18 }) },
    });
    gw = await createGatewayServer({
      supergraphPath: path.join(repo.schemaDir, 'supergraph.graphql'),
      subgraphUrls: { places: places.url },
      logger: createLogger('gateway', 'silent'),
    }).listen(0);
  });

  afterAll(async () => {
    await gw?.close();
    await places?.stop();
    repo?.remove();
  });

  it('swaps the schema on `compose` with no failed request during the swap, and refuses a broken file', async () => {
    const before = await post(gw.url, '{ community(id: "c1") { floors } }');
    expect(before.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');

    let stop = false;
    const failures: unknown[] = [];
    let ok = 0;
    const loop = async () => {
      while (!stop) {
        try {
          const res = await post(gw.url, 'query Name { community(id: "c1") { id name } }');
          if (res.status !== 200 || res.errors || res.data?.community?.name !== '怡江苑') failures.push(res);
          else ok++;
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const loops = [loop(), loop(), loop(), loop()];
    await sleep(300);

    repo.write([{ name: 'places', owner: 'housing bureau', sdl: V2 }]);
    repo.compose(); // rewrites schema/supergraph.graphql while requests are in flight
    await waitFor(async () => !(await post(gw.url, '{ community(id: "c1") { floors } }')).errors, 15000);
    await sleep(300);

    // A broken file: refused, the V2 supergraph keeps serving.
    writeFileSync(path.join(repo.schemaDir, 'supergraph.graphql'), 'schema { query: Query ');
    await sleep(1000);
    stop = true;
    await Promise.all(loops);

    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(20);
    const after = await post(gw.url, '{ community(id: "c1") { name floors } }');
    expect(after.errors).toBeUndefined();
    expect(after.data).toEqual({ community: { name: '怡江苑', floors: 18 } });
  });
});

describe('supergraph source', () => {
  it('hands a valid new file to update and reports (without throwing) an empty, non-supergraph or rejected file', async () => {
    const repo = tempRepo('source-');
    try {
      repo.write([{ name: 'places', owner: 'housing bureau', sdl: V1 }]);
      repo.compose();
      const file = path.join(repo.schemaDir, 'supergraph.graphql');
      const results: ReloadResult[] = [];
      const updates: string[] = [];
      const source = createSupergraphSource({ file, logger: createLogger('gateway', 'silent'), debounceMs: 50, onReload: (r) => results.push(r) });
      const { supergraphSdl, cleanup } = await source.initialize({
        update: (sdl: string) => updates.push(sdl),
        healthCheck: async () => {},
        getDataSource: () => {
          throw new Error('unused');
        },
      });
      expect(supergraphSdl).toMatch(/join__Graph/);

      writeFileSync(file, '');
      await waitFor(() => results.length >= 1, 5000);
      expect(results[0]).toMatchObject({ ok: false, error: expect.stringMatching(/is empty/) });
      writeFileSync(file, 'type Query { a: Int }\n');
      await waitFor(() => results.length >= 2, 5000);
      expect(results[1]).toMatchObject({ ok: false, error: expect.stringMatching(/not a supergraph/) });
      expect(updates).toEqual([]);

      repo.write([{ name: 'places', owner: 'housing bureau', sdl: V2 }]);
      repo.compose();
      await waitFor(() => updates.length >= 1, 5000);
      expect(updates[0]).toMatch(/floors: Int/);
      expect(results[results.length - 1]).toMatchObject({ ok: true });

      // update() throwing (the gateway rejects the supergraph) is reported, not thrown.
      const throwing = createSupergraphSource({ file, logger: createLogger('gateway', 'silent'), debounceMs: 50, onReload: (r) => results.push(r) });
      const second = await throwing.initialize({
        update: () => {
          throw new Error('invalid supergraph');
        },
        healthCheck: async () => {},
        getDataSource: () => {
          throw new Error('unused');
        },
      });
      const n = results.length;
      writeFileSync(file, supergraphSdl); // V1 again: valid text, refused by update
      await waitFor(() => results.slice(n).some((r) => !r.ok && /invalid supergraph/.test(r.error)), 5000);
      await cleanup?.();
      await second.cleanup?.();
    } finally {
      repo.remove();
    }
  });
});
