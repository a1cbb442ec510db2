/**
 * Operator injection through the gateway, in every field of every input-object (filter) argument
 * of every bureau query: objects such as `{ "$ne": null }` are refused by GraphQL typing before any
 * resolver runs (400 BAD_USER_INPUT), and operator-looking strings are only strings (never a 5xx,
 * never an internal error). The services keep serving.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getNamedType, isEnumType, isInputObjectType, isLeafType, isNonNullType, isScalarType, type GraphQLInputObjectType, type GraphQLInputType } from 'graphql';
import { startStack, type RunningStack } from '../../scripts/stack';
import { BUREAU_SUBGRAPHS } from '../../lib/auth/roles';
import { dummy, schemaOf } from './sdl-mutations';
import { q } from './helpers';
import { adminHeader, startSubgraph, startTestDatabase, type Engine, type RunningSubgraph } from '../helpers/subgraph';
import { productsSubgraph } from '../partner-federation/products';

jest.setTimeout(180_000);

let stack: RunningStack;
beforeAll(async () => {
  process.env.JWT_KEY_DIR = mkdtempSync(path.join(os.tmpdir(), 'ccg-inj-keys-'));
  stack = await startStack({ seed: 'always', logLevel: 'silent' });
});
afterAll(async () => stack?.stop());

function jsonDummy(type: GraphQLInputType): unknown {
  const named = getNamedType(type);
  if (isEnumType(named)) return named.getValues()[0]!.name;
  if (isInputObjectType(named)) return requiredOf(named);
  if (isScalarType(named)) return ({ Int: 1, SafeInt: 1, Float: 1.5, Boolean: false, DateTime: '2020-01-01T00:00:00.000Z' } as Record<string, unknown>)[named.name] ?? 'x';
  return null;
}
function requiredOf(t: GraphQLInputObjectType): Record<string, unknown> {
  return Object.fromEntries(Object.values(t.getFields()).filter((f) => isNonNullType(f.type) && f.defaultValue === undefined).map((f) => [f.name, jsonDummy(f.type)]));
}

interface Case {
  name: string;
  query: string;
  variables: (field: string, value: unknown) => Record<string, unknown>;
  fields: { name: string; stringy: boolean; customScalar: boolean }[];
}

const cases: Case[] = [];
for (const sg of BUREAU_SUBGRAPHS) {
  const schema = schemaOf(sg);
  for (const f of Object.values(schema.getQueryType()!.getFields())) {
    if (f.name.startsWith('_')) continue;
    for (const arg of f.args) {
      const named = getNamedType(arg.type);
      if (!isInputObjectType(named)) continue;
      const others = f.args
        .filter((a) => a !== arg && isNonNullType(a.type) && a.defaultValue === undefined)
        .map((a) => `${a.name}: ${dummy(a.type)}`);
      const selection = isLeafType(getNamedType(f.type)) ? '' : ' { __typename }';
      cases.push({
        name: `${sg}: ${f.name}(${arg.name})`,
        query: `query($v: ${arg.type.toString()}) { ${f.name}(${[`${arg.name}: $v`, ...others].join(', ')})${selection} }`,
        variables: (field, value) => ({ v: { ...requiredOf(named), [field]: value } }),
        fields: Object.values(named.getFields()).map((x) => {
          const t = getNamedType(x.type);
          return { name: x.name, stringy: ['String', 'ID'].includes(t.name), customScalar: isScalarType(t) && !['String', 'ID', 'Int', 'Float', 'Boolean'].includes(t.name) };
        }),
      });
    }
  }
}

test('there are filter arguments to attack', () => {
  expect(cases.length).toBeGreaterThanOrEqual(5);
});

describe.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
  test.each(c.fields.map((f) => [f.name, f] as const))('field %s: operator objects are refused, operator strings are plain strings', async (_f, field) => {
    for (const attack of [{ $ne: null }, { $gt: '' }, { $where: 'sleep(1000)' }, { $regex: '.*' }]) {
      const r = await q(stack.gatewayUrl, c.query, {}, c.variables(field.name, attack));
      // Built-in scalars and enums are refused by the gateway (400); custom scalars (DateTime) by the
      // owning subgraph's scalar parser (the gateway passes them through): BAD_USER_INPUT, no data.
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(field.customScalar ? [200, 400] : [400]).toContain(r.status);
      expect(Object.values(r.data ?? {}).every((v) => v === null)).toBe(true);
    }
    if (field.stringy) {
      // As the city administrator, so that queries behind a scope reach their resolvers too.
      const r = await q(stack.gatewayUrl, c.query, await adminHeader(), c.variables(field.name, '{"$ne": null}'));
      expect(r.status).toBeLessThan(500);
      expect(r.errors?.map((e) => e.extensions?.code) ?? []).not.toContain('INTERNAL_SERVER_ERROR');
    }
  });
});

describe('_entities sent straight to each bureau subgraph', () => {
  test.each([...BUREAU_SUBGRAPHS])('%s: an operator object as an entity key is BAD_USER_INPUT, no database message, no data', async (name) => {
    const sg = stack.subgraphs.find((x) => x.name === name)!;
    const schema = schemaOf(name);
    const entityTypes = Object.values(schema.getTypeMap()).filter((t) => (t.astNode as { directives?: { name: { value: string } }[] } | undefined)?.directives?.some((d) => d.name.value === 'key'));
    expect(entityTypes.length).toBeGreaterThan(0);
    for (const t of entityTypes) {
      const keyField = (t.astNode as any).directives.find((d: any) => d.name.value === 'key').arguments[0].value.value.split(/\s+/)[0] as string;
      const r = await q(sg.url, `query($r: [_Any!]!) { _entities(representations: $r) { __typename } }`, {}, { r: [{ __typename: t.name, [keyField]: { $gt: '' } }] });
      expect([t.name, r.errors?.[0]?.extensions?.code]).toEqual([t.name, 'BAD_USER_INPUT']);
      expect(JSON.stringify(r)).not.toMatch(/Cast to|mongoose|MongoServerError|at path/);
    }
  });
});

describe('_entities of a partner subgraph whose keys are composite and nested (test/partner-federation)', () => {
  let engine: Engine;
  let products: RunningSubgraph;
  beforeAll(async () => {
    engine = await startTestDatabase();
    products = await startSubgraph(productsSubgraph, engine.uri);
  });
  afterAll(async () => {
    await products?.close();
    await engine?.stop();
  });
  const entities = (reps: unknown[]) =>
    q(products.url, 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id } ... on ProductResearch { outcome } ... on Building { floors } } }', {}, { r: reps });

  test.each([
    ['an operator inside a nested key', { __typename: 'ProductResearch', study: { caseNumber: { $gt: '' } } }, 'representations.study.caseNumber: the key of ProductResearch must be a scalar, not an object'],
    ['a key object with an extra field', { __typename: 'ProductResearch', study: { caseNumber: 'CASE-1', title: 'x' } }, 'representations.study.title: not part of the key of ProductResearch { caseNumber }'],
    ['a $-name inside a key object', { __typename: 'Building', community: { id: 'cm_320104_0001', $where: 'sleep(1000)' }, number: '7' }, 'representations.community.$where: operators are not accepted in a representation'],
    ['an operator in a composite key', { __typename: 'Product', sku: 'sk-1', variation: { id: { $ne: null } } }, 'representations.variation.id: the key of Product must be a scalar, not an object'],
    ['a list where the key holds a scalar', { __typename: 'Product', sku: 'sk-1', package: ['box', 'crate'] }, 'representations.package: the key of Product must be a scalar, not an object'],
    ['a scalar where the key holds an object', { __typename: 'ProductResearch', study: 'CASE-1' }, 'representations.study: the key of ProductResearch must be an object { caseNumber }'],
    ['a key object missing a field', { __typename: 'Building', community: {}, number: '7' }, 'representations.community.id: missing (the key of Building { id })'],
    ['a top-level operator', { __typename: 'Product', $or: [{ id: 'p1' }], id: 'p1' }, 'representations.$or: operators are not accepted in a representation'],
    ['no complete key', { __typename: 'Product', sku: 'sk-1' }, 'representations: a Product representation must carry one of its keys: "id" or "sku package" or "sku variation { id }"'],
    ['an object under a name the type does not have', { __typename: 'Product', id: 'p1', filter: { $gt: '' } }, 'representations.filter: Product has no field filter'],
  ])('%s is BAD_USER_INPUT naming the path, no database message, no data', async (_what, rep, message) => {
    const r = await entities([rep]);
    expect([r.errors?.map((e) => [e.extensions?.code, e.message]), r.data?._entities]).toEqual([[['BAD_USER_INPUT', message]], [null]]);
    expect(JSON.stringify(r)).not.toMatch(/Cast to|mongoose|MongoServerError|at path/);
  });

  test('a refused representation answers in its own place; the valid ones next to it resolve', async () => {
    const r = await entities([
      { __typename: 'ProductResearch', study: { caseNumber: 'CASE-1' } },
      { __typename: 'ProductResearch', study: { caseNumber: { $gt: '' } } },
      { __typename: 'Building', community: { id: 'cm_320104_0001' }, number: '7' },
    ]);
    expect(r.data?._entities).toEqual([{ outcome: 'passed' }, null, { floors: 6 }]);
    expect(r.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['_entities', 1], 'BAD_USER_INPUT']]);
  });
});

test('the services keep serving after the attacks', async () => {
  const r = await q(stack.gatewayUrl, '{ cities { code } }');
  expect(r.status).toBe(200);
  expect(r.data.cities.length).toBeGreaterThan(0);
});
