/**
 * Tokens without surprises: `npm run token` says (on stderr) which local key set signed the token
 * and whether it just created it; a token signed by a key the server does not hold is refused with
 * its key id, the server's key set (in the embedded default only) and how to fix it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeProtectedHeader, generateKeyPair } from 'jose';
import type { AuthSettings } from '../../lib/config';
import { loadOrCreateLocalKeys } from '../../lib/auth/keys';
import { signLocalToken, signLocalTokenWithKeys } from '../../lib/auth/token';
import { AuthenticationError, createTokenVerifier } from '../../lib/auth/verify';
import { createGatewayServer } from '../../gateway/server';
import { createLogger } from '../../lib/logger';
import { DEFAULT_SUPERGRAPH } from '../../scripts/stack';
import { signWith, startJwksServer } from './helpers';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'token-keys-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const local = (dir: string): AuthSettings => ({ mode: 'local', issuer: 'city-community-graph', audience: 'city-community-graph', keyDir: dir });

/** `npm run token` as a user runs it, in a working folder of its own. */
async function mint(env: Record<string, string>, args: string[]) {
  const cwd = mkdtempSync(path.join(tmp, 'cwd-'));
  const { JWT_KEY_DIR: _k, DATA_DIR: _d, ...base } = process.env;
  const r = await run(TSX, [path.join(ROOT, 'scripts/token.ts'), ...args], { cwd, env: { ...base, ...env } });
  return { ...r, cwd };
}

describe('npm run token', () => {
  test('a first run in a fresh DATA_DIR says it created the key set there, with its key id; the next run names the same set without "created"', async () => {
    const dataDir = path.join(tmp, 'first');
    const first = await mint({ DATA_DIR: dataDir }, ['--role', 'CITY_ADMIN']);
    const token = first.stdout.trim();
    expect(token.split('.')).toHaveLength(3); // stdout is the token alone
    const kid = decodeProtectedHeader(token).kid!;
    const keyDir = path.join(dataDir, 'keys');
    expect(first.stderr).toContain(`signed with the local key set in ${keyDir} (key id ${kid}; from DATA_DIR=${dataDir}/keys)`);
    expect(first.stderr).toMatch(/just created one/);
    expect(first.stderr).toMatch(/same DATA_DIR \/ JWT_KEY_DIR as the server/);

    const second = await mint({ DATA_DIR: dataDir }, ['--role', 'HOUSING_BUREAU']);
    expect(decodeProtectedHeader(second.stdout.trim()).kid).toBe(kid);
    expect(second.stderr).toContain(`signed with the local key set in ${keyDir} (key id ${kid}`);
    expect(second.stderr).not.toMatch(/created/);
  }, 60_000);

  test('without DATA_DIR the key set is the working folder\'s .data/keys, and the command says so', async () => {
    const r = await mint({}, ['--role', 'CIVIL_AFFAIRS']);
    const keyDir = path.join(r.cwd, '.data', 'keys');
    expect(r.stderr).toContain(`signed with the local key set in ${keyDir}`);
    expect(r.stderr).toContain('from DATA_DIR (default .data)/keys');
    expect(r.stderr).toMatch(/just created one/);
  }, 60_000);

  test('JWT_KEY_DIR is named as the source when it is set', async () => {
    const keyDir = path.join(tmp, 'explicit-keys');
    const r = await mint({ JWT_KEY_DIR: keyDir }, ['--role', 'CITY_ADMIN']);
    expect(r.stderr).toContain(`signed with the local key set in ${keyDir}`);
    expect(r.stderr).toContain('from JWT_KEY_DIR');
  }, 60_000);

  test('signLocalTokenWithKeys reports created only the first time', async () => {
    const dir = path.join(tmp, 'api-keys');
    const a = await signLocalTokenWithKeys(local(dir), { role: 'CITY_ADMIN' });
    const b = await signLocalTokenWithKeys(local(dir), { role: 'CITY_ADMIN' });
    expect(a.keys).toEqual({ dir, kid: b.keys.kid, created: true });
    expect(b.keys.created).toBe(false);
  });
});

describe('a token signed by a key the server does not hold', () => {
  test('embedded default: refused naming the token\'s key id, the server\'s key directory and key id, and the fix', async () => {
    const serverDir = path.join(tmp, 'server-keys');
    const otherDir = path.join(tmp, 'other-keys');
    const serverKeys = await loadOrCreateLocalKeys(serverDir);
    const token = await signLocalToken(local(otherDir), { role: 'CITY_ADMIN' });
    const tokenKid = decodeProtectedHeader(token).kid!;
    expect(tokenKid).not.toBe(serverKeys.kid);
    const err = await createTokenVerifier(local(serverDir)).verify(`Bearer ${token}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    const msg = (err as Error).message;
    expect(msg).toContain('signed by an unknown key');
    expect(msg).toContain(`the token's key id "${tokenKid}" is not in this server's key set`);
    expect(msg).toContain(`local keys in ${serverDir}, key id "${serverKeys.kid}"`);
    expect(msg).toMatch(/same DATA_DIR \(or JWT_KEY_DIR\) as the server/);
  });

  test('identity provider (JWKS_URL, production): refused naming the token\'s key id only, no server directory', async () => {
    const jwks = await startJwksServer();
    try {
      const { privateKey } = await generateKeyPair('RS256');
      const settings: AuthSettings = { mode: 'jwks', jwksUrl: jwks.url, issuer: 'city-community-graph', audience: 'city-community-graph', keyDir: path.join(tmp, 'never-used') };
      const token = await signWith(privateKey, 'RS256', 'rotated-away', { role: 'CITY_ADMIN' }, { iss: settings.issuer, aud: settings.audience });
      const err = await createTokenVerifier(settings).verify(`Bearer ${token}`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthenticationError);
      const msg = (err as Error).message;
      expect(msg).toContain(`the token's key id "rotated-away" is not in the identity provider's key set`);
      expect(msg).not.toContain(tmp);
      expect(msg).not.toMatch(/DATA_DIR|local keys/);
    } finally {
      await jwks.close();
    }
  });

  test('through the gateway the caller gets 401 UNAUTHENTICATED with the same explanation', async () => {
    const serverDir = path.join(tmp, 'gateway-keys');
    const serverKeys = await loadOrCreateLocalKeys(serverDir);
    const gateway = createGatewayServer({
      supergraphPath: DEFAULT_SUPERGRAPH,
      watchSupergraph: false,
      // Never reached: the token is refused before planning.
      subgraphUrls: { properties: 'http://127.0.0.1:9/graphql', governance: 'http://127.0.0.1:9/graphql', elderly: 'http://127.0.0.1:9/graphql', renovation: 'http://127.0.0.1:9/graphql' },
      logger: createLogger('gateway', 'silent'),
      security: { auth: local(serverDir) },
    });
    const running = await gateway.listen(0);
    try {
      const token = await signLocalToken(local(path.join(tmp, 'elsewhere-keys')), { role: 'CITY_ADMIN' });
      const res = await fetch(running.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ cities { code } }' }),
      });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
      expect(body.errors[0]!.message).toContain(`key id "${decodeProtectedHeader(token).kid}" is not in this server's key set (local keys in ${serverDir}, key id "${serverKeys.kid}")`);
    } finally {
      await running.close();
    }
  });
});
