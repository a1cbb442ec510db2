/**
 * A tiny HTTP load balancer for the replica tests: what a Kubernetes Service or any load balancer in
 * front of replicas does. `@apollo/gateway` routes each subgraph to one URL and does not fail over
 * between replicas by itself, so a deployment puts a Service (or a load balancer) in front of each
 * replicated service; this stands in for it on 127.0.0.1.
 *
 * A request goes to the next target (round robin) or to the first live one in order (`ordered`,
 * which keeps the tests deterministic: each gateway prefers "its" replica). A target that refuses
 * the connection (its server is closed) is skipped and the same request is sent to the next one:
 * that is safe even for mutations, because a refused connection never reached the server.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Balancer {
  /** The balancer's URL, with the targets' path (e.g. `/graphql`). */
  url: string;
  /** Requests answered by each target. */
  hits: Map<string, number>;
  /** Connections refused by a target (a request then went to the next one). */
  refused: number;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'host', 'content-length']);

function forward(target: URL, req: http.IncomingMessage, body: Buffer): Promise<Answer> {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
  headers['content-length'] = body.length;
  return new Promise((resolve, reject) => {
    // A fresh connection per request (agent: false): no pooled socket outlives a closed replica.
    const out = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    out.on('error', reject);
    out.end(body);
  });
}

export async function startBalancer(targets: string[], strategy: 'round-robin' | 'ordered' = 'round-robin'): Promise<Balancer> {
  const urls = targets.map((t) => new URL(t));
  const hits = new Map(targets.map((t) => [t, 0]));
  let next = 0;
  const state = { refused: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const start = strategy === 'round-robin' ? next++ % urls.length : 0;
      for (let i = 0; i < urls.length; i++) {
        const idx = (start + i) % urls.length;
        try {
          const answer = await forward(urls[idx]!, req, body);
          hits.set(targets[idx]!, (hits.get(targets[idx]!) ?? 0) + 1);
          const headers: http.OutgoingHttpHeaders = {};
          for (const [k, v] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
          res.writeHead(answer.status, { ...headers, 'content-length': answer.body.length });
          res.end(answer.body);
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ECONNREFUSED') {
            res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
            return;
          }
          state.refused++;
        }
      }
      res.writeHead(503, { 'content-type': 'text/plain' }).end('no live target');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${urls[0]!.pathname}`,
    hits,
    get refused() {
      return state.refused;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
