/**
 * Open311 GeoReport v2 on the gateway's origin: `/open311/v2/*` is passed as it is to the subgraph
 * that serves it (governance, whose HTTP app answers it through its own GraphQL endpoint and access
 * rules). Method, path, query, body and the headers that matter (content type, authorization,
 * idempotency key, request id) are forwarded; the answer comes back unchanged. The subgraph's
 * routing URL is read when a request arrives (known once the supergraph is loaded); until then, or
 * when the subgraph does not answer, clients get the standard's error array with a 503/502.
 *
 * Hook (gateway/server.ts, after the UI routes): `registerOpen311Proxy(app, () => subgraphs.get('governance'));`
 */
import type { Express, Request, Response } from 'express';
import { GATEWAY_SECRET_HEADER, gatewaySecretToSend } from '../lib/auth/gateway-secret';

const FORWARDED = ['content-type', 'authorization', 'idempotency-key', 'x-request-id', 'accept'] as const;
const BODY_LIMIT = 64 * 1024;

function fail(res: Response, status: number, description: string) {
  res.status(status).type('application/json').send(JSON.stringify([{ code: status, description }]));
}

async function readBody(req: Request): Promise<Buffer | null> {
  if (req.method === 'GET' || req.method === 'HEAD') return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > BODY_LIMIT) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Mounts the pass-through; `targetUrl` gives the subgraph's GraphQL routing URL (or undefined). */
export function registerOpen311Proxy(app: Express, targetUrl: () => string | undefined): void {
  // The subgraph answers only the gateway when GATEWAY_SECRET is set (lib/auth/gateway-secret.ts).
  const secret = gatewaySecretToSend();
  app.use('/open311/v2', async (req, res) => {
    const url = targetUrl();
    if (!url) return fail(res, 503, 'Open311 is not available yet; retry shortly');
    const target = new URL(req.originalUrl, new URL(url).origin);
    try {
      const body = await readBody(req);
      const headers: Record<string, string> = {};
      for (const h of FORWARDED) {
        const v = req.headers[h];
        if (typeof v === 'string') headers[h] = v;
      }
      if (secret) headers[GATEWAY_SECRET_HEADER] = secret;
      const upstream = await fetch(target, { method: req.method, headers, body: body && body.length ? body : undefined, signal: AbortSignal.timeout(15_000) });
      res.status(upstream.status);
      const type = upstream.headers.get('content-type');
      if (type) res.type(type);
      res.send(Buffer.from(await upstream.arrayBuffer()));
    } catch (e) {
      const status = (e as { status?: number }).status;
      if (status === 413) return fail(res, 413, 'request body too large');
      fail(res, 502, 'the Open311 service did not answer');
    }
  });
}
