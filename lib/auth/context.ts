/**
 * The verified identity of a caller, as every subgraph and the gateway see it after checking the
 * token. Built only by `verify.ts` from a verified token, or `anonymous()` when no token came.
 */
import { ROLES, scopesForRole, type Role, type RowScopeKey } from './roles';

export interface AreaClaims {
  /** GB/T 2260 district code, e.g. "320104". */
  district?: string;
  /** 9-digit street code. */
  street?: string;
  /** 12-digit neighbourhood (社区) code. */
  neighborhood?: string;
  /** 小区 ids. */
  communities?: string[];
  /** Care team id (CARE_TEAM). */
  team?: string;
  /** Property company USCC (PROPERTY_COMPANY). */
  company?: string;
}

export interface AuthContext {
  authenticated: boolean;
  /** Token subject (`sub`), or "anonymous". */
  subject: string;
  role: Role;
  scopes: ReadonlySet<string>;
  area: AreaClaims;
  partner?: string;
  /** Area kinds the caller is confined to (null = every row its scopes open). */
  limitedBy: readonly RowScopeKey[] | null;
  /** Token id (`jti`), for audit records. */
  tokenId?: string;
}

export const ANONYMOUS: AuthContext = Object.freeze({
  authenticated: false,
  subject: 'anonymous',
  role: 'PUBLIC',
  scopes: new Set<string>(),
  area: {},
  limitedBy: null,
}) as AuthContext;

export function anonymous(): AuthContext {
  return ANONYMOUS;
}

/** Builds the context of a verified caller; token `scope` may only narrow the role's scopes. */
export function authContextFor(opts: {
  subject: string;
  role: Role;
  area?: AreaClaims;
  partner?: string;
  tokenScopes?: string[];
  tokenId?: string;
}): AuthContext {
  const granted = scopesForRole(opts.role, opts.partner);
  const scopes = opts.tokenScopes ? granted.filter((s) => opts.tokenScopes!.includes(s)) : granted;
  return {
    authenticated: true,
    subject: opts.subject,
    role: opts.role,
    scopes: new Set(scopes),
    area: opts.area ?? {},
    partner: opts.partner,
    limitedBy: ROLES[opts.role].limitedBy,
    tokenId: opts.tokenId,
  };
}

/** True when the caller holds every scope of at least one of the alternatives (`@requiresScopes`). */
export function hasScopes(auth: AuthContext, alternatives: readonly (readonly string[])[]): boolean {
  return alternatives.some((all) => all.every((s) => auth.scopes.has(s)));
}

/**
 * Whether the caller may see individual-level figures of a subgraph (unsuppressed small counts):
 * it must be allowed to read that subgraph's personal data everywhere, i.e. not row-limited.
 * Row-limited callers (care teams, street staff) read their own rows' fields instead.
 */
export function hasIndividualAccess(auth: AuthContext, subgraph: string): boolean {
  return auth.authenticated && auth.limitedBy === null && auth.scopes.has(`${subgraph}:pii`);
}
