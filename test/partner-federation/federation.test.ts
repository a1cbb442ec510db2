/**
 * A partner's Federation 2 subgraph on the project's factory ("products", test/partner-federation/
 * products.ts: mongoose on the embedded engine, per-request DataLoaders) composed with a second
 * subgraph ("inventory") behind the project's gateway and behind a stock `@apollo/gateway`
 * (IntrospectAndCompose, reading `_service { sdl }`). Every Federation 2 feature the partner uses
 * has an assertion on the data it produces: single, multiple, composite and nested keys,
 * @requires, @provides, @shareable, @override, @inaccessible, @interfaceObject, @composeDirective,
 * @tag, @link (with a renamed import), _service, row scoping of an entity with a nested key, and
 * federated traces (ftv1).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { Trace } from '@apollo/usage-reporting-protobuf';
import { parse } from 'graphql';
import type { Connection } from 'mongoose';
import { createGatewayServer, type GatewayServer } from '../../gateway/server';
import { connectDatabase } from '../../lib/db';
import type { Listening } from '../../lib/http';
import { createLogger } from '../../lib/logger';
import { loadConfig } from '../../lib/config';
import { createSubgraphServer } from '../../lib/subgraph-server';
import { gql, startTestDatabase, uniqueDbName, type Engine } from '../helpers/subgraph';
import { authHeader } from '../helpers/tokens';
import { inventoryServer, INVENTORY_SDL, type InventoryCounters } from './inventory';
import { contextFactory, DEMO, PRODUCTS_SDL, productsSubgraph, registerModels, resolvers } from './products';

jest.setTimeout(120_000);
process.env.JWT_KEY_DIR = mkdtempSync(path.join(os.tmpdir(), 'ccg-partner-fed-keys-'));

let engine: Engine;
let conn: Connection;
const running: Listening[] = [];
let productsUrl = '';
let inventoryUrl = '';
let inventory: InventoryCounters;
const queries: string[] = [];
let supergraphSdl = '';
let projectGateway: GatewayServer;
let projectUrl = '';
let stock: ApolloServer<{ authorization?: string }>;
let stockGateway: ApolloGateway;
/** The supergraph each gateway loaded. */
const loaded = { project: '', stock: '' };

/** The query plan trace of the last gateway request (ftv1 traces of the subgraphs inside). */
const planTraces: { project?: Trace.IQueryPlanNode | null; stock?: Trace.IQueryPlanNode | null } = {};
/** Asks every subgraph for its ftv1 trace (as Apollo's usage reporting does) and keeps the plan trace. */
function tracePlugin<C extends BaseContext>(which: 'project' | 'stock'): ApolloServerPlugin<C> {
  return {
    async requestDidStart({ metrics }) {
      metrics.captureTraces = true;
      return {
        async willSendResponse({ metrics: m }) {
          planTraces[which] = m.queryPlanTrace ?? null;
        },
      };
    },
  };
}

beforeAll(async () => {
  engine = await startTestDatabase();
  conn = await connectDatabase({ uri: engine.uri, dbName: uniqueDbName('partner_fed') });
  const products = await productsSubgraph.createServer(conn, createLogger('products', 'silent'), { queries });
  await productsSubgraph.seed(conn);
  const inv = inventoryServer(conn);
  inventory = inv.counters;
  const [p, i] = [await products.listen(0), await inv.server.listen(0)];
  running.push(p, i);
  productsUrl = p.url;
  inventoryUrl = i.url;

  const composed = composeServices([
    { name: 'products', url: productsUrl, typeDefs: parse(readFileSync(PRODUCTS_SDL, 'utf8')) },
    { name: 'inventory', url: inventoryUrl, typeDefs: parse(readFileSync(INVENTORY_SDL, 'utf8')) },
  ]);
  if (composed.errors) throw new Error(composed.errors.map(String).join('\n'));
  supergraphSdl = composed.supergraphSdl!;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ccg-partner-fed-'));
  writeFileSync(path.join(dir, 'supergraph.graphql'), supergraphSdl);
  projectGateway = createGatewayServer({
    supergraphPath: path.join(dir, 'supergraph.graphql'),
    watchSupergraph: false,
    subgraphUrls: { products: productsUrl, inventory: inventoryUrl },
    logger: createLogger('gateway', 'silent'),
    security: { auth: loadConfig().auth, rateLimitPerMinute: 100_000 },
  });
  projectGateway.apollo.addPlugin(tracePlugin('project'));
  projectGateway.gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => (loaded.project = coreSupergraphSdl));
  const g = await projectGateway.listen(0);
  running.unshift(g);
  projectUrl = g.url;

  // A stock gateway: composes by introspection (`_service { sdl }` of each subgraph), forwards the
  // caller's Authorization header, nothing of the project's.
  stockGateway = new ApolloGateway({
    supergraphSdl: new IntrospectAndCompose({ subgraphs: [{ name: 'products', url: productsUrl }, { name: 'inventory', url: inventoryUrl }] }),
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource<{ authorization?: string }>({
        url,
        willSendRequest({ request, context }) {
          if (context.authorization) request.http?.headers.set('authorization', context.authorization);
        },
      }),
  });
  stockGateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => (loaded.stock = coreSupergraphSdl));
  stock = new ApolloServer<{ authorization?: string }>({ gateway: stockGateway, plugins: [tracePlugin('stock')] });
  await stock.start();
});

afterAll(async () => {
  await stock?.stop();
  for (const r of running) await r.close();
  await conn?.close();
  await engine?.stop();
});

type Result = { data?: Record<string, any> | null; errors?: { message: string; extensions?: Record<string, any> }[] };
const gateways: [string, (query: string, headers?: Record<string, string>) => Promise<Result>][] = [
  ['the project gateway', async (query, headers = {}) => gql(projectUrl, query, undefined, headers)],
  [
    'a stock @apollo/gateway',
    async (query, headers = {}) => {
      const res = await stock.executeOperation({ query }, { contextValue: { authorization: headers.authorization } });
      if (res.body.kind !== 'single') throw new Error('incremental result');
      return res.body.singleResult as Result;
    },
  ],
];

describe('the subgraphs on their own', () => {
  test('_service { sdl } serves each SDL with its keys, directives and renamed @link import', async () => {
    const p = await gql(productsUrl, '{ _service { sdl } }');
    const sdl: string = p.data!._service.sdl;
    for (const text of ['@key(fields: "sku package")', '@key(fields: "sku variation { id }")', '@key(fields: "study { caseNumber }")', '@key(fields: "community { id } number")', '@interfaceObject', '@custom(note: "partner-owned")', '@override(from: "inventory")', '@inaccessible', '@provides(fields: "totalProductsCreated")', '@tag(name: "partner")']) {
      expect([text, sdl.includes(text)]).toEqual([text, true]);
    }
    const i = await gql(inventoryUrl, '{ _service { sdl } }');
    expect(i.data!._service.sdl).toContain('{name: "@shareable", as: "@shared"}');
    expect(i.data!._service.sdl).toContain('@requires(fields: "dimensions { size weight }")');
  });

  test('_entities resolves a Product by each of its three keys, one database query per key kind', async () => {
    queries.length = 0;
    const r = await gql(productsUrl, 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id sku package } } }', {
      r: [
        { __typename: 'Product', id: 'p3' },
        { __typename: 'Product', sku: 'sk-1', package: 'crate' },
        { __typename: 'Product', sku: 'sk-1', variation: { id: 'v1' } },
        { __typename: 'Product', sku: 'sk-2', variation: { id: 'v1' } },
        { __typename: 'Product', sku: 'sk-9', package: 'box' },
      ],
    });
    expect(r.errors).toBeUndefined();
    expect(r.data!._entities).toEqual([
      { id: 'p3', sku: 'sk-2', package: 'box' },
      { id: 'p2', sku: 'sk-1', package: 'crate' },
      { id: 'p1', sku: 'sk-1', package: 'box' },
      { id: 'p3', sku: 'sk-2', package: 'box' },
      null,
    ]);
    expect(queries.sort()).toEqual(['productsById', 'productsBySkuPackage', 'productsBySkuVariation']);
  });

  test('_entities resolves nested keys: ProductResearch by study { caseNumber }, Building by community { id } number', async () => {
    const r = await gql(productsUrl, 'query($r: [_Any!]!) { _entities(representations: $r) { ... on ProductResearch { outcome study { description } } ... on Building { number floors } } }', {
      r: [
        { __typename: 'ProductResearch', study: { caseNumber: 'CASE-1' } },
        { __typename: 'Building', community: { id: 'cm_320113_0001' }, number: '3' },
        { __typename: 'ProductResearch', study: { __typename: 'CaseStudy', caseNumber: 'CASE-404' } },
      ],
    });
    expect(r.errors).toBeUndefined();
    expect(r.data!._entities).toEqual([{ outcome: 'passed', study: { description: 'drop test' } }, { number: '3', floors: 18 }, null]);
  });

  test('@inaccessible: the subgraph itself still serves the field', async () => {
    const r = await gql(productsUrl, '{ product(id: "p1") { internalCode } }');
    expect(r.data!.product).toEqual({ internalCode: 'IC-001' });
  });
});

describe('composition', () => {
  /** The directives written on a type of the supergraph (between `type X` and its `{`). */
  const onType = (sdl: string, name: string) => {
    const start = sdl.indexOf(`\ntype ${name}\n`);
    return start < 0 ? '' : sdl.slice(start, sdl.indexOf('\n{\n', start));
  };

  test('@composeDirective keeps @custom (and the access directives) in the supergraph; @tag and @link reach it too', () => {
    expect(onType(supergraphSdl, 'Product')).toContain('@custom(note: "partner-owned")');
    expect(onType(supergraphSdl, 'Building')).toContain('@rowScope(by: [DISTRICT, COMMUNITY])');
    expect(onType(supergraphSdl, 'Product')).toContain('@tag(name: "partner")');
    expect(supergraphSdl).toContain('@link(url: "https://partner.example/custom/v1.0", import: ["@custom"])');
    expect(supergraphSdl).toMatch(/internalCode: String @inaccessible/);
  });

  test('both gateways load a supergraph with @custom on Product (the stock one composed it itself from _service)', () => {
    expect(onType(loaded.project, 'Product')).toContain('@custom(note: "partner-owned")');
    expect(onType(loaded.stock, 'Product')).toContain('@custom(note: "partner-owned")');
    expect(onType(loaded.stock, 'Product')).toContain('@tag(name: "partner")');
  });
});

describe.each(gateways)('behind %s', (_name, run) => {
  test('a single key and @provides: the creator’s product count comes from the products subgraph, with no hop to inventory', async () => {
    const before = inventory.entities.User ?? 0;
    const r = await run('{ product(id: "p1") { id sku createdBy { email totalProductsCreated } } }');
    expect(r.errors).toBeUndefined();
    expect(r.data!.product).toEqual({ id: 'p1', sku: 'sk-1', createdBy: { email: 'ada@partner.example', totalProductsCreated: 1337 } });
    expect(inventory.entities.User ?? 0).toBe(before);
  });

  test('@override: User.name is answered by products, the rest of User by inventory', async () => {
    const r = await run('{ user(email: "ada@partner.example") { email name totalProductsCreated } }');
    expect(r.errors).toBeUndefined();
    expect(r.data!.user).toEqual({ email: 'ada@partner.example', name: 'Ada (products)', totalProductsCreated: 42 });
  });

  test('a composite key: inventory’s reference by sku package is resolved by products', async () => {
    const r = await run('{ productOfTheWeek { id sku package variation { id } dimensions { size weight } } }');
    expect(r.errors).toBeUndefined();
    expect(r.data!.productOfTheWeek).toEqual({ id: 'p2', sku: 'sk-1', package: 'crate', variation: { id: 'v2' }, dimensions: { size: 'large', weight: 12 } });
  });

  test('@requires with a nested selection: inventory receives the dimensions products holds', async () => {
    const sent = inventory.productRefs.length;
    const r = await run('{ product(id: "p2") { id deliveryEstimate } products { id deliveryEstimate } }');
    expect(r.errors).toBeUndefined();
    expect(r.data!.product).toEqual({ id: 'p2', deliveryEstimate: 'freight (large, 12 kg)' });
    expect(r.data!.products.map((p: { deliveryEstimate: string }) => p.deliveryEstimate)).toEqual(['parcel (small, 1.5 kg)', 'freight (large, 12 kg)', 'parcel (medium, 4 kg)']);
    expect(inventory.productRefs.slice(sent)).toContainEqual({ __typename: 'Product', sku: 'sk-1', package: 'crate', dimensions: { size: 'large', weight: 12 } });
  });

  test('a nested key: inventory’s reference by study { caseNumber } is resolved by products', async () => {
    const r = await run('{ featuredResearch { study { caseNumber description } outcome } }');
    expect(r.errors).toBeUndefined();
    expect(r.data!.featuredResearch).toEqual({ study: { caseNumber: 'CASE-1', description: 'drop test' }, outcome: 'passed' });
  });

  test('@interfaceObject: products adds Inventory.products to every warehouse of inventory’s interface', async () => {
    const r = await run('{ warehouses { id ... on Warehouse { city } products { id } } }');
    expect(r.errors).toBeUndefined();
    expect(r.data!.warehouses).toEqual([
      { id: 'w1', city: '南京', products: [{ id: 'p1' }, { id: 'p2' }] },
      { id: 'w2', city: '连云港', products: [{ id: 'p3' }] },
    ]);
  });

  test('@shareable (imported as @shared by inventory): ProductDimension is answered by both subgraphs', async () => {
    const r = await run('{ warehouses { ... on Warehouse { dimensions { size weight } } } product(id: "p3") { dimensions { size weight } } }');
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({
      warehouses: [{ dimensions: { size: 'hall', weight: 9000 } }, { dimensions: { size: 'shed', weight: 800 } }],
      product: { dimensions: { size: 'medium', weight: 4 } },
    });
  });

  test('@inaccessible: the field is not in the API', async () => {
    const r = await run('{ product(id: "p1") { internalCode } }');
    expect(r.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r.data ?? null).toBeNull();
  });

  test('@tag: the tagged Product type serves its data (all of it, it is tagged for contracts only)', async () => {
    const r = await run('{ products { id sku package } }');
    expect(r.data!.products.map((p: { id: string }) => p.id)).toEqual(DEMO.products.map((p) => p._id));
  });

  test('@rowScope on an entity keyed by community { id } number: an area-limited caller sees its district’s building only', async () => {
    const q = '{ buildingRefs { number floors community { id } } }';
    const admin = await run(q, await authHeader('CITY_ADMIN'));
    expect(admin.errors).toBeUndefined();
    expect(admin.data!.buildingRefs).toEqual([
      { number: '7', floors: 6, community: { id: 'cm_320104_0001' } },
      { number: '3', floors: 18, community: { id: 'cm_320113_0001' } },
    ]);
    const street = await run(q, await authHeader('STREET_STAFF', { district: '320104' }));
    // The hidden building answers null at the products subgraph, so none of its own fields come
    // back; what the gateway shows is only the reference inventory holds.
    expect(street.data!.buildingRefs).toEqual([
      { number: '7', floors: 6, community: { id: 'cm_320104_0001' } },
      { number: '3', floors: null, community: { id: 'cm_320113_0001' } },
    ]);
  });

  test('ftv1: the gateway gets the products subgraph’s trace for its fetch', async () => {
    const which = _name === 'the project gateway' ? 'project' : 'stock';
    planTraces[which] = undefined;
    const r = await run('{ product(id: "p1") { sku } }');
    expect(r.data!.product).toEqual({ sku: 'sk-1' });
    const fetches: Trace.QueryPlanNode.IFetchNode[] = [];
    const walk = (n: Trace.IQueryPlanNode | null | undefined) => {
      if (!n) return;
      if (n.fetch) fetches.push(n.fetch);
      n.sequence?.nodes?.forEach(walk);
      n.parallel?.nodes?.forEach(walk);
      if (n.flatten) walk(n.flatten.node);
    };
    walk(planTraces[which]);
    const products = fetches.find((f) => f.serviceName === 'products');
    expect(products?.traceParsingFailed ?? false).toBe(false);
    expect(products?.trace?.root?.child?.map((c) => c.responseName)).toEqual(['product']);
  });
});

describe('federated tracing at the subgraph', () => {
  const withTrace = async (url: string, query: string, ask = true) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(ask ? { 'apollo-federation-include-trace': 'ftv1' } : {}) },
      body: JSON.stringify({ query }),
    });
    return (await res.json()) as { data?: any; errors?: any[]; extensions?: { ftv1?: string } };
  };
  const decode = (ftv1: string) => Trace.decode(Buffer.from(ftv1, 'base64'));
  const names = (node: Trace.INode | null | undefined): string[] => (node?.child ?? []).flatMap((c) => [c.responseName ?? `[${c.index}]`, ...names(c)]);

  test('a caller asking for ftv1 gets a trace of field names and types, with no field values', async () => {
    const r = await withTrace(productsUrl, '{ products { sku internalCode dimensions { size } createdBy { name } } }');
    expect(r.data.products[0]).toEqual({ sku: 'sk-1', internalCode: 'IC-001', dimensions: { size: 'small' }, createdBy: { name: 'Ada (products)' } });
    const trace = decode(r.extensions!.ftv1!);
    expect(names(trace.root)).toEqual(expect.arrayContaining(['products', 'sku', 'internalCode', 'dimensions', 'size', 'createdBy', 'name']));
    const text = JSON.stringify(trace.toJSON()) + Buffer.from(r.extensions!.ftv1!, 'base64').toString('latin1');
    for (const value of ['sk-1', 'IC-001', 'IC-002', 'small', 'Ada', 'ada@partner.example', 'crate']) expect([value, text.includes(value)]).toEqual([value, false]);
  });

  test('error messages are masked in the trace (only the code stays); the response keeps its message', async () => {
    const r = await withTrace(productsUrl, '{ research(caseNumber: "13800000001") { outcome } }');
    expect(r.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(r.errors?.[0]?.message).toContain('13800000001');
    const trace = decode(r.extensions!.ftv1!);
    const errors = (trace.root?.child ?? []).flatMap((c) => c.error ?? []);
    expect(errors.map((e) => [e.message, JSON.parse(e.json!).extensions])).toEqual([['<masked>', { code: 'BAD_USER_INPUT' }]]);
    expect(r.extensions!.ftv1!.length).toBeGreaterThan(0);
    expect(Buffer.from(r.extensions!.ftv1!, 'base64').toString('latin1')).not.toContain('13800000001');
  });

  test('no trace without the header, and none when the subgraph is configured without ftv1', async () => {
    expect((await withTrace(productsUrl, '{ products { id } }', false)).extensions?.ftv1).toBeUndefined();
    const off = createSubgraphServer({
      name: 'products',
      sdlPath: PRODUCTS_SDL,
      connection: conn,
      logger: createLogger('products', 'silent'),
      resolvers,
      createContext: contextFactory(registerModels(conn), {}),
      ftv1: false,
    });
    const l = await off.listen(0);
    try {
      const r = await withTrace(l.url, '{ products { id } }');
      expect([r.data.products.length, r.extensions?.ftv1]).toEqual([3, undefined]);
    } finally {
      await l.close();
    }
  });
});

describe('factory options', () => {
  test('the GraphQL path is an option: a subgraph served at / answers there, /health stays', async () => {
    const root = createSubgraphServer({
      name: 'products',
      sdlPath: PRODUCTS_SDL,
      connection: conn,
      logger: createLogger('products', 'silent'),
      resolvers,
      createContext: contextFactory(registerModels(conn), {}),
      path: '/',
    });
    const l = await root.listen(0);
    try {
      expect(l.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const r = await gql(l.url, '{ product(id: "p2") { package } }');
      expect(r.data!.product).toEqual({ package: 'crate' });
      expect((await fetch(l.url + 'health')).status).toBe(200);
    } finally {
      await l.close();
    }
    expect(() => createSubgraphServer({ name: 'x', sdlPath: PRODUCTS_SDL, connection: conn, logger: createLogger('x', 'silent'), resolvers, createContext: contextFactory(registerModels(conn), {}), path: 'graphql' })).toThrow(
      /subgraph path "graphql" must be an absolute URL path/,
    );
  });

  test('SUBGRAPH_FTV1: on in the embedded default, off in a deployment unless set, refused when invalid or given to the gateway', () => {
    const { loadConfig: load, unhonouredVariables, ConfigError } = jest.requireActual<typeof import('../../lib/config')>('../../lib/config');
    expect(load({}).subgraphFtv1).toBe(true);
    expect(load({ MONGODB_URI: 'mongodb://db.example/' }).subgraphFtv1).toBe(false);
    expect(load({ NODE_ENV: 'production', JWKS_URL: 'https://idp.example/jwks' }).subgraphFtv1).toBe(false);
    expect(load({ NODE_ENV: 'production', JWKS_URL: 'https://idp.example/jwks', SUBGRAPH_FTV1: 'true' }).subgraphFtv1).toBe(true);
    expect(load({ SUBGRAPH_FTV1: 'false' }).subgraphFtv1).toBe(false);
    expect(() => load({ SUBGRAPH_FTV1: 'maybe' })).toThrow(ConfigError);
    expect(unhonouredVariables({ SUBGRAPH_FTV1: 'true' }, 'start:gateway')).toEqual([expect.stringMatching(/^SUBGRAPH_FTV1: a subgraph setting/)]);
    expect(unhonouredVariables({ SUBGRAPH_FTV1: 'true' }, 'start:subgraph')).toEqual([]);
  });

  test('the resolver map is checked against the context the factory gives (a mismatch does not compile)', () => {
    const make = () =>
      createSubgraphServer({
        name: 'x',
        sdlPath: PRODUCTS_SDL,
        connection: conn,
        logger: createLogger('x', 'silent'),
        createContext: () => ({ tenant: 'a' }),
        resolvers: {
          // @ts-expect-error the context has no `loaders`
          Query: { product: (_p: unknown, _a: unknown, ctx: { loaders: Map<string, unknown> }) => ctx.loaders.get('p') },
        },
      });
    // It still builds at run time (the check is the compiler's); the typed map above is the point.
    expect(typeof make).toBe('function');
  });
});
