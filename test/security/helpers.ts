/**
 * Helpers of the security tests: throw-away key directories, signed tokens for any role, a JWKS
 * server on 127.0.0.1 ("production" keys), and the fixture subgraph behind a real gateway.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import type { Connection } from 'mongoose';
import type { AuthSettings } from '../../lib/config';
import { connectDatabase } from '../../lib/db';
import { createLogger } from '../../lib/logger';
import { signLocalToken, type TokenRequest } from '../../lib/auth/token';
import { createGatewayServer } from '../../gateway/server';
import type { GatewaySecurityOptions } from '../../gateway/security';
import { startTestDatabase, uniqueDbName, type Engine } from '../helpers/subgraph';
import { FIXTURE_SDL, fixtureServer } from './fixture/elderly-fixture';

export function localAuth(): AuthSettings {
  return { mode: 'local', issuer: 'city-community-graph', audience: 'city-community-graph', keyDir: mkdtempSync(path.join(os.tmpdir(), 'ccg-keys-')) };
}

export const token = (auth: AuthSettings, req: TokenRequest) => signLocalToken(auth, req);
export const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

/** An identity provider stand-in: its own key pair, a JWKS endpoint on 127.0.0.1. */
export async function startJwksServer(): Promise<{ url: string; privateKey: KeyLike; kid: string; close(): Promise<void> }> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'prod-1', alg: 'RS256', use: 'sig' };
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    privateKey,
    kid: 'prod-1',
    close: () => new Promise((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

export async function signWith(privateKey: KeyLike, alg: string, kid: string, claims: Record<string, unknown>, o: { iss?: string; aud?: string; exp?: number | string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg, kid })
    .setSubject(String(claims.sub ?? 'tester'))
    .setIssuer(o.iss ?? 'city-community-graph')
    .setAudience(o.aud ?? 'city-community-graph')
    .setIssuedAt()
    .setExpirationTime(o.exp ?? '1h')
    .sign(privateKey);
}

export interface FixtureStack {
  auth: AuthSettings;
  engine: Engine;
  conn: Connection;
  subgraphUrl: string;
  gatewayUrl: string;
  visits: string[];
  stop(): Promise<void>;
}

/** The fixture subgraph and a real gateway in front of it, both on 127.0.0.1 port 0. */
export async function startFixtureStack(opts: { auth?: AuthSettings; security?: Partial<GatewaySecurityOptions>; engine?: Engine } = {}): Promise<FixtureStack> {
  const auth = opts.auth ?? localAuth();
  const engine = opts.engine ?? (await startTestDatabase());
  const conn = await connectDatabase({ uri: engine.uri, dbName: uniqueDbName('security') });
  const { server, visits } = fixtureServer(conn, auth);
  const sub = await server.listen(0);
  const composed = composeServices([{ name: 'elderly', url: sub.url, typeDefs: parse(readFileSync(FIXTURE_SDL, 'utf8')) }]);
  if (composed.errors) throw new Error(composed.errors.map(String).join('\n'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ccg-sg-'));
  const supergraphPath = path.join(dir, 'supergraph.graphql');
  writeFileSync(supergraphPath, composed.supergraphSdl!);
  const gw = createGatewayServer({
    supergraphPath,
    watchSupergraph: false,
    subgraphUrls: { elderly: sub.url },
    logger: createLogger('gateway', 'silent'),
    security: { auth, ...opts.security },
  });
  const running = await gw.listen(0);
  return {
    auth,
    engine,
    conn,
    subgraphUrl: sub.url,
    gatewayUrl: running.url,
    visits,
    async stop() {
      await running.close();
      await sub.close();
      await conn.close();
      if (!opts.engine) await engine.stop();
    },
  };
}

export interface Resp {
  status: number;
  data?: any;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

/** POST a GraphQL request; never throws on non-JSON answers (returns them as an error). */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Resp> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  try {
    return { status: res.status, ...(JSON.parse(text) as object) };
  } catch {
    return { status: res.status, errors: [{ message: `non-JSON answer: ${text.slice(0, 200)}` }] };
  }
}

export const q = (url: string, query: string, headers: Record<string, string> = {}, variables?: Record<string, unknown>) => post(url, { query, variables }, headers);

export const codes = (r: Resp) => (r.errors ?? []).map((e) => e.extensions?.code);
