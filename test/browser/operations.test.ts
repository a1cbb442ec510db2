/**
 * The dashboard's operations files (dashboard/operations/*.graphql) are what the app sends, what the
 * safelist manifest holds and what `npm run schema:check` validates: a schema change that breaks
 * the dashboard fails the check, and a gateway in safelist mode accepts exactly these operations.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSchema } from 'graphql';
import { buildUiIfStale, DIST_DIR } from '../../dashboard/build';
import { loadOperations, OPERATIONS_DIR, safelistManifest, validateOperations } from '../../dashboard/operations';
import { parseManifest } from '../../gateway/safelist';
import { createGatewayServer } from '../../gateway/server';
import { createLogger } from '../../lib/logger';
import type { Listening } from '../../lib/http';
import { runSchemaCheck } from '../../schema/checks';
import { composeFromYaml, SCHEMA_DIR } from '../../schema/composition';
import { DEFAULT_SUPERGRAPH } from '../../scripts/stack';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'dashboard-ops-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('every dashboard operation is named and valid against the composed API schema', () => {
  const ops = loadOperations();
  expect(ops.map((o) => o.name).sort()).toEqual(
    ['Cities', 'CityAlliances', 'CityOverview', 'CommunityProfile', 'CommunitySearch', 'CommunityTickets', 'DistrictCommunities', 'DistrictRanking', 'DistrictView', 'ElderlyDue'].sort(),
  );
  const composed = composeFromYaml();
  expect(validateOperations(buildSchema(composed.apiSdl!), ops)).toEqual([]);
});

test('the built safelist manifest holds every operation body under its sha256 and the gateway reads it', async () => {
  await buildUiIfStale(() => undefined);
  const file = path.join(DIST_DIR, 'safelist.json');
  const written = JSON.parse(readFileSync(file, 'utf8'));
  expect(written).toEqual(safelistManifest());
  const manifest = parseManifest(written); // throws when an id is not the sha256 of its body
  expect([...manifest.operations.values()].sort()).toEqual(loadOperations().map((o) => o.body).sort());
}, 120_000);

test('schema:check fails naming the operation when a field the dashboard reads leaves the API schema', async () => {
  const schemaDir = path.join(tmp, 'schema');
  cpSync(SCHEMA_DIR, schemaDir, { recursive: true, filter: (src) => !src.endsWith('.ts') });
  mkdirSync(path.join(tmp, 'dashboard'), { recursive: true });
  cpSync(OPERATIONS_DIR, path.join(tmp, 'dashboard', 'operations'), { recursive: true });
  const healthy = await runSchemaCheck({ schemaDir, skipUpToDate: true });
  expect(healthy.errors).toEqual([]);
  expect(healthy.notes).toContain('dashboard operations valid against the API schema (10 operations)');

  // properties drops City.oldCommunityCount (no deprecation): the city overview reads it.
  const sdlFile = path.join(schemaDir, 'properties.graphql');
  const sdl = readFileSync(sdlFile, 'utf8');
  const cityType = sdl.indexOf('type City ');
  const field = sdl.indexOf('  oldCommunityCount: Int!', cityType);
  expect(cityType).toBeGreaterThan(-1);
  expect(field).toBeGreaterThan(cityType);
  writeFileSync(sdlFile, sdl.slice(0, field) + sdl.slice(sdl.indexOf('\n', field) + 1));
  const broken = await runSchemaCheck({ schemaDir, skipUpToDate: true });
  expect(broken.ok).toBe(false);
  expect(broken.errors).toEqual([
    expect.stringMatching(/^dashboard operation dashboard\/operations\/CityOverview\.graphql: CityOverview: Cannot query field "oldCommunityCount" on type "City"\..*see the deprecation policy\)$/),
  ]);
}, 120_000);

test('a gateway in safelist mode with the manifest runs the dashboard\'s operations and refuses any other', async () => {
  await buildUiIfStale(() => undefined);
  const nowhere = 'http://127.0.0.1:9/graphql';
  const server = createGatewayServer({
    supergraphPath: DEFAULT_SUPERGRAPH,
    watchSupergraph: false,
    subgraphUrls: { properties: nowhere, governance: nowhere, elderly: nowhere, renovation: nowhere },
    logger: createLogger('gateway', 'silent'),
    tuning: { safelistFile: path.join(DIST_DIR, 'safelist.json') },
  });
  const running: Listening = await server.listen(0);
  try {
    const post = async (query: string, operationName?: string) => {
      const r = await fetch(running.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, operationName }) });
      return { status: r.status, codes: (((await r.json()) as { errors?: { extensions?: { code?: string } }[] }).errors ?? []).map((e) => e.extensions?.code) };
    };
    const cities = loadOperations().find((o) => o.name === 'Cities')!;
    const allowed = await post(cities.body, 'Cities');
    // Let through (the subgraph is down here, so it answers SUBGRAPH_UNAVAILABLE, not a safelist refusal).
    expect(allowed.codes).not.toContain('OPERATION_NOT_IN_SAFELIST');
    const refused = await post('query Other { cities { code name } }', 'Other');
    expect(refused).toEqual({ status: 403, codes: ['OPERATION_NOT_IN_SAFELIST'] });
  } finally {
    await running.close();
  }
}, 60_000);
