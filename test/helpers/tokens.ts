/**
 * Bearer tokens for tests that talk to a subgraph or the stack with the default configuration
 * (local key pair under JWT_KEY_DIR / DATA_DIR/keys): `await authHeader('CITY_ADMIN')` gives the
 * headers of a caller of that role (see lib/auth/roles.ts, docs/access.md).
 */
import { loadConfig } from '../../lib/config';
import { signLocalToken, type TokenRequest } from '../../lib/auth/token';
import type { Role } from '../../lib/auth/roles';

export async function authHeader(role: Role, claims: Omit<TokenRequest, 'role'> = {}): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await signLocalToken(loadConfig().auth, { role, ...claims })}` };
}
