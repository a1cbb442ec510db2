/**
 * The second subgraph of the partner tests ("inventory"), built with `createSubgraphServer` on
 * in-memory data. It counts what it is asked through `_entities`, so tests can tell which subgraph
 * answered (@provides, @override).
 */
import path from 'node:path';
import type { Connection } from 'mongoose';
import type { AuthSettings } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { createSubgraphServer } from '../../lib/subgraph-server';

export const INVENTORY_SDL = path.join(__dirname, 'inventory.graphql');

const WAREHOUSES = [
  { id: 'w1', city: '南京', dimensions: { size: 'hall', weight: 9000 } },
  { id: 'w2', city: '连云港', dimensions: { size: 'shed', weight: 800 } },
];
const USERS = [{ email: 'ada@partner.example', name: 'Ada (inventory)', totalProductsCreated: 42 }];

export interface InventoryCounters {
  /** `_entities` representations resolved, per type. */
  entities: Record<string, number>;
  /** Representations of Product received, as sent (with the @requires fields). */
  productRefs: Record<string, unknown>[];
}

type Ctx = { counters: InventoryCounters };

export function inventoryServer(conn: Connection, opts: { auth?: AuthSettings; ftv1?: boolean } = {}) {
  const counters: InventoryCounters = { entities: {}, productRefs: [] };
  const count = (t: string) => (counters.entities[t] = (counters.entities[t] ?? 0) + 1);
  const server = createSubgraphServer({
    name: 'inventory',
    sdlPath: INVENTORY_SDL,
    connection: conn,
    logger: createLogger('inventory', 'silent'),
    auth: opts.auth,
    ftv1: opts.ftv1 ?? true,
    createContext: (): Ctx => ({ counters }),
    resolvers: {
      Query: {
        warehouses: () => WAREHOUSES.map((w) => ({ ...w, __typename: 'Warehouse' })),
        user: (_p: unknown, { email }: { email: string }) => USERS.find((u) => u.email === email) ?? null,
        productOfTheWeek: () => ({ sku: 'sk-1', package: 'crate' }),
        featuredResearch: () => ({ study: { caseNumber: 'CASE-1' } }),
        buildingRefs: () => [
          { community: { id: 'cm_320104_0001' }, number: '7' },
          { community: { id: 'cm_320113_0001' }, number: '3' },
        ],
      },
      Inventory: {
        __resolveType: (w: { __typename?: string }) => w.__typename ?? 'Warehouse',
        __resolveReference: (ref: { id: string }) => {
          count('Inventory');
          const w = WAREHOUSES.find((x) => x.id === ref.id);
          return w ? { ...w, __typename: 'Warehouse' } : null;
        },
      },
      Warehouse: {
        __resolveReference: (ref: { id: string }) => {
          count('Warehouse');
          return WAREHOUSES.find((x) => x.id === ref.id) ?? null;
        },
      },
      User: {
        __resolveReference: (ref: { email: string }) => {
          count('User');
          return USERS.find((u) => u.email === ref.email) ?? null;
        },
      },
      Product: {
        __resolveReference: (ref: Record<string, unknown>, ctx: Ctx) => {
          count('Product');
          ctx.counters.productRefs.push(ref);
          return ref;
        },
        deliveryEstimate: (p: { dimensions?: { size?: string | null; weight?: number | null } | null }) => {
          const d = p.dimensions;
          if (!d || d.weight == null) return null;
          return `${d.weight > 10 ? 'freight' : 'parcel'} (${d.size ?? '?'}, ${d.weight} kg)`;
        },
      },
    },
  });
  return { server, counters };
}
