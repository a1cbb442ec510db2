/**
 * Templates of `npm run subgraph:new`: every file of a new subgraph, following the conventions of
 * subgraphs/properties (SDL first, typed resolvers from codegen, thin resolvers over a repository,
 * per-request DataLoaders, aggregates in the database, idempotent seed, tests that read like
 * specifications). The sample entity `<Pascal>Record` and the fields added to `Community` are
 * meant to be renamed by the owning bureau.
 */
import { ACCESS_DIRECTIVES_SDL } from '../../lib/auth/directives';

export interface SubgraphNames {
  /** `parking-permits` */
  name: string;
  /** `parkingPermits` (identifiers, field prefixes) */
  camel: string;
  /** `ParkingPermits` (type prefixes) */
  pascal: string;
  /** `parking_permits` (collections) */
  snake: string;
  owner: string;
  port: number;
  team: string;
}

export function namesFor(name: string, owner: string, port: number, team: string): SubgraphNames {
  const parts = name.split('-').filter(Boolean);
  const pascal = parts.map((p) => p[0].toUpperCase() + p.slice(1)).join('');
  return { name, camel: pascal[0].toLowerCase() + pascal.slice(1), pascal, snake: parts.join('_'), owner, port, team };
}

/** Demo 小区 ids of the properties subgraph's seed (瑞金新村, 怡江苑): the join targets. */
export const DEMO_COMMUNITIES = ['cm_320104_0001', 'cm_320113_0001'] as const;

const q = (s: string) => JSON.stringify(s);

export function sdl(n: SubgraphNames): string {
  const R = `${n.pascal}Record`;
  return `# ${n.name} subgraph: owned by ${n.owner}.
# Scaffolded by \`npm run subgraph:new\`; rename the sample entity ${R} and the fields it adds to
# Community to your domain. This file is the subgraph's only schema text: the server, codegen and
# composition all read it. Tag what the public may see with @tag(name: "public") (see CONTRIBUTING.md).
# Access (docs/access.md), enforced by this subgraph itself through lib/auth: mark personal data
# @pii(category: PERSONAL | SENSITIVE) (readers need "${n.name}:pii" / "${n.name}:sensitive"), give
# every mutation @requiresScopes(scopes: [["${n.name}:write"]]) (a PARTNER token with
# partner "${n.name}" holds it) and, to open it to area-limited callers, @rowScope(by: [...], target:
# "input.communityId").
extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@tag", "@authenticated", "@requiresScopes", "@composeDirective"])
  @link(url: "https://city-community-graph.example/access/v1.0", import: ["@rowScope", "@pii"])
  @composeDirective(name: "@rowScope")
  @composeDirective(name: "@pii")
${ACCESS_DIRECTIVES_SDL}
type Query {
  "A ${R} by id."
  ${n.camel}Record(id: ID!): ${R} @tag(name: "public")
  "The ${R}s of a 小区, ordered by id."
  ${n.camel}Records(communityId: ID!): [${R}!]! @tag(name: "public")
}

# A 小区, owned by the properties subgraph (which describes it); this subgraph adds its records.
type Community @key(fields: "id") @tag(name: "public") {
  id: ID!
  "The ${n.name} records of this 小区."
  ${n.camel}Records: [${R}!]!
  "How many ${n.name} records this 小区 has (counted by the database)."
  ${n.camel}RecordCount: Int!
}

"""
A record owned by the ${n.name} subgraph (sample entity: rename it). Two keys: its id, and the
composite key of its 小区 and its code there (a nested selection, like a building keyed by
\`community { id } number\`); other subgraphs may reference it by either.
"""
type ${R} @key(fields: "id") @key(fields: "community { id } code") @tag(name: "public") {
  id: ID!
  "Unique within its 小区."
  code: String!
  name: String!
  "The 小区 the record belongs to (resolved by the properties subgraph through federation)."
  community: Community!
}
`;
}

export function codegenMappers(n: SubgraphNames): string {
  return (
    JSON.stringify(
      {
        Community: '../models#CommunityRef',
        [`${n.pascal}Record`]: '../models#RecordDoc',
      },
      null,
      2,
    ) + '\n'
  );
}

export function models(n: SubgraphNames): string {
  return `/**
 * Mongoose models of the ${n.name} subgraph (database \`city_${n.snake}\`). Schemas are inline with
 * \`InferSchemaType\`; every query shape served has its index declared next to the schema.
 */
import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { now } from '../../../lib/clock';
import { defineModel } from '../../../lib/db';

/** createdAt / updatedAt come from the product clock (lib/clock.ts), like every other domain time. */
const opts = { versionKey: false, timestamps: { currentTime: () => now() } } as const;

const recordSchema = new Schema(
  {
    _id: { type: String, required: true },
    /** Key of the 小区 (Community.id, owned by the properties subgraph). */
    communityId: { type: String, required: true },
    /** Unique within the 小区: with communityId, the composite key \`community { id } code\`. */
    code: { type: String, required: true },
    name: { type: String, required: true },
  },
  opts,
);
recordSchema.index({ communityId: 1, _id: 1 });
recordSchema.index({ communityId: 1, code: 1 }, { unique: true });

export type RecordDoc = InferSchemaType<typeof recordSchema> & { _id: string };

/** A 小区 as this subgraph sees it: only its key; the properties subgraph owns the rest. */
export interface CommunityRef {
  id: string;
}

export function registerModels(conn: Connection) {
  return {
    Record: defineModel(conn, ${q(`${n.pascal}Record`)}, recordSchema, ${q(`${n.snake}_records`)}),
  };
}
export type Models = ReturnType<typeof registerModels>;
`;
}

export function repository(n: SubgraphNames): string {
  return `/**
 * Data access of the ${n.name} subgraph. Every function is a batch (many keys, one database command)
 * so the DataLoaders in the context can sit in front of it. Counts are computed by the database.
 */
import type { Models, RecordDoc } from '../models';

export function createRepository(m: Models) {
  return {
    recordsById: (ids: readonly string[]) => m.Record.find({ _id: { $in: ids } }).lean<RecordDoc[]>().exec(),
    /** By the composite key (小区, code): one \`$or\` query for the whole batch. */
    recordsByCommunityCode: (keys: readonly { communityId: string; code: string }[]) =>
      m.Record.find({ $or: keys.map((k) => ({ communityId: k.communityId, code: k.code })) }).lean<RecordDoc[]>().exec(),
    recordsByCommunity: (communityIds: readonly string[]) =>
      m.Record.find({ communityId: { $in: communityIds } }).sort({ communityId: 1, _id: 1 }).lean<RecordDoc[]>().exec(),
    /** Number of records per 小区, in one aggregation. */
    recordCounts: (communityIds: readonly string[]) =>
      m.Record.aggregate<{ _id: string; count: number }>([
        { $match: { communityId: { $in: [...communityIds] } } },
        { $group: { _id: '$communityId', count: { $sum: 1 } } },
      ]),
  };
}
export type Repository = ReturnType<typeof createRepository>;
`;
}

export function loaders(n: SubgraphNames): string {
  return `/**
 * Per-request DataLoaders of the ${n.name} subgraph: every \`__resolveReference\` and every hop from a
 * list of 小区 to records goes through one of these, so a list of N 小区 costs one query per field.
 */
import DataLoader from 'dataloader';
import { entityLoader, groupLoader, keyedLoader } from '../../lib/loader';
import type { RecordDoc } from './models';
import type { Repository } from './services/repository';

export function createLoaders(repo: Repository) {
  return {
    record: entityLoader((ids) => repo.recordsById(ids), (r) => r._id),
    /** By the composite key \`community { id } code\`. */
    recordByCommunityCode: keyedLoader<{ communityId: string; code: string }, RecordDoc | null>(async (keys) => {
      const rows = new Map((await repo.recordsByCommunityCode(keys)).map((r) => [\`\${r.communityId}/\${r.code}\`, r]));
      return keys.map((k) => rows.get(\`\${k.communityId}/\${k.code}\`) ?? null);
    }),
    recordsByCommunity: groupLoader((ids) => repo.recordsByCommunity(ids), (r) => r.communityId),
    recordCount: new DataLoader<string, number>(async (ids) => {
      const counts = new Map((await repo.recordCounts(ids)).map((row) => [row._id, row.count]));
      return ids.map((id) => counts.get(id) ?? 0);
    }),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
`;
}

export function context(): string {
  return `import type { Request } from 'express';
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
`;
}

export function resolversIndex(n: SubgraphNames): string {
  return `import type { Resolvers } from '../__generated__/resolvers-types';
import { Community } from './community';
import { Query } from './query';
import { ${n.pascal}Record } from './record';

export const resolvers: Resolvers = {
  Query,
  Community,
  ${n.pascal}Record,
};
`;
}

export function resolversQuery(n: SubgraphNames): string {
  return `import type { QueryResolvers } from '../__generated__/resolvers-types';

export const Query: QueryResolvers = {
  ${n.camel}Record: (_p, { id }, { loaders }) => loaders.record.load(id),
  ${n.camel}Records: (_p, { communityId }, { loaders }) => loaders.recordsByCommunity.load(communityId),
};
`;
}

export function resolversCommunity(n: SubgraphNames): string {
  return `import type { CommunityResolvers } from '../__generated__/resolvers-types';

/** Community is owned by the properties subgraph; this subgraph only adds fields to it. */
export const Community: CommunityResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  ${n.camel}Records: (c, _a, { loaders }) => loaders.recordsByCommunity.load(c.id),
  ${n.camel}RecordCount: (c, _a, { loaders }) => loaders.recordCount.load(c.id),
};
`;
}

export function resolversRecord(n: SubgraphNames): string {
  return `import type { ${n.pascal}RecordResolvers } from '../__generated__/resolvers-types';

export const ${n.pascal}Record: ${n.pascal}RecordResolvers = {
  // Either key: \`id\`, or \`community { id } code\` (the access layer has checked the representation
  // against the keys of the SDL: scalars at the leaves, objects exactly where the key has them).
  __resolveReference: (ref, { loaders }) =>
    'id' in ref && ref.id != null
      ? loaders.record.load(ref.id)
      : loaders.recordByCommunityCode.load({ communityId: ref.community.id, code: ref.code }),
  id: (r) => r._id,
  community: (r) => ({ id: r.communityId }),
};
`;
}

export function seed(n: SubgraphNames): string {
  const [a, b] = DEMO_COMMUNITIES;
  return `/**
 * Demo data of the ${n.name} subgraph. Idempotent: every row is an upsert by its id, so seeding twice
 * creates no duplicates. Community ids are those of the properties subgraph's demo data.
 */
import type { Models } from './models';

export const DEMO_COMMUNITY_IDS = { ruijin: ${q(a)}, yijiang: ${q(b)} } as const;

export const demoRecords = [
  { _id: ${q(`${n.snake}_1`)}, communityId: DEMO_COMMUNITY_IDS.ruijin, code: 'A-1', name: ${q(`${n.name} record 1`)} },
  { _id: ${q(`${n.snake}_2`)}, communityId: DEMO_COMMUNITY_IDS.ruijin, code: 'A-2', name: ${q(`${n.name} record 2`)} },
  { _id: ${q(`${n.snake}_3`)}, communityId: DEMO_COMMUNITY_IDS.yijiang, code: 'A-1', name: ${q(`${n.name} record 3`)} },
];

export async function seed${n.pascal}(m: Models): Promise<number> {
  const ops = demoRecords.map((r) => ({ replaceOne: { filter: { _id: r._id }, replacement: r, upsert: true } }));
  await m.Record.bulkWrite(ops as never[]);
  return demoRecords.length;
}
`;
}

export function index(n: SubgraphNames): string {
  return `/**
 * ${n.name} subgraph (owner: ${n.owner}). Entry used by the start-up, the seed command and the
 * tests; what it serves is described in ./README.md.
 */
import path from 'node:path';
import { defineSubgraph } from '../../lib/subgraph-module';
import { contextFactory } from './context';
import { registerModels } from './models';
import { resolvers } from './resolvers';
import { seed${n.pascal} } from './seed';

export const SDL_PATH = path.join(__dirname, ${q(`../../schema/${n.name}.graphql`)});

export const subgraph = defineSubgraph({
  name: ${q(n.name)},
  owner: ${q(n.owner)},
  defaultPort: ${n.port},
  sdlPath: SDL_PATH,
  registerModels,
  resolvers,
  contextFactory,
  seed: seed${n.pascal},
  isEmpty: async (m) => (await m.Record.estimatedDocumentCount()) === 0,
});
`;
}

export function test(n: SubgraphNames): string {
  const R = `${n.pascal}Record`;
  return `import { readFileSync } from 'node:fs';
import { SDL_PATH, subgraph } from '..';
import { gql, startSubgraph, startTestDatabase, type Engine, type RunningSubgraph } from '../../../test/helpers/subgraph';
import { DEMO_COMMUNITY_IDS, demoRecords } from '../seed';

let engine: Engine;
let sg: RunningSubgraph;

beforeAll(async () => {
  engine = await startTestDatabase();
  sg = await startSubgraph(subgraph, engine.uri);
});
afterAll(async () => {
  await sg?.close();
  await engine?.stop();
});

describe('${n.name} subgraph', () => {
  it('serves its SDL file through _service { sdl }', async () => {
    const res = await gql(sg.url, '{ _service { sdl } }');
    expect(res.errors).toBeUndefined();
    const sdl: string = res.data!._service.sdl;
    for (const [, name] of readFileSync(SDL_PATH, 'utf8').matchAll(/^type (\\w+)/gm)) expect(sdl).toMatch(new RegExp(\`type \${name}\\\\b\`));
  });

  it('resolves Community entities with their records and count, in request order', async () => {
    const res = await gql(
      sg.url,
      \`query($r: [_Any!]!) { _entities(representations: $r) { ... on Community { id ${n.camel}RecordCount ${n.camel}Records { id name } } } }\`,
      { r: [{ __typename: 'Community', id: DEMO_COMMUNITY_IDS.yijiang }, { __typename: 'Community', id: 'cm_none' }, { __typename: 'Community', id: DEMO_COMMUNITY_IDS.ruijin }] },
    );
    expect(res.errors).toBeUndefined();
    const [yijiang, none, ruijin] = res.data!._entities;
    expect(yijiang.${n.camel}RecordCount).toBe(demoRecords.filter((r) => r.communityId === DEMO_COMMUNITY_IDS.yijiang).length);
    expect(none).toEqual({ id: 'cm_none', ${n.camel}RecordCount: 0, ${n.camel}Records: [] });
    expect(ruijin.${n.camel}Records.map((r: { id: string }) => r.id)).toEqual(
      demoRecords.filter((r) => r.communityId === DEMO_COMMUNITY_IDS.ruijin).map((r) => r._id),
    );
  });

  it('resolves ${R} entities by id and by the composite key community { id } code, with null for unknown keys', async () => {
    const [first, , third] = demoRecords;
    const res = await gql(sg.url, \`query($r: [_Any!]!) { _entities(representations: $r) { ... on ${R} { id code name community { id } } } }\`, {
      r: [
        { __typename: '${R}', id: first._id },
        { __typename: '${R}', id: 'nope' },
        { __typename: '${R}', community: { id: third.communityId }, code: third.code },
        { __typename: '${R}', community: { id: first.communityId }, code: 'Z-9' },
      ],
    });
    expect(res.errors).toBeUndefined();
    expect(res.data!._entities).toEqual([
      { id: first._id, code: first.code, name: first.name, community: { id: first.communityId } },
      null,
      { id: third._id, code: third.code, name: third.name, community: { id: third.communityId } },
      null,
    ]);
  });

  it('answers the root fields', async () => {
    const res = await gql(sg.url, \`query($c: ID!, $id: ID!) { ${n.camel}Records(communityId: $c) { id } ${n.camel}Record(id: $id) { name } }\`, {
      c: DEMO_COMMUNITY_IDS.ruijin,
      id: demoRecords[0]._id,
    });
    expect(res.errors).toBeUndefined();
    expect(res.data!.${n.camel}Records).toHaveLength(2);
    expect(res.data!.${n.camel}Record).toEqual({ name: demoRecords[0].name });
  });

  it('seeding twice creates no duplicates', async () => {
    await subgraph.seed(sg.conn);
    const res = await gql(sg.url, \`query($c: ID!) { ${n.camel}Records(communityId: $c) { id } }\`, { c: DEMO_COMMUNITY_IDS.ruijin });
    expect(res.data!.${n.camel}Records).toHaveLength(2);
  });

  it('answers /health with the database status', async () => {
    const res = await fetch(sg.url.replace('/graphql', '/health'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', database: 'up', service: ${q(n.name)} });
  });
});
`;
}

export function readme(n: SubgraphNames): string {
  const R = `${n.pascal}Record`;
  return `# ${n.name} subgraph

- **Owner:** ${n.owner} (code owners: \`${n.team}\`, see .github/CODEOWNERS).
- **Default port:** ${n.port} (\`${n.snake.toUpperCase()}_PORT\`), database \`city_${n.snake}\`
  (\`MONGODB_URI_${n.snake.toUpperCase()}\` or \`MONGODB_URI\`).
- **Schema:** \`schema/${n.name}.graphql\` (the only schema text, read at run time).
- Scaffolded by \`npm run subgraph:new\`: rename the sample entity \`${R}\` and its fields to your domain.

## Entities

| Entity | Key | Role here |
|---|---|---|
| \`${R}\` | \`id\`, and \`community { id } code\` (composite, nested) | owned |
| \`Community\` (小区) | \`id\` | extended: \`${n.camel}Records\`, \`${n.camel}RecordCount\` (owned by properties) |

## Layout

\`index.ts\` (the entry: \`subgraph = defineSubgraph({ … })\` from lib/subgraph-module.ts), \`context.ts\`
(per-request context and DataLoaders), \`loaders.ts\`, \`models/\` (mongoose schemas and indexes;
timestamps from the product clock, lib/clock.ts), \`services/repository.ts\` (batch data access;
aggregates in the database), \`resolvers/\` (one file per type, typed by
\`__generated__/resolvers-types.ts\`), \`seed.ts\` (idempotent demo data), \`test/\`.

## Changing the schema

Follow the checklist in CONTRIBUTING.md: edit \`schema/${n.name}.graphql\` → \`npm run codegen\` →
\`npm run compose\` → \`npm run schema:check\` → \`npm test\`.

\`\`\`sh
npm run start:subgraph -- ${n.name}     # this subgraph alone
npx jest subgraphs/${n.name}            # its tests
\`\`\`
`;
}
