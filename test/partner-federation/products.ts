/**
 * The partner's "products" subgraph, declared with `defineSubgraph` as a partner would: mongoose
 * models on the embedded engine, a repository of batch reads, per-request DataLoaders (one per key
 * of each entity), thin resolvers typed by the context, no cast anywhere.
 */
import path from 'node:path';
import type DataLoader from 'dataloader';
import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { badInput } from '../../lib/errors';
import { defineModel, upsertById } from '../../lib/db';
import { entityLoader, groupLoader, keyedLoader } from '../../lib/loader';
import { defineSubgraph } from '../../lib/subgraph-module';
import type { SubgraphResolvers } from '../../lib/subgraph-server';

export const PRODUCTS_SDL = path.join(__dirname, 'products.graphql');

const productSchema = new Schema(
  {
    _id: { type: String, required: true },
    sku: { type: String, required: true },
    package: { type: String, required: true },
    variation: { id: { type: String, required: true } },
    dimensions: { size: String, weight: Number },
    createdByEmail: String,
    warehouseId: String,
    internalCode: String,
  },
  { versionKey: false },
);
productSchema.index({ sku: 1, package: 1 }, { unique: true });
productSchema.index({ sku: 1, 'variation.id': 1 });
productSchema.index({ warehouseId: 1 });

const researchSchema = new Schema(
  { _id: { type: String, required: true }, study: { caseNumber: { type: String, required: true }, description: String }, outcome: String, productId: String },
  { versionKey: false },
);
researchSchema.index({ 'study.caseNumber': 1 }, { unique: true });
researchSchema.index({ productId: 1 });

const buildingSchema = new Schema(
  { _id: { type: String, required: true }, communityId: { type: String, required: true }, number: { type: String, required: true }, floors: Number },
  { versionKey: false },
);
buildingSchema.index({ communityId: 1, number: 1 }, { unique: true });

const userSchema = new Schema({ _id: { type: String, required: true }, name: String, totalProductsCreated: Number }, { versionKey: false });

export type ProductDoc = InferSchemaType<typeof productSchema> & { _id: string };
export type ResearchDoc = InferSchemaType<typeof researchSchema> & { _id: string };
export type BuildingDoc = InferSchemaType<typeof buildingSchema> & { _id: string };
export type UserDoc = InferSchemaType<typeof userSchema> & { _id: string };

export function registerModels(conn: Connection) {
  return {
    Product: defineModel(conn, 'PartnerProduct', productSchema, 'partner_products'),
    Research: defineModel(conn, 'PartnerResearch', researchSchema, 'partner_research'),
    Building: defineModel(conn, 'PartnerBuilding', buildingSchema, 'partner_buildings'),
    User: defineModel(conn, 'PartnerUser', userSchema, 'partner_users'),
  };
}
type Models = ReturnType<typeof registerModels>;

/** Batch reads: one database command per key kind and request (the loaders sit in front). */
function createRepository(m: Models, queries: string[]) {
  const note = <T>(what: string, run: () => Promise<T>) => {
    queries.push(what);
    return run();
  };
  return {
    productsById: (ids: readonly string[]) => note('productsById', () => m.Product.find({ _id: { $in: ids } }).lean<ProductDoc[]>().exec()),
    productsBySkuPackage: (keys: readonly { sku: string; package: string }[]) =>
      note('productsBySkuPackage', () => m.Product.find({ $or: keys.map((k) => ({ sku: k.sku, package: k.package })) }).lean<ProductDoc[]>().exec()),
    productsBySkuVariation: (keys: readonly { sku: string; variation: string }[]) =>
      note('productsBySkuVariation', () => m.Product.find({ $or: keys.map((k) => ({ sku: k.sku, 'variation.id': k.variation })) }).lean<ProductDoc[]>().exec()),
    productsByWarehouse: (ids: readonly string[]) => note('productsByWarehouse', () => m.Product.find({ warehouseId: { $in: ids } }).sort({ _id: 1 }).lean<ProductDoc[]>().exec()),
    allProducts: () => note('allProducts', () => m.Product.find().sort({ _id: 1 }).lean<ProductDoc[]>().exec()),
    researchByCase: (cases: readonly string[]) => note('researchByCase', () => m.Research.find({ 'study.caseNumber': { $in: cases } }).lean<ResearchDoc[]>().exec()),
    researchByProduct: (ids: readonly string[]) => note('researchByProduct', () => m.Research.find({ productId: { $in: ids } }).sort({ _id: 1 }).lean<ResearchDoc[]>().exec()),
    buildingsByKey: (keys: readonly { communityId: string; number: string }[]) =>
      note('buildingsByKey', () => m.Building.find({ $or: keys.map((k) => ({ communityId: k.communityId, number: k.number })) }).lean<BuildingDoc[]>().exec()),
    allBuildings: () => note('allBuildings', () => m.Building.find().sort({ _id: 1 }).lean<BuildingDoc[]>().exec()),
    usersByEmail: (emails: readonly string[]) => note('usersByEmail', () => m.User.find({ _id: { $in: emails } }).lean<UserDoc[]>().exec()),
  };
}
type Repository = ReturnType<typeof createRepository>;

/** A loader for a composite key: one `$or` query per request, answers in key order. */
function compositeLoader<K extends object, V>(fetch: (keys: readonly K[]) => Promise<V[]>, keyOfKey: (k: K) => string, keyOfRow: (v: V) => string): DataLoader<K, V | null, string> {
  return keyedLoader<K, V | null>(async (keys) => {
    const rows = new Map((await fetch(keys)).map((r) => [keyOfRow(r), r]));
    return keys.map((k) => rows.get(keyOfKey(k)) ?? null);
  });
}

function createLoaders(repo: Repository) {
  return {
    product: entityLoader((ids) => repo.productsById(ids), (p) => p._id),
    productBySkuPackage: compositeLoader((k: readonly { sku: string; package: string }[]) => repo.productsBySkuPackage(k), (k: { sku: string; package: string }) => `${k.sku}\u0000${k.package}`, (p: ProductDoc) => `${p.sku}\u0000${p.package}`),
    productBySkuVariation: compositeLoader((k: readonly { sku: string; variation: string }[]) => repo.productsBySkuVariation(k), (k: { sku: string; variation: string }) => `${k.sku}\u0000${k.variation}`, (p: ProductDoc) => `${p.sku}\u0000${p.variation?.id}`),
    productsByWarehouse: groupLoader((ids) => repo.productsByWarehouse(ids), (p) => p.warehouseId ?? ''),
    research: entityLoader((cases) => repo.researchByCase(cases), (r) => r.study?.caseNumber ?? ''),
    researchByProduct: groupLoader((ids) => repo.researchByProduct(ids), (r) => r.productId ?? ''),
    building: compositeLoader((k: readonly { communityId: string; number: string }[]) => repo.buildingsByKey(k), (k: { communityId: string; number: string }) => `${k.communityId}\u0000${k.number}`, (b: BuildingDoc) => `${b.communityId}\u0000${b.number}`),
    user: entityLoader((emails) => repo.usersByEmail(emails), (u) => u._id),
  };
}

export interface ProductsContext {
  repo: Repository;
  loaders: ReturnType<typeof createLoaders>;
}

/** Options a test passes: where to note the database reads. */
export interface ProductsOptions {
  queries?: string[];
}

export function contextFactory(models: Models, opts: ProductsOptions) {
  const repo = createRepository(models, opts.queries ?? []);
  return (): ProductsContext => ({ repo, loaders: createLoaders(repo) });
}

type ProductRef = { id?: string; sku?: string; package?: string; variation?: { id: string } };
const str = (v: unknown) => String(v);

/** Typed by the context only: the factory accepts the map as it is. */
export const resolvers: SubgraphResolvers<ProductsContext> = {
  Query: {
    product: (_p: unknown, { id }: { id: string }, { loaders }: ProductsContext) => loaders.product.load(id),
    products: (_p: unknown, _a: unknown, { repo }: ProductsContext) => repo.allProducts(),
    research: (_p: unknown, { caseNumber }: { caseNumber: string }, { loaders }: ProductsContext) => {
      if (!/^CASE-\d+$/.test(caseNumber)) throw badInput('caseNumber', `must look like CASE-1 (got "${caseNumber.slice(0, 40)}")`);
      return loaders.research.load(caseNumber);
    },
    buildings: (_p: unknown, _a: unknown, { repo }: ProductsContext) => repo.allBuildings(),
  },
  Product: {
    // Any of the three keys; the access layer has checked the representation against them.
    __resolveReference: (ref: ProductRef, { loaders }: ProductsContext) => {
      if (ref.id !== undefined) return loaders.product.load(ref.id);
      if (ref.variation) return loaders.productBySkuVariation.load({ sku: str(ref.sku), variation: ref.variation.id });
      return loaders.productBySkuPackage.load({ sku: str(ref.sku), package: str(ref.package) });
    },
    id: (p: ProductDoc) => p._id,
    createdBy: async (p: ProductDoc, _a: unknown, { loaders }: ProductsContext) => {
      const u = p.createdByEmail ? await loaders.user.load(p.createdByEmail) : null;
      return u ? { email: u._id, name: u.name, totalProductsCreated: u.totalProductsCreated } : null;
    },
    research: (p: ProductDoc, _a: unknown, { loaders }: ProductsContext) => loaders.researchByProduct.load(p._id),
  },
  ProductResearch: {
    __resolveReference: (ref: { study: { caseNumber: string } }, { loaders }: ProductsContext) => loaders.research.load(ref.study.caseNumber),
  },
  User: {
    __resolveReference: async (ref: { email: string }, { loaders }: ProductsContext) => {
      const u = await loaders.user.load(ref.email);
      return u ? { email: u._id, name: u.name } : null;
    },
  },
  Inventory: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    products: (inv: { id: string }, _a: unknown, { loaders }: ProductsContext) => loaders.productsByWarehouse.load(inv.id),
  },
  Building: {
    __resolveReference: (ref: { community: { id: string }; number: string }, { loaders }: ProductsContext) =>
      loaders.building.load({ communityId: ref.community.id, number: ref.number }),
    community: (b: BuildingDoc) => ({ id: b.communityId }),
  },
};

export const DEMO = {
  products: [
    { _id: 'p1', sku: 'sk-1', package: 'box', variation: { id: 'v1' }, dimensions: { size: 'small', weight: 1.5 }, createdByEmail: 'ada@partner.example', warehouseId: 'w1', internalCode: 'IC-001' },
    { _id: 'p2', sku: 'sk-1', package: 'crate', variation: { id: 'v2' }, dimensions: { size: 'large', weight: 12 }, createdByEmail: 'ada@partner.example', warehouseId: 'w1', internalCode: 'IC-002' },
    { _id: 'p3', sku: 'sk-2', package: 'box', variation: { id: 'v1' }, dimensions: { size: 'medium', weight: 4 }, warehouseId: 'w2', internalCode: 'IC-003' },
  ],
  research: [{ _id: 'r1', study: { caseNumber: 'CASE-1', description: 'drop test' }, outcome: 'passed', productId: 'p1' }],
  buildings: [
    { _id: 'b1', communityId: 'cm_320104_0001', number: '7', floors: 6 },
    { _id: 'b2', communityId: 'cm_320113_0001', number: '3', floors: 18 },
  ],
  // 1337 is this subgraph's figure; the inventory subgraph answers 42 for the same user, so a test
  // can tell which subgraph the gateway read (@provides).
  users: [{ _id: 'ada@partner.example', name: 'Ada (products)', totalProductsCreated: 1337 }],
};

export async function seedProducts(m: Models): Promise<number> {
  return (
    (await upsertById(m.Product, DEMO.products)) +
    (await upsertById(m.Research, DEMO.research)) +
    (await upsertById(m.Building, DEMO.buildings)) +
    (await upsertById(m.User, DEMO.users))
  );
}

export const productsSubgraph = defineSubgraph({
  name: 'products',
  owner: 'Partner agency (test)',
  defaultPort: 4090,
  sdlPath: PRODUCTS_SDL,
  registerModels,
  resolvers,
  contextFactory,
  seed: seedProducts,
  isEmpty: async (m) => (await m.Product.estimatedDocumentCount()) === 0,
  ftv1: true,
});
