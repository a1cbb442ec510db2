/**
 * One gateway under test, in its own process so its RSS is its own: `ours` (the project's gateway,
 * gateway/server.ts) or `stock` (@apollo/gateway 2.14 with the default RemoteGraphQLDataSource on
 * the same Apollo Server 5 + express 5 front). Usage: tsx gateway-child.ts <ours|stock> <supergraph>
 * <port> [dedup: on|off] [cache|nocache]. Prints one JSON line {"url": …} once it serves.
 */
import { supergraphForGateway } from '../../gateway/security';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { disableApolloTelemetry } from '../../lib/config';

disableApolloTelemetry();

async function main() {
  const [kind, supergraphPath, portArg, dedupArg, cacheArg] = process.argv.slice(2);
  const port = Number(portArg);
  if (kind === 'ours') {
    const { createGatewayServer } = await import('../../gateway/server');
    const { createLogger } = await import('../../lib/logger');
    const dedup = dedupArg !== 'off';
    const server = createGatewayServer({
      supergraphPath,
      logger: createLogger('gateway', 'warn'),
      introspection: false,
      // The load comes from one client address without tokens: lift the per-caller rate limit and
      // the fair-use budgets (50 anonymous connections at once; FAIR_USE=false does the same).
      // Subgraph deadline: generous (30 s) so throughput is compared on answered requests, as the
      // anchors have no deadline at all; the production default stays 1.5 s.
      security: { rateLimitPerMinute: 1_000_000_000, fairUse: false },
      // `nocache`: the response cache off, so every request reaches the subgraphs and the database.
      tuning: { subgraph: { timeoutMs: 30000, dedupInflight: dedup, dedupRepresentations: dedup, retry: true }, ...(cacheArg === 'nocache' ? { responseCacheMaxTtlSeconds: 0 } : {}) },
    });
    const running = await server.listen(port, '127.0.0.1');
    console.log(JSON.stringify({ url: running.url }));
    return;
  }
  if (kind === 'stock') {
    // Stock @apollo/gateway refuses `for: SECURITY` links it cannot enforce; the subgraphs enforce them.
    const gateway = new ApolloGateway({ supergraphSdl: supergraphForGateway(readFileSync(supergraphPath, 'utf8')) });
    const apollo = new ApolloServer({ gateway, introspection: false });
    await apollo.start();
    const app = express();
    app.use('/graphql', express.json({ limit: '1mb' }), expressMiddleware(apollo));
    const server = http.createServer(app);
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    console.log(JSON.stringify({ url: `http://127.0.0.1:${port}/graphql` }));
    return;
  }
  throw new Error(`unknown gateway kind "${kind}"`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
