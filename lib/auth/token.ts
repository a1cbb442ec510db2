/**
 * Signing tokens for the embedded default (`npm run token`, tests). Production tokens come from the
 * city's identity provider instead.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { decodeProtectedHeader, SignJWT } from 'jose';
import type { AuthSettings } from '../config';
import type { AreaClaims } from './context';
import { loadOrCreateLocalKeys, LOCAL_ALG } from './keys';
import type { Role } from './roles';

export interface TokenRequest extends AreaClaims {
  role: Role;
  subject?: string;
  partner?: string;
  /** Narrow the role's scopes (space separated). */
  scope?: string;
  /** Lifetime, e.g. "1h", "15m", or seconds. */
  ttl?: string | number;
}

/** The private key file of a local key set (lib/auth/keys.ts writes it). */
const PRIVATE_KEY_FILE = 'signing-key.private.jwk.json';

/** Which local key set signed a token, and whether minting it created that key set. */
export interface LocalKeySet {
  /** Absolute key directory (JWT_KEY_DIR, default DATA_DIR/keys). */
  dir: string;
  kid: string;
  /** True when no key pair existed there before: this call created it. */
  created: boolean;
}

/** Signs a token with the local key pair of `settings.keyDir`. */
export async function signLocalToken(settings: Pick<AuthSettings, 'issuer' | 'audience' | 'keyDir'>, req: TokenRequest): Promise<string> {
  return (await signLocalTokenWithKeys(settings, req)).token;
}

/** Signs a token and says which key set signed it (`npm run token` prints it). */
export async function signLocalTokenWithKeys(
  settings: Pick<AuthSettings, 'issuer' | 'audience' | 'keyDir'>,
  req: TokenRequest,
): Promise<{ token: string; keys: LocalKeySet }> {
  const dir = path.resolve(settings.keyDir);
  const existed = existsSync(path.join(dir, PRIVATE_KEY_FILE));
  const keys = await loadOrCreateLocalKeys(dir);
  const token = await sign(settings, req, keys);
  return { token, keys: { dir, kid: keys.kid, created: !existed } };
}

async function sign(settings: Pick<AuthSettings, 'issuer' | 'audience'>, req: TokenRequest, keys: Awaited<ReturnType<typeof loadOrCreateLocalKeys>>): Promise<string> {
  const claims: Record<string, unknown> = { role: req.role };
  for (const k of ['district', 'street', 'neighborhood', 'team', 'company', 'partner', 'scope'] as const) {
    if (req[k] !== undefined) claims[k] = req[k];
  }
  if (req.communities?.length) claims.communities = req.communities;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: LOCAL_ALG, kid: keys.kid, typ: 'JWT' })
    .setSubject(req.subject ?? `${req.role.toLowerCase()}:${req.team ?? req.company ?? req.street ?? req.district ?? req.partner ?? 'dev'}`)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt()
    .setJti(randomUUID())
    // wall-clock: token expiry is real time (jose checks exp against it)
    .setExpirationTime(typeof req.ttl === 'number' ? Math.floor(Date.now() / 1000) + req.ttl : (req.ttl ?? '1h')) // wall-clock: as above
    .sign(keys.privateKey);
}

/**
 * Why a token signed by a key the server does not hold is refused, and how to fix it. In the
 * embedded default (local keys) it names the server's key directory and key id, so a token minted
 * with another DATA_DIR / JWT_KEY_DIR is recognisable at once; with an identity provider (JWKS_URL,
 * production) it names no server detail.
 */
export async function unknownKeyReason(token: string, settings: Pick<AuthSettings, 'mode' | 'keyDir'>): Promise<string> {
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch {
    kid = undefined;
  }
  const tokenKey = kid ? `the token's key id "${kid}"` : 'the token names no key id and it';
  if (settings.mode !== 'local') {
    return `signed by an unknown key: ${tokenKey} is not in the identity provider's key set (JWKS_URL); use a token issued by the city's identity provider`;
  }
  const keys = await loadOrCreateLocalKeys(settings.keyDir);
  return (
    `signed by an unknown key: ${tokenKey} is not in this server's key set (local keys in ${keys.dir}, key id "${keys.kid}"); ` +
    'mint the token with the same DATA_DIR (or JWT_KEY_DIR) as the server: `DATA_DIR=<the server\'s> npm run token -- --role …` ' +
    '(npm run token prints the key set it used)'
  );
}
