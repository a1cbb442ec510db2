/**
 * Small fixture subgraphs for the gateway tests, built with @apollo/subgraph in the test process
 * (independent of the bureau subgraphs): `accounts` owns User, `reviews` owns Review and adds
 * User.reviews. Each can be slowed, broken, made to answer garbage, killed and restarted on the
 * same port, and counts what it receives.
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import express from 'express';
import gql from 'graphql-tag';
import type { DocumentNode } from 'graphql';

export interface FixtureControls {
  /** Delay before answering /graphql. */
  delayMs: number;
  /** `garbage`: 200 with an HTML body; `json-array`: 200 with a JSON array. */
  mode: 'ok' | 'garbage' | 'json-array';
  /** The next N /graphql requests get a bare 503. */
  failNext: number;
  /** When set, /graphql answers only once this settles. */
  gate?: Promise<void>;
}

export interface FixtureCounters {
  /** HTTP requests to /graphql. */
  requests: number;
  /** `_entities` representations resolved (one per __resolveReference call). */
  representations: number;
  mutations: number;
  /** Bodies received (query + variables), newest last. */
  bodies: { query: string; variables?: Record<string, unknown> }[];
}

export interface FixtureSubgraph {
  name: string;
  url: string;
  port: number;
  controls: FixtureControls;
  counters: FixtureCounters;
  resetCounters(): void;
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
}

export const USERS = Array.from({ length: 4 }, (_, i) => ({ id: `u${i + 1}`, name: `User ${i + 1}` }));
/** 20 reviews by 4 authors: an `author { name }` selection sends 20 representations, 4 unique. */
export const REVIEWS = Array.from({ length: 20 }, (_, i) => ({ id: `r${i + 1}`, body: `Review ${i + 1}`, authorId: USERS[i % 4].id }));

const accountsSdl = gql`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type User @key(fields: "id") {
    id: ID!
    name: String!
  }
  type CityStats {
    count: Int!
    viewer: String
  }
  type Query {
    users: [User!]!
    user(id: ID!): User
    cityStats: CityStats
  }
  type Mutation {
    rename(id: ID!, name: String!): User
  }
`;

const reviewsSdl = gql`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Review {
    id: ID!
    body: String!
    author: User!
  }
  type User @key(fields: "id") {
    id: ID!
    reviews: [Review!]!
  }
  type Query {
    topReviews(first: Int = 20): [Review!]
  }
`;

interface Ctx {
  authorization?: string;
}

function accountsResolvers(counters: FixtureCounters) {
  const users = new Map(USERS.map((u) => [u.id, { ...u }]));
  let statsCalls = 0;
  return {
    Query: {
      users: () => [...users.values()],
      user: (_: unknown, { id }: { id: string }) => users.get(id) ?? null,
      cityStats: (_: unknown, __: unknown, ctx: Ctx, info: { cacheControl: { setCacheHint(h: { maxAge: number; scope: 'PUBLIC' | 'PRIVATE' }): void } }) => {
        info.cacheControl.setCacheHint({ maxAge: 30, scope: 'PUBLIC' });
        return { count: ++statsCalls, viewer: ctx.authorization ?? null };
      },
    },
    Mutation: {
      rename: (_: unknown, { id, name }: { id: string; name: string }) => {
        counters.mutations++;
        const u = users.get(id);
        if (!u) return null;
        u.name = name;
        return u;
      },
    },
    User: {
      __resolveReference: (ref: { id: string }) => {
        counters.representations++;
        return users.get(ref.id) ?? null;
      },
    },
  };
}

function reviewsResolvers(counters: FixtureCounters) {
  return {
    Query: { topReviews: (_: unknown, { first }: { first: number }) => REVIEWS.slice(0, first) },
    Review: { author: (r: { authorId: string }) => ({ __typename: 'User', id: r.authorId }) },
    User: {
      __resolveReference: (ref: { id: string }) => {
        counters.representations++;
        return { id: ref.id };
      },
      reviews: (u: { id: string }) => REVIEWS.filter((r) => r.authorId === u.id),
    },
  };
}

async function startFixture(name: string, typeDefs: DocumentNode, resolvers: (c: FixtureCounters) => object): Promise<FixtureSubgraph> {
  const counters: FixtureCounters = { requests: 0, representations: 0, mutations: 0, bodies: [] };
  const controls: FixtureControls = { delayMs: 0, mode: 'ok', failNext: 0 };
  const apollo = new ApolloServer<Ctx>({ schema: buildSubgraphSchema({ typeDefs, resolvers: resolvers(counters) as any }),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  await apollo.start();
  const app = express();
  app.get('/ready', (_req, res) => res.json({ ready: true }));
  app.use('/graphql', express.json(), async (req, res, next) => {
    counters.requests++;
    counters.bodies.push({ query: req.body?.query, variables: req.body?.variables });
    if (controls.delayMs) await new Promise((r) => setTimeout(r, controls.delayMs));
    if (controls.gate) await controls.gate;
    if (res.destroyed) return;
    if (controls.failNext > 0) {
      controls.failNext--;
      res.status(503).type('text/plain').send('upstream busy');
      return;
    }
    if (controls.mode === 'garbage') {
      res.status(200).type('text/html').send('<html><body>502 Bad Gateway from some proxy at 10.0.0.7:8080</body></html>');
      return;
    }
    if (controls.mode === 'json-array') {
      res.status(200).json([1, 2, 3]);
      return;
    }
    next();
  });
  app.use('/graphql', expressMiddleware(apollo, { context: async ({ req }) => ({ authorization: req.headers.authorization }) }));

  let server: http.Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = http.createServer(app);
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as AddressInfo).port;
        server = s;
        resolve();
      });
    });
  await listen();
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve();
      const s = server;
      server = undefined;
      s.close(() => resolve());
      s.closeAllConnections();
    });
  return {
    name,
    get url() {
      return `http://127.0.0.1:${port}/graphql`;
    },
    get port() {
      return port;
    },
    controls,
    counters,
    resetCounters() {
      counters.requests = 0;
      counters.representations = 0;
      counters.mutations = 0;
      counters.bodies.length = 0;
    },
    stop,
    restart: listen,
  };
}

export interface Fixtures {
  accounts: FixtureSubgraph;
  reviews: FixtureSubgraph;
  supergraphPath: string;
  supergraphSdl: string;
  urls: Record<string, string>;
  stopAll(): Promise<void>;
}

export async function startFixtures(): Promise<Fixtures> {
  const accounts = await startFixture('accounts', accountsSdl, accountsResolvers);
  const reviews = await startFixture('reviews', reviewsSdl, reviewsResolvers);
  const composed = composeServices([
    { name: 'accounts', typeDefs: accountsSdl, url: accounts.url },
    { name: 'reviews', typeDefs: reviewsSdl, url: reviews.url },
  ]);
  if (composed.errors || !composed.supergraphSdl) throw new Error(`composition failed: ${composed.errors?.map((e) => e.message).join('; ')}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-test-'));
  const supergraphPath = path.join(dir, 'supergraph.graphql');
  writeFileSync(supergraphPath, composed.supergraphSdl);
  return {
    accounts,
    reviews,
    supergraphPath,
    supergraphSdl: composed.supergraphSdl,
    urls: { accounts: accounts.url, reviews: reviews.url },
    async stopAll() {
      await accounts.stop();
      await reviews.stop();
    },
  };
}

/** Stock @apollo/gateway (default RemoteGraphQLDataSource) on the same supergraph, for comparison. */
export async function startStockGateway(supergraphSdl: string): Promise<{ url: string; stop(): Promise<void> }> {
  const gateway = new ApolloGateway({ supergraphSdl });
  const apollo = new ApolloServer({ gateway });
  await apollo.start();
  const app = express();
  app.use('/graphql', express.json(), expressMiddleware(apollo));
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    async stop() {
      await apollo.stop();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    },
  };
}
