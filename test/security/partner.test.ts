/**
 * A partner agency's own subgraph (here "meals", a 助餐 operator) next to a bureau subgraph, behind
 * one real gateway: the partner's token writes and reads personal data in its own subgraph only;
 * bureaus and other partners cannot write there; a partner token naming a bureau gets no scopes.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import type { Connection } from 'mongoose';
import { auditModel } from '../../lib/auth/audit';
import { connectDatabase } from '../../lib/db';
import { createLogger } from '../../lib/logger';
import { createSubgraphServer } from '../../lib/subgraph-server';
import { createGatewayServer } from '../../gateway/server';
import type { Listening } from '../../lib/http';
import { startTestDatabase, uniqueDbName, type Engine } from '../helpers/subgraph';
import { FIXTURE_SDL, fixtureServer } from './fixture/elderly-fixture';
import { bearer, codes, localAuth, q, token } from './helpers';

const fixtureText = readFileSync(FIXTURE_SDL, 'utf8');
// The access directives' definitions, exactly as every subgraph carries them.
const accessDefinitions = fixtureText.slice(fixtureText.indexOf('"""\nRow-level scope'), fixtureText.indexOf('scalar DateTime'));

const MEALS_SDL = `extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@requiresScopes", "@composeDirective"])
  @link(url: "https://city-community-graph.example/access/v1.0", import: ["@rowScope", "@pii"])
  @composeDirective(name: "@rowScope")
  @composeDirective(name: "@pii")
${accessDefinitions}
type Query {
  mealOrders: [MealOrder!]! @requiresScopes(scopes: [["meals:pii"]])
}
type Mutation {
  recordMealOrder(recipientPhone: String!): MealOrder! @requiresScopes(scopes: [["meals:write"]])
}
type MealOrder {
  id: ID!
  recipientPhone: String @pii(category: PERSONAL)
}
`;

let engine: Engine;
let conn: Connection;
const running: Listening[] = [];
let url = '';
const auth = localAuth();
const orders: { id: string; recipientPhone: string }[] = [];

beforeAll(async () => {
  engine = await startTestDatabase();
  conn = await connectDatabase({ uri: engine.uri, dbName: uniqueDbName('partner') });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ccg-partner-'));
  const mealsPath = path.join(dir, 'meals.graphql');
  writeFileSync(mealsPath, MEALS_SDL);
  const meals = createSubgraphServer({
    name: 'meals',
    sdlPath: mealsPath,
    connection: conn,
    logger: createLogger('meals', 'silent'),
    auth,
    createContext: () => ({}),
    resolvers: {
      Query: { mealOrders: () => orders },
      Mutation: {
        recordMealOrder: (_: unknown, { recipientPhone }: { recipientPhone: string }) => {
          const order = { id: `mo_${orders.length + 1}`, recipientPhone };
          orders.push(order);
          return order;
        },
      },
    },
  });
  const elderly = fixtureServer(conn, auth).server;
  const [m, e] = [await meals.listen(0), await elderly.listen(0)];
  running.push(m, e);
  const composed = composeServices([
    { name: 'elderly', url: e.url, typeDefs: parse(fixtureText) },
    { name: 'meals', url: m.url, typeDefs: parse(MEALS_SDL) },
  ]);
  if (composed.errors) throw new Error(composed.errors.map(String).join('\n'));
  const supergraphPath = path.join(dir, 'supergraph.graphql');
  writeFileSync(supergraphPath, composed.supergraphSdl!);
  const gw = createGatewayServer({
    supergraphPath,
    watchSupergraph: false,
    subgraphUrls: { elderly: e.url, meals: m.url },
    logger: createLogger('gateway', 'silent'),
    security: { auth, rateLimitPerMinute: 10_000 },
  });
  const g = await gw.listen(0);
  running.unshift(g);
  url = g.url;
});
afterAll(async () => {
  for (const r of running) await r.close();
  await conn?.close();
  await engine?.stop();
});

const order = 'mutation { recordMealOrder(recipientPhone: "13900005678") { id } }';

test('the partner writes to its own subgraph and reads the personal data it holds there', async () => {
  const meals = bearer(await token(auth, { role: 'PARTNER', partner: 'meals' }));
  const w = await q(url, order, meals);
  expect([w.errors, typeof w.data?.recordMealOrder?.id]).toEqual([undefined, 'string']);
  const r = await q(url, '{ mealOrders { id recipientPhone } }', meals);
  expect([r.errors, r.data.mealOrders.at(-1).recipientPhone]).toEqual([undefined, '13900005678']);
  // The read is audited by the partner's subgraph, like any bureau's.
  const audit = await auditModel(conn).find({ subgraph: 'meals' }).lean().exec();
  expect(audit.map((a) => [a.role, a.reads])).toEqual([['PARTNER', [{ type: 'MealOrder', id: w.data.recordMealOrder.id, fields: ['recipientPhone'] }]]]);
});

test.each([
  ['another partner', { role: 'PARTNER' as const, partner: 'parking' }],
  ['civil affairs', { role: 'CIVIL_AFFAIRS' as const }],
  ['a care team', { role: 'CARE_TEAM' as const, team: 'ct_a' }],
])('%s cannot write to the partner’s subgraph, and nothing is written', async (_who, req) => {
  const before = orders.length;
  const r = await q(url, order, bearer(await token(auth, req)));
  expect([codes(r), r.data?.recordMealOrder ?? null]).toEqual([['FORBIDDEN'], null]);
  expect(orders.length).toBe(before);
});

test('the partner cannot write to a bureau subgraph, even with a token naming the bureau as its partner', async () => {
  for (const partner of ['meals', 'elderly']) {
    const r = await q(url, 'mutation { recordVisit(elderId: "el_a1") }', bearer(await token(auth, { role: 'PARTNER', partner })));
    expect([partner, codes(r)]).toEqual([partner, ['FORBIDDEN']]);
  }
});
