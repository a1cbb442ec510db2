/**
 * Subgraphs answer only the gateway: a shared secret the gateway sends on every subgraph call in the
 * `x-gateway-secret` header (GATEWAY_SECRET), checked by the subgraph factory before the body is
 * read or parsed. Rotation: a subgraph accepts the current secret and, while GATEWAY_SECRET_PREVIOUS
 * is set, the previous one; the subgraphs are rolled out with the new pair first, then the gateway
 * with the new secret, then the previous one is removed (docs/access.md).
 *
 * A static shared secret rather than a per-request HMAC of the body: the check then needs no body
 * (it runs before parsing), the Hive gateway config can send it as a plain header, and the subgraphs
 * sit on a private network behind the gateway, where the secret only has to tell the gateway from
 * anything else that can reach the port; replay protection would add a clock dependency between
 * processes and buy nothing against an attacker who can read the gateway's traffic anyway.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ConfigError, loadConfig } from '../config';
import { ErrorCode } from '../errors';

export const GATEWAY_SECRET_HEADER = 'x-gateway-secret';

/** What a subgraph accepts: the current secret first, then the previous one (rotation). */
export interface GatewaySecretSettings {
  /** Accepted secrets; empty = no check (the embedded default). */
  accepted: string[];
  /** NODE_ENV=production: a subgraph must not listen without a secret. */
  required: boolean;
}

export function gatewaySecretSettingsFromConfig(env?: NodeJS.ProcessEnv): GatewaySecretSettings {
  const c = loadConfig(env);
  return { accepted: [c.GATEWAY_SECRET, c.GATEWAY_SECRET_PREVIOUS].filter((s): s is string => !!s), required: c.NODE_ENV === 'production' };
}

/** The secret the gateway sends (GATEWAY_SECRET), if any. */
export function gatewaySecretToSend(env?: NodeJS.ProcessEnv): string | undefined {
  return loadConfig(env).GATEWAY_SECRET;
}

/** Start-up refusal: production without a secret would let anyone who reaches the port query the subgraph. */
export function assertGatewaySecretConfigured(name: string, s: GatewaySecretSettings): void {
  if (s.required && s.accepted.length === 0) {
    throw new ConfigError([
      `GATEWAY_SECRET: required when NODE_ENV=production (subgraph "${name}" answers only the gateway; set the same value, at least 32 characters, at the gateway and every subgraph)`,
    ]);
  }
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Express middleware: lets a request through when its `x-gateway-secret` equals an accepted secret
 * (constant-time comparison of SHA-256 digests, so neither the content nor the length leaks through
 * timing); otherwise 401 with a GraphQL-shaped JSON error, before the body is read.
 */
export function requireGatewaySecret(accepted: readonly string[]): RequestHandler {
  const digests = accepted.map(digest);
  return (req, res, next) => {
    const given = req.headers[GATEWAY_SECRET_HEADER];
    if (typeof given === 'string' && given.length > 0) {
      const d = digest(given);
      // Every accepted secret is compared (no early exit): the time does not tell which one matched.
      let ok = false;
      for (const a of digests) ok = timingSafeEqual(a, d) || ok;
      if (ok) return next();
    }
    res.status(401).json({
      errors: [{ message: `this service answers only the gateway (missing or wrong ${GATEWAY_SECRET_HEADER} header)`, extensions: { code: ErrorCode.UNAUTHENTICATED } }],
    });
  };
}
