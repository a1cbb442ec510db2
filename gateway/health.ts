/**
 * `/health` (liveness: the process answers) and `/ready` (the supergraph is loaded and every
 * subgraph answers its own `/ready`, database included; per-subgraph status) for the gateway.
 * Probes run in parallel with a short deadline, and their results are reused for a second so a
 * load balancer polling hard does not multiply traffic to the subgraphs.
 */
import http from 'node:http';
import https from 'node:https';
import type express from 'express';
import type { SubgraphDataSource } from './datasource';

export interface SubgraphStatus {
  status: 'up' | 'down' | 'not ready';
  latencyMs: number;
  /** Recent failures seen by the data source (no URL, no errno). */
  recentFailures?: number;
}

export interface HealthDeps {
  /** Subgraph name → routing URL actually used. */
  subgraphs: Map<string, string>;
  /** Data sources by name, for failure counters (optional). */
  dataSources?: Map<string, SubgraphDataSource>;
  /** True once the gateway has loaded its supergraph and Apollo Server has started. */
  isLoaded: () => boolean;
  probeTimeoutMs?: number;
  cacheMs?: number;
}

export function registerHealthRoutes(app: express.Express, deps: HealthDeps): void {
  const timeout = deps.probeTimeoutMs ?? 1000;
  const cacheMs = deps.cacheMs ?? 1000;
  let cached: { at: number; body: Promise<ReadyBody> } | undefined;

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', service: 'gateway' });
  });
  app.get('/ready', async (_req, res) => {
    if (!cached || Date.now() - cached.at > cacheMs) cached = { at: Date.now(), body: readiness(deps, timeout) };
    const body = await cached.body;
    res.status(body.ready ? 200 : 503).json(body);
  });
}

interface ReadyBody {
  ready: boolean;
  supergraph: 'loaded' | 'not loaded';
  subgraphs: Record<string, SubgraphStatus['status']>;
  details: Record<string, SubgraphStatus>;
}

async function readiness(deps: HealthDeps, timeout: number): Promise<ReadyBody> {
  const loaded = deps.isLoaded() && deps.subgraphs.size > 0;
  const checks = await Promise.all(
    [...deps.subgraphs].map(async ([name, url]) => {
      const s = await probeSubgraph(url, timeout);
      const failures = deps.dataSources?.get(name)?.stats.failures;
      return [name, failures === undefined ? s : { ...s, recentFailures: failures }] as const;
    }),
  );
  return {
    ready: loaded && checks.every(([, s]) => s.status === 'up'),
    supergraph: loaded ? 'loaded' : 'not loaded',
    subgraphs: Object.fromEntries(checks.map(([n, s]) => [n, s.status])),
    details: Object.fromEntries(checks),
  };
}

/**
 * A subgraph is up when its `/ready` answers 200 in time. Subgraphs without `/ready` (partners on
 * other stacks) are asked `{ __typename }` on their GraphQL URL instead.
 */
export async function probeSubgraph(graphqlUrl: string, timeoutMs = 1000): Promise<SubgraphStatus> {
  const started = Date.now();
  const base = graphqlUrl.replace(/\/graphql\/?$/, '');
  const ready = await request(`${base}/ready`, 'GET', undefined, timeoutMs);
  let status: SubgraphStatus['status'];
  if (ready === 200) status = 'up';
  else if (ready === 404) {
    const left = Math.max(50, timeoutMs - (Date.now() - started));
    status = (await request(graphqlUrl, 'POST', '{"query":"{ __typename }"}', left)) === 200 ? 'up' : 'down';
  } else status = ready === 0 ? 'down' : 'not ready';
  return { status, latencyMs: Date.now() - started };
}

/** Status code, or 0 when there was no answer in time. */
function request(url: string, method: string, body: string | undefined, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(code);
    };
    let req: http.ClientRequest;
    try {
      req = (url.startsWith('https:') ? https : http).request(url, {
        method,
        agent: false,
        headers: body ? { 'content-type': 'application/json', 'apollo-require-preflight': 'true' } : {},
      });
    } catch {
      return resolve(0);
    }
    const timer = setTimeout(() => {
      finish(0);
      req.destroy();
    }, timeoutMs);
    req.on('error', () => finish(0));
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => finish(res.statusCode ?? 0));
      res.on('error', () => finish(0));
    });
    req.end(body);
  });
}
