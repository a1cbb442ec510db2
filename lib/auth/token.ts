/**
 * Signing tokens for the embedded default (`npm run token`, tests). Production tokens come from the
 * city's identity provider instead.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
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

/** Signs a token with the local key pair of `settings.keyDir`. */
export async function signLocalToken(settings: Pick<AuthSettings, 'issuer' | 'audience' | 'keyDir'>, req: TokenRequest): Promise<string> {
  const keys = await loadOrCreateLocalKeys(settings.keyDir);
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
