/**
 * Child process of otlp-export.test.ts (the OTLP exporter loads `http` with a dynamic import, which
 * jest's module sandbox refuses): configured from the environment like a service, it serves one
 * request under `serverSpanMiddleware`, sends it a `traceparent` (TRACEPARENT), flushes the spans
 * and exits.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { tracingFromEnv } from '../../lib/config';
import { ensureTracing, serverSpanMiddleware, shutdownTracing } from '../../lib/tracing';

async function main() {
  ensureTracing(tracingFromEnv());
  const app = express();
  let finished!: () => void;
  const spanEnded = new Promise<void>((r) => (finished = r));
  app.use('/graphql', serverSpanMiddleware('probe'), (_req, res) => {
    res.once('finish', finished);
    res.json({ data: {} });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, { headers: { traceparent: process.env.TRACEPARENT ?? '' } });
  await spanEnded;
  await shutdownTracing();
  server.close();
  process.stdout.write(`status ${res.status}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
