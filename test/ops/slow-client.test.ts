/**
 * A slow client cannot hold a connection: raw TCP clients on 127.0.0.1 that send their headers, or
 * their body, a byte at a time (slowloris) are answered 408 and disconnected by the gateway and by a
 * subgraph once HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS (small here) have passed, while a
 * normal client's request sent meanwhile is answered.
 */
import net from 'node:net';
import type { Connection } from 'mongoose';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../embedded-mongo/src';
import { createGatewayServer } from '../../gateway/server';
import { connectDatabase } from '../../lib/db';
import type { Listening } from '../../lib/http';
import { createLogger } from '../../lib/logger';
import { DEFAULT_SUPERGRAPH } from '../../scripts/stack';
import { findSubgraph } from '../../scripts/subgraphs';
import { gql } from '../helpers/subgraph';

const ENV = { HTTP_HEADERS_TIMEOUT_MS: '800', HTTP_REQUEST_TIMEOUT_MS: '1500' };
const saved: Record<string, string | undefined> = {};
let engine: EmbeddedMongo;
let conn: Connection;
let subgraph: Listening;
let gateway: Listening;

beforeAll(async () => {
  // The servers read the variables when they are created (lib/config.ts `httpTimeoutsFromEnv`).
  for (const [k, v] of Object.entries(ENV)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  engine = await startEmbeddedMongo({ port: 0 });
  const properties = findSubgraph('properties');
  conn = await connectDatabase({ uri: engine.uri, dbName: `city_properties_slow_${process.pid}` });
  const server = await properties.create(conn, createLogger('properties', 'silent'));
  await properties.seed(conn);
  subgraph = await server.listen(0);
  gateway = await createGatewayServer({
    supergraphPath: DEFAULT_SUPERGRAPH,
    subgraphUrls: { properties: subgraph.url },
    logger: createLogger('gateway', 'silent'),
    watchSupergraph: false,
  }).listen(0);
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await subgraph?.close();
  await conn?.close();
  await engine?.stop();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

interface SlowClient {
  /** Everything the server sent, once it closed the connection. */
  closed: Promise<string>;
  /** Bytes the client had sent when the server closed the connection, and how many it meant to send. */
  progress(): { sent: number; total: number };
}

/**
 * Connects and sends `head` at once, then `drip` one byte every 100 ms (it would take
 * `drip.length / 10` seconds to finish: far longer than any timeout here).
 */
function slowClient(port: number, head: string, drip: string): Promise<SlowClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const closed = new Promise<string>((res) => {
      socket.on('data', (d) => (received += String(d)));
      socket.on('close', () => {
        clearInterval(timer);
        res(received);
      });
    });
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (sent < drip.length && !socket.destroyed) socket.write(drip[sent++]);
      }, 100);
      resolve({ closed, progress: () => ({ sent, total: drip.length }) });
    });
    socket.once('error', reject);
  });
}

const portOf = (url: string) => Number(new URL(url).port);
const HEADERS_BYTE_BY_BYTE = (port: number) => slowClient(port, 'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n', `X-Slow: ${'a'.repeat(3000)}\r\n\r\n`);
const BODY_BYTE_BY_BYTE = (port: number) => {
  const body = JSON.stringify({ query: `{ cities { code } }${' '.repeat(3000)}` });
  return slowClient(port, `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`, body);
};

describe.each([
  ['gateway', () => gateway.url],
  ['subgraph', () => subgraph.url],
])('slow clients at the %s', (_name, urlOf) => {
  it('clients sending headers or a body byte by byte get 408 and are disconnected; a normal request sent meanwhile is answered', async () => {
    const url = urlOf();
    const slow = await Promise.all([...Array(10)].map((_, i) => (i % 2 ? BODY_BYTE_BY_BYTE(portOf(url)) : HEADERS_BYTE_BY_BYTE(portOf(url)))));

    const normal = await gql(url, '{ cities { code } }');
    expect(normal.errors).toBeUndefined();
    expect(normal.data!.cities.length).toBeGreaterThan(0);

    const answers = await Promise.all(slow.map((s) => s.closed));
    for (const [i, answer] of answers.entries()) {
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
      // Cut off long before it could have finished sending.
      const { sent, total } = slow[i].progress();
      expect(sent).toBeLessThan(total);
    }
  });
});
