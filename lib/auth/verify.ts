/**
 * Token verification, the same in the gateway and in every subgraph (a partner's subgraph must not
 * trust a header: it verifies the token itself). Production verifies against the identity
 * provider's JWKS URL; the embedded default against its local key pair. Expired, tampered,
 * wrong-issuer, wrong-audience, unsigned (`alg: none`) or malformed tokens are refused with
 * UNAUTHENTICATED; no token at all means an anonymous public caller.
 */
import { GraphQLError } from 'graphql';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { AuthSettings } from '../config';
import { ErrorCode } from '../errors';
import { anonymous, authContextFor, type AuthContext } from './context';
import { loadOrCreateLocalKeys } from './keys';
import { isRole, ROLES } from './roles';
import { unknownKeyReason } from './token';

/** Asymmetric algorithms only: `none` and shared-secret HMAC are never accepted. */
export const ACCEPTED_ALGORITHMS = ['ES256', 'ES384', 'RS256', 'RS384', 'RS512', 'PS256', 'EdDSA'];

const Claims = z.object({
  sub: z.string().min(1).max(200),
  role: z.string().refine(isRole, 'unknown role'),
  scope: z.string().max(2000).optional(),
  district: z.string().regex(/^\d{6}$/).optional(),
  street: z.string().regex(/^\d{9}$/).optional(),
  neighborhood: z.string().regex(/^\d{12}$/).optional(),
  communities: z.array(z.string().min(1).max(100)).max(500).optional(),
  team: z.string().min(1).max(100).optional(),
  company: z.string().min(1).max(40).optional(),
  partner: z.string().regex(/^[a-z][a-z0-9_-]{0,40}$/).optional(),
  jti: z.string().max(200).optional(),
});

export class AuthenticationError extends GraphQLError {
  constructor(reason: string) {
    super(`invalid bearer token: ${reason}`, {
      extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401, headers: new Map([['www-authenticate', 'Bearer']]) } },
    });
  }
}

export interface TokenVerifier {
  /** Verifies an `Authorization` header value; undefined/empty = anonymous. Throws AuthenticationError. */
  verify(authorization: string | undefined): Promise<AuthContext>;
  settings: AuthSettings;
}

export function createTokenVerifier(settings: AuthSettings): TokenVerifier {
  let keySet: Promise<JWTVerifyGetKey> | undefined;
  const getKeySet = () => {
    if (!keySet) {
      keySet =
        settings.mode === 'jwks'
          ? Promise.resolve(createRemoteJWKSet(new URL(settings.jwksUrl!), { timeoutDuration: 3000, cooldownDuration: 30000 }))
          : loadOrCreateLocalKeys(settings.keyDir).then((k) => createLocalJWKSet(k.jwks));
      keySet.catch(() => (keySet = undefined));
    }
    return keySet;
  };
  // Verified tokens are remembered until they expire (the gateway forwards one token to several
  // subgraphs, each verifying it again): at most CACHE_SIZE entries, oldest evicted first.
  const cache = new Map<string, { auth: AuthContext; exp: number }>();
  return {
    settings,
    async verify(authorization) {
      if (authorization === undefined || authorization.trim() === '') return anonymous();
      const m = /^Bearer\s+([A-Za-z0-9_\-.]+)\s*$/i.exec(authorization);
      if (!m) throw new AuthenticationError('expected "Authorization: Bearer <token>"');
      const token = m[1]!;
      const hit = cache.get(token);
      if (hit && hit.exp > Date.now() / 1000) return hit.auth; // wall-clock: token expiry is real time (jose checks exp against it)
      if (hit) cache.delete(token);
      const auth = await verifyToken(token);
      if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
      cache.set(token, { auth: auth.context, exp: auth.exp });
      return auth.context;
    },
  };

  async function verifyToken(token: string): Promise<{ context: AuthContext; exp: number }> {
    let payload: Record<string, unknown>;
    try {
      const res = await jwtVerify(token, await getKeySet(), {
        issuer: settings.issuer,
        audience: settings.audience,
        algorithms: ACCEPTED_ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: 5,
      });
      payload = res.payload as Record<string, unknown>;
    } catch (err) {
      // A key the server does not hold: say which key set it has and how to fix it (lib/auth/token.ts).
      if (err instanceof joseErrors.JWKSNoMatchingKey) throw new AuthenticationError(await unknownKeyReason(token, settings));
      throw new AuthenticationError(reasonOf(err));
    }
    const claims = Claims.safeParse(payload);
    if (!claims.success) throw new AuthenticationError('claims are malformed');
    const c = claims.data;
    const role = c.role as Parameters<typeof authContextFor>[0]['role'];
    if (role === 'PUBLIC') throw new AuthenticationError('the PUBLIC role needs no token');
    for (const needed of ROLES[role].requiredClaims ?? []) {
      if (needed === 'community' ? !c.communities?.length : !c[needed]) throw new AuthenticationError(`role ${role} needs a "${needed}" claim`);
    }
    const context = authContextFor({
      subject: c.sub,
      role,
      partner: c.partner,
      tokenScopes: c.scope ? c.scope.split(/\s+/).filter(Boolean) : undefined,
      tokenId: c.jti,
      area: {
        district: c.district,
        street: c.street,
        neighborhood: c.neighborhood,
        communities: c.communities,
        team: c.team,
        company: c.company,
      },
    });
    return { context, exp: Number(payload.exp) };
  }
}

const CACHE_SIZE = 1000;

/** A reason a caller can act on, without echoing key material or internals. */
function reasonOf(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `claim "${err.claim}" is not accepted`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'signing algorithm is not accepted';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'signed by an unknown key';
  if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JOSEError && err.code === 'ERR_JWKS_INVALID') return 'key set is unavailable';
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'token is malformed';
  return 'token is not accepted';
}

const verifiers = new Map<string, TokenVerifier>();
/** One verifier per settings (key sets and remote JWKS caches are shared). */
export function sharedVerifier(settings: AuthSettings): TokenVerifier {
  const key = JSON.stringify(settings);
  let v = verifiers.get(key);
  if (!v) verifiers.set(key, (v = createTokenVerifier(settings)));
  return v;
}
