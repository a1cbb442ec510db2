/**
 * `npm run schema:check` against synthetic base schemas in temporary git repositories: breaking
 * changes fail with one message naming the field and the owning subgraph, the deprecation policy
 * lets a deprecated field go later, dangerous changes warn, stale generated files fail.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runSchemaCheck } from '../../schema/checks';
import { LINK, tempRepo, type SyntheticSubgraph, type TempRepo } from './helpers';

const HOUSING = '市住房保障和房产局 (housing bureau)';
const CIVIL = '民政局 居家养老 (civil affairs)';

const places = (fields = 'name: String!\n  households: Int', extraQuery = ''): SyntheticSubgraph => ({
  name: 'places',
  owner: HOUSING,
  sdl: `${LINK}type Query { community(id: ID!): Community ${extraQuery} }
type Community @key(fields: "id") { id: ID!
  ${fields} }
enum HousingType { REFORM RESETTLEMENT COMMERCIAL }
type Building @key(fields: "id") { id: ID! housingType: HousingType }
`,
});

const care = (communityFields = 'careTeamCount: Int!'): SyntheticSubgraph => ({
  name: 'care',
  owner: CIVIL,
  sdl: `${LINK}type Community @key(fields: "id") { id: ID!
  ${communityFields} }
`,
});

let repo: TempRepo;
beforeEach(() => {
  repo = tempRepo();
  repo.write([places(), care()]);
  repo.compose();
  repo.commit('base');
});
afterEach(() => repo.remove());

/** Writes a change, recomposes (as the checklist says) and runs the check against HEAD. */
async function change(subgraphs: SyntheticSubgraph[]) {
  repo.write(subgraphs);
  repo.compose();
  return runSchemaCheck({ schemaDir: repo.schemaDir, base: 'HEAD' });
}

describe('schema:check', () => {
  it('passes when nothing changed against the base', async () => {
    const res = await runSchemaCheck({ schemaDir: repo.schemaDir });
    expect(res.errors).toEqual([]);
    expect(res.ok).toBe(true);
    expect(res.notes.join('\n')).toMatch(/compared the API schema with main: 0 change/);
  });

  it('fails when a field that exists on the base is removed, naming the field and its owner', async () => {
    const res = await change([places(), care('id2: ID')]);
    expect(res.ok).toBe(false);
    expect(res.breaking).toEqual([expect.objectContaining({ type: 'FIELD_REMOVED', path: 'Community.careTeamCount' })]);
    expect(res.errors).toHaveLength(1);
    expect(res.errors[0]).toContain('Community.careTeamCount');
    expect(res.errors[0]).toContain(`care (${CIVIL})`);
    expect(res.errors[0]).not.toContain('places');
    expect(res.errors[0]).toMatch(/Deprecate it first/);
  });

  it('lets a field go once it was deprecated with a reason on the base (deprecate first, remove later)', async () => {
    // Step 1: deprecate. Adding a deprecation is not breaking.
    const step1 = await change([places(), care('careTeamCount: Int! @deprecated(reason: "Use careTeams { id } instead; removed after 2027-01")')]);
    expect(step1.errors).toEqual([]);
    expect(step1.ok).toBe(true);
    repo.commit('deprecate Community.careTeamCount');
    // Step 2: remove. Allowed because the base has the deprecation with a reason.
    const step2 = await change([places(), care('id2: ID')]);
    expect(step2.errors).toEqual([]);
    expect(step2.ok).toBe(true);
    expect(step2.notes.join('\n')).toMatch(/allowed: .*careTeamCount.*deprecated on the base: "Use careTeams/);
  });

  it('does not accept a deprecation without a reason as notice', async () => {
    await change([places(), care('careTeamCount: Int! @deprecated')]);
    repo.commit('deprecate without reason');
    const res = await change([places(), care('id2: ID')]);
    expect(res.ok).toBe(false);
    expect(res.errors[0]).toContain('Community.careTeamCount');
  });

  it('reports retyped fields, required arguments and removed enum values, one message each with the owner', async () => {
    const changed = places('name: String!\n  households: String', 'byName(name: String!): Community');
    changed.sdl = changed.sdl.replace('REFORM RESETTLEMENT COMMERCIAL', 'REFORM COMMERCIAL').replace('community(id: ID!)', 'community(id: ID!, city: ID!)');
    const res = await change([changed, care()]);
    expect(res.ok).toBe(false);
    const byPath = Object.fromEntries(res.breaking.map((b) => [b.path, b.type]));
    expect(byPath).toMatchObject({
      'Community.households': 'FIELD_TYPE_CHANGED',
      'HousingType.RESETTLEMENT': 'ENUM_VALUE_REMOVED',
      'Query.community.city': 'FIELD_ARGUMENT_ADDED',
    });
    expect(res.errors.length).toBe(res.breaking.length);
    for (const e of res.errors) expect(e).toContain(`places (${HOUSING})`);
  });

  it('warns on dangerous changes without failing', async () => {
    const changed = places();
    changed.sdl = changed.sdl.replace('REFORM RESETTLEMENT COMMERCIAL', 'REFORM RESETTLEMENT COMMERCIAL AFFORDABLE');
    const res = await change([changed, care()]);
    expect(res.ok).toBe(true);
    expect(res.warnings.join('\n')).toMatch(/DANGEROUS ENUM_VALUE_ADDED HousingType.AFFORDABLE \[owner: places/);
  });

  it('fails when the committed supergraph is out of date with the SDL files', async () => {
    repo.write([places('name: String!\n  households: Int\n  floors: Int'), care()]); // no compose
    const res = await runSchemaCheck({ schemaDir: repo.schemaDir, base: 'HEAD' });
    expect(res.ok).toBe(false);
    expect(res.errors.join('\n')).toMatch(/supergraph\.graphql is out of date: run `npm run compose`/);
  });

  it('fails with the subgraph names when the change does not compose', async () => {
    const res = await change([places(), care('careTeamCount: Int!\n  households: String')]).catch((e: Error) => e);
    // compose() itself refuses; the check reports the same problem when run on the files.
    expect(res).toBeInstanceOf(Error);
    writeFileSync(path.join(repo.schemaDir, 'care.graphql'), care('careTeamCount: Int!\n  households: String').sdl);
    const check = await runSchemaCheck({ schemaDir: repo.schemaDir, base: 'HEAD' });
    expect(check.ok).toBe(false);
    expect(check.errors.join('\n')).toMatch(/Community\.households \(subgraphs (places, care|care, places)\)/);
  });

  it('names a missing base ref', async () => {
    const res = await runSchemaCheck({ schemaDir: repo.schemaDir, base: 'no-such-branch' });
    expect(res.ok).toBe(false);
    expect(res.errors).toContain('base ref "no-such-branch" not found');
  });
});

describe('schema:check on contracts', () => {
  const CONTRACTS = 'contracts:\n  public:\n    include: [public]\n    exclude: [internal]\n';
  const sg = (statsTag: string, extra = ''): SyntheticSubgraph[] => [
    { name: 'places', owner: HOUSING, sdl: `${LINK}type Query { community(id: ID!): Community @tag(name: "public") }\ntype Community @key(fields: "id") @tag(name: "public") { id: ID! name: String! }\n` },
    { name: 'care', owner: CIVIL, sdl: `${LINK}type Community @key(fields: "id") @tag(name: "public") { id: ID!\n  visitRate: Float ${statsTag}\n  ${extra} }\n` },
  ];
  let r: TempRepo;
  beforeEach(() => {
    r = tempRepo();
    r.write(sg(''), { contracts: CONTRACTS });
    r.compose();
    r.commit('base');
  });
  afterEach(() => r.remove());

  it('fails when a field leaves the public contract (tagged internal), naming the contract and the owner', async () => {
    r.write(sg('@tag(name: "internal")'), { contracts: CONTRACTS });
    r.compose();
    const res = await runSchemaCheck({ schemaDir: r.schemaDir, base: 'HEAD' });
    expect(res.ok).toBe(false);
    expect(res.errors).toHaveLength(1);
    expect(res.errors[0]).toMatch(/^\[contract public\] BREAKING FIELD_REMOVED Community\.visitRate \[owner: care/);
  });

  it('reports a removed public field once, not once per API', async () => {
    r.write(sg('', 'n: Int').map((s) => (s.name === 'care' ? { ...s, sdl: s.sdl.replace('visitRate: Float', '') } : s)), { contracts: CONTRACTS });
    r.compose();
    const res = await runSchemaCheck({ schemaDir: r.schemaDir, base: 'HEAD' });
    expect(res.errors).toHaveLength(1);
    expect(res.errors[0]).toMatch(/^BREAKING FIELD_REMOVED Community\.visitRate/);
  });
});
