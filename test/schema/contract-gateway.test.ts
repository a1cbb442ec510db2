/**
 * The public contract through a real gateway: a gateway started with `contract: 'public'` serves
 * the public aggregate (joined across two subgraphs) and rejects personal-data fields of the
 * elderly register as unknown (GRAPHQL_VALIDATION_FAILED); the full gateway still serves them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createGatewayServer } from '../../gateway/server';
import type { Listening } from '../../lib/http';
import { createLogger } from '../../lib/logger';
import { LINK, post, startTinySubgraph, tempRepo, type RunningTiny, type TempRepo } from './helpers';

const PLACES = `${LINK}type Query {
  community(id: ID!): Community @tag(name: "public")
  "Internal note for bureau staff: not public."
  adminNote(id: ID!): String
}
type Community @key(fields: "id") @tag(name: "public") { id: ID! name: String! }
`;

const ELDERLY = `${LINK}type Query {
  "The register (personal data): never public."
  residentRecord(id: ID!): ElderlyResident
}
type Community @key(fields: "id") @tag(name: "public") {
  id: ID!
  elderlyStats: ElderlyStats!
  "Personal data of a public type's field: kept out of the contract by the internal tag."
  residents: [ElderlyResident!]! @tag(name: "internal")
}
"Aggregates only."
type ElderlyStats @tag(name: "public") { registered: Int livingAlone: Int }
type ElderlyResident @key(fields: "id") { id: ID! name: String! phone: String }
`;

const resident = { id: 'r1', name: '张某', phone: '13800000000' };

let repo: TempRepo;
let places: RunningTiny;
let elderly: RunningTiny;
let publicGw: Listening;
let fullGw: Listening;

beforeAll(async () => {
  repo = tempRepo('contract-');
  repo.write(
    [
      { name: 'places', owner: 'housing bureau', sdl: PLACES },
      { name: 'elderly', owner: 'civil affairs', sdl: ELDERLY },
    ],
    { contracts: 'contracts:\n  public:\n    include: [public]\n    exclude: [internal]\n' },
  );
  repo.compose();
  places = await startTinySubgraph(PLACES, {
    Query: { community: (_: unknown, { id }: { id: string }) => ({ id, name: '瑞金新村' }), adminNote: () => 'internal' },
    Community: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, name: '瑞金新村' }) },
  });
  elderly = await startTinySubgraph(ELDERLY, {
    Query: { residentRecord: () => resident },
    Community: {
      __resolveReference: (ref: { id: string }) => ref,
      elderlyStats: () => ({ registered: 120, livingAlone: 17 }),
      residents: () => [resident],
    },
    ElderlyResident: { __resolveReference: () => resident },
  });
  const start = (contract?: string) =>
    createGatewayServer({
      supergraphPath: path.join(repo.schemaDir, 'supergraph.graphql'),
      contract,
      watchSupergraph: false,
      subgraphUrls: { places: places.url, elderly: elderly.url },
      logger: createLogger('gateway', 'silent'),
    }).listen(0);
  publicGw = await start('public');
  fullGw = await start();
});

afterAll(async () => {
  await publicGw?.close();
  await fullGw?.close();
  await places?.stop();
  await elderly?.stop();
  repo?.remove();
});

describe('public contract gateway', () => {
  it('serves a public aggregate joined across subgraphs', async () => {
    const res = await post(publicGw.url, '{ community(id: "c1") { id name elderlyStats { registered livingAlone } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ community: { id: 'c1', name: '瑞金新村', elderlyStats: { registered: 120, livingAlone: 17 } } });
  });

  it('rejects an elderly personal-data field of a public type as unknown', async () => {
    const res = await post(publicGw.url, '{ community(id: "c1") { name residents { name phone } } }');
    expect(res.data).toBeUndefined();
    expect(res.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors?.[0].message).toMatch(/Cannot query field "residents" on type "Community"/);
  });

  it('rejects untagged root fields (the register, internal notes) as unknown', async () => {
    for (const q of ['{ residentRecord(id: "r1") { name } }', '{ adminNote(id: "c1") }']) {
      const res = await post(publicGw.url, q);
      expect(res.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(res.errors?.[0].message).toMatch(/Cannot query field "(residentRecord|adminNote)" on type "Query"/);
    }
  });

  it('does not show personal-data types in introspection or in the committed contract schema', async () => {
    const res = await post(publicGw.url, '{ __schema { types { name } } }');
    const names = (res.data!.__schema.types as { name: string }[]).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['Community', 'ElderlyStats']));
    expect(names).not.toContain('ElderlyResident');
    const api = readFileSync(path.join(repo.schemaDir, 'contracts', 'public.graphql'), 'utf8');
    expect(api).toMatch(/type ElderlyStats/);
    expect(api).not.toMatch(/ElderlyResident|residents|adminNote|phone/);
  });

  it('the full gateway (no contract) still serves those fields to bureau clients', async () => {
    const res = await post(fullGw.url, '{ community(id: "c1") { residents { name } } residentRecord(id: "r1") { phone } }');
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ community: { residents: [{ name: '张某' }] }, residentRecord: { phone: '13800000000' } });
  });

  it('names the known contracts when an unknown one is asked for', () => {
    expect(() =>
      createGatewayServer({ supergraphPath: path.join(repo.schemaDir, 'supergraph.graphql'), contract: 'partners', logger: createLogger('gateway', 'silent') }),
    ).toThrow(/unknown contract "partners".*known: public/);
  });
});
