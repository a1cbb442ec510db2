/**
 * The ONE enforcement mechanism every subgraph runs (hooked in by `createSubgraphServer`): a
 * schema transform that reads the access rules written in the subgraph's SDL and wraps resolvers.
 *
 *  - `@authenticated` (Federation): a token is required (none → UNAUTHENTICATED).
 *  - `@requiresScopes(scopes: [["a", "b"], ["c"]])` (Federation): all scopes of one alternative are
 *    required (no token → UNAUTHENTICATED, missing scope → FORBIDDEN).
 *  - `@rowScope(by: [COMMUNITY, CARE_TEAM, ...])` (ours, composed): a row-limited caller (street
 *    staff, care team, property company) sees a row only when one of its area claims of those kinds
 *    matches the row. On a type: lists of it are filtered and a hidden single row answers null,
 *    exactly like a missing one (also for `_entities`). On a field: the field is FORBIDDEN outside
 *    the caller's area.
 *  - `@pii(category: PERSONAL | SENSITIVE)` (ours, composed): personal data. Implies a token and,
 *    unless `@requiresScopes` says otherwise, the scope `<subgraph>:pii` (`<subgraph>:sensitive` for
 *    SENSITIVE). A denied read answers null with an error for that field, never the value. Every
 *    allowed read is noted for the audit log (written once per request).
 *
 * Type-level `@authenticated`/`@requiresScopes` apply to the type's own fields and to every field
 * returning the type. Resolvers stay free of access checks.
 */
import {
  defaultFieldResolver,
  getNamedType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { getDirective } from '@graphql-tools/utils';
import { forbidden, unauthenticated } from '../errors';
import type { AuditCollector } from './audit';
import { ANONYMOUS, hasScopes, type AuthContext } from './context';
import type { RowScopeKey } from './roles';

/** Definitions each subgraph SDL carries (after its `@link` imports), identical everywhere. */
export const ACCESS_DIRECTIVES_SDL = `
"Row-level scope: area-limited callers see only rows whose area matches one of their claims of these kinds."
directive @rowScope(by: [RowScopeKey!]!) on OBJECT | FIELD_DEFINITION
"Personal data (个人信息); SENSITIVE is 敏感个人信息 under PIPL. Every read is audited."
directive @pii(category: PiiCategory!) on FIELD_DEFINITION
enum RowScopeKey { DISTRICT STREET NEIGHBORHOOD COMMUNITY CARE_TEAM COMPANY }
enum PiiCategory { PERSONAL SENSITIVE }
`;

/** Context keys the mechanism reads; `createSubgraphServer` sets them for every request. */
export interface AccessContext {
  auth: AuthContext;
  audit?: AuditCollector;
}

/** The area values of a row, per kind; a subgraph may override how they are read. */
export type RowAttributes = Partial<Record<RowScopeKey, string | readonly string[] | null | undefined>>;
export type RowAttributeReader = (typeName: string, row: Record<string, unknown>) => RowAttributes;

const str = (v: unknown): string | undefined => (v == null ? undefined : String(v));
const idOf = (row: Record<string, unknown>) => str(row.id ?? row._id);

/** Conventional attribute names (documents of every subgraph follow them). */
export const defaultRowAttributes: RowAttributeReader = (typeName, row) => {
  const community =
    (row.communityId as string | undefined) ??
    (row.communityIds as string[] | undefined) ??
    (typeName === 'Community' ? idOf(row) : undefined);
  const districtFromCommunity = (c: unknown) => (typeof c === 'string' ? /^cm_(\d{6})_/.exec(c)?.[1] : undefined);
  const district =
    (row.districtCode as string | undefined) ??
    (Array.isArray(community) ? community.map(districtFromCommunity).filter((d): d is string => !!d) : districtFromCommunity(community));
  return {
    COMMUNITY: community,
    DISTRICT: district,
    STREET: row.streetCode as string | undefined,
    NEIGHBORHOOD: row.neighborhoodCode as string | undefined,
    CARE_TEAM:
      (row.careTeamId as string | undefined) ??
      (row.teamId as string | undefined) ??
      (row.registeredByTeamId as string | undefined) ??
      (row.careTeamIds as string[] | undefined) ??
      (typeName === 'CareTeam' ? idOf(row) : undefined),
    COMPANY:
      (row.companyUscc as string | undefined) ??
      (row.currentCompanyUscc as string | undefined) ??
      (typeName === 'PropertyCompany' ? str(row.uscc ?? row._id) : undefined),
  };
};

/** The caller's claims of one kind. */
function claimsOf(auth: AuthContext, key: RowScopeKey): readonly string[] {
  const a = auth.area;
  switch (key) {
    case 'DISTRICT':
      return a.district ? [a.district] : [];
    case 'STREET':
      return a.street ? [a.street] : [];
    case 'NEIGHBORHOOD':
      return a.neighborhood ? [a.neighborhood] : [];
    case 'COMMUNITY':
      return a.communities ?? [];
    case 'CARE_TEAM':
      return a.team ? [a.team] : [];
    case 'COMPANY':
      return a.company ? [a.company] : [];
  }
}

/** True when the caller may see the row (not row-limited, or a claim of a listed kind matches). */
export function rowVisible(auth: AuthContext, keys: readonly RowScopeKey[], attrs: RowAttributes): boolean {
  if (auth.limitedBy === null) return true;
  for (const key of keys) {
    if (!auth.limitedBy.includes(key)) continue;
    const claims = claimsOf(auth, key);
    if (!claims.length) continue;
    const v = attrs[key];
    const values = v == null ? [] : typeof v === 'string' ? [v] : v;
    if (values.some((x) => claims.includes(x))) return true;
  }
  return false;
}

interface Rules {
  authenticated: boolean;
  /** Scope requirements that must all hold; each is a list of alternatives (`@requiresScopes`). */
  scopes: string[][][] | null;
  rowScope: RowScopeKey[] | null;
  pii: 'PERSONAL' | 'SENSITIVE' | null;
}

export interface AccessControlOptions {
  /** Subgraph name: default scopes of `@pii` fields are `<subgraph>:pii` / `<subgraph>:sensitive`. */
  subgraph: string;
  rowAttributes?: RowAttributeReader;
}

export interface AccessControlReport {
  /** `Type.field` → rules, for docs and tests. */
  fields: Map<string, Rules>;
  /** Types whose rows are filtered by `@rowScope`. */
  rowScopedTypes: Map<string, RowScopeKey[]>;
}

function directiveArgs(schema: GraphQLSchema, node: Parameters<typeof getDirective>[1], name: string) {
  return getDirective(schema, node, name)?.[0] as Record<string, unknown> | undefined;
}

function typeRules(schema: GraphQLSchema, type: GraphQLNamedType): { authenticated: boolean; scopes: string[][] | null } {
  if (!isObjectType(type) && !isInterfaceType(type)) return { authenticated: false, scopes: null };
  const auth = !!directiveArgs(schema, type, 'authenticated');
  const scopes = directiveArgs(schema, type, 'requiresScopes')?.scopes as string[][] | undefined;
  return { authenticated: auth, scopes: scopes ?? null };
}

/**
 * Applies the access rules of the schema's directives by wrapping resolvers in place (the
 * federation resolvers `@apollo/subgraph` attached stay intact). Returns what it enforced.
 */
export function applyAccessControl(schema: GraphQLSchema, opts: AccessControlOptions): AccessControlReport {
  const readAttrs = opts.rowAttributes ?? defaultRowAttributes;
  const report: AccessControlReport = { fields: new Map(), rowScopedTypes: new Map() };
  const types = Object.values(schema.getTypeMap()).filter(
    (t): t is GraphQLObjectType => isObjectType(t) && !t.name.startsWith('__'),
  );
  for (const type of types) {
    const rs = directiveArgs(schema, type, 'rowScope')?.by as RowScopeKey[] | undefined;
    if (rs?.length) report.rowScopedTypes.set(type.name, rs);
  }

  for (const type of types) {
    const own = typeRules(schema, type);
    for (const field of Object.values(type.getFields())) {
      const returned = getNamedType(field.type);
      const ret = typeRules(schema, returned);
      const fieldScopes = directiveArgs(schema, field, 'requiresScopes')?.scopes as string[][] | undefined;
      const piiCategory = directiveArgs(schema, field, 'pii')?.category as Rules['pii'] | undefined;
      const fieldRow = directiveArgs(schema, field, 'rowScope')?.by as RowScopeKey[] | undefined;
      const scopeSets = [own.scopes, ret.scopes, fieldScopes ?? null].filter((s): s is string[][] => !!s);
      if (piiCategory && !fieldScopes) {
        scopeSets.push([[piiCategory === 'SENSITIVE' ? `${opts.subgraph}:sensitive` : `${opts.subgraph}:pii`]]);
      }
      const typeRow = report.rowScopedTypes.get(type.name);
      const rules: Rules = {
        authenticated: own.authenticated || ret.authenticated || !!directiveArgs(schema, field, 'authenticated') || scopeSets.length > 0 || !!piiCategory,
        // Every set must be satisfied (type, returned type, field): a conjunction of alternatives.
        scopes: scopeSets.length ? scopeSets : null,
        // A pii field of a row-scoped type is checked against the row itself too.
        rowScope: fieldRow ?? (piiCategory && typeRow ? typeRow : null),
        pii: piiCategory ?? null,
      };
      const filterBy = report.rowScopedTypes.get(returned.name) ?? null;
      if (piiCategory && isNonNullType(field.type)) {
        throw new Error(`${type.name}.${field.name} is @pii but non-null: personal-data fields must be nullable so a denied read answers null`);
      }
      if (!rules.authenticated && !rules.rowScope && !filterBy) continue;
      report.fields.set(`${type.name}.${field.name}`, rules);
      field.resolve = wrapResolver(type.name, field, rules, scopeSets, filterBy, returned.name, readAttrs);
    }
  }

  // Connections (`edges: [Edge!]!` whose `node` is row-scoped): hidden rows leave the page, the
  // non-null `node` never sees them.
  for (const type of types) {
    const edges = type.getFields().edges;
    if (!edges) continue;
    const edgeType = getNamedType(edges.type);
    if (!isObjectType(edgeType)) continue;
    const node = edgeType.getFields().node;
    const keys = node && report.rowScopedTypes.get(getNamedType(node.type).name);
    if (!keys) continue;
    const nodeType = getNamedType(node.type).name;
    const original = (edges.resolve ?? defaultFieldResolver) as GraphQLFieldResolver<unknown, AccessContext>;
    edges.resolve = (source, args, ctx, info) => {
      const auth = ctx?.auth ?? ANONYMOUS;
      const keep = (list: unknown) =>
        Array.isArray(list)
          ? list.filter((e) => {
              const row = (e as { node?: unknown } | null)?.node;
              return !row || typeof row !== 'object' || rowVisible(auth, keys, readAttrs(nodeType, row as Record<string, unknown>));
            })
          : list;
      const out = original(source, args, ctx, info);
      return isPromiseLike(out) ? Promise.resolve(out).then(keep) : keep(out);
    };
  }

  // Entities fetched by the gateway (`_entities`) of a row-scoped type: hidden = missing.
  for (const [typeName, keys] of report.rowScopedTypes) {
    const type = schema.getType(typeName) as GraphQLObjectType;
    const sub = (type.extensions as { apollo?: { subgraph?: { resolveReference?: Function } } }).apollo?.subgraph;
    const original = sub?.resolveReference;
    const resolveReference = (ref: Record<string, unknown>, ctx: AccessContext, info: unknown) => {
      const auth = ctx?.auth ?? ANONYMOUS;
      const out = original ? original(ref, ctx, info) : ref;
      const check = (row: unknown) => (row && rowVisible(auth, keys, readAttrs(typeName, row as Record<string, unknown>)) ? row : null);
      return isPromiseLike(out) ? Promise.resolve(out).then(check) : check(out);
    };
    const ext = type.extensions as Record<string, any>;
    if (ext.apollo?.subgraph) ext.apollo.subgraph.resolveReference = resolveReference;
    else (type as { extensions: unknown }).extensions = { ...ext, apollo: { ...(ext.apollo ?? {}), subgraph: { ...(ext.apollo?.subgraph ?? {}), resolveReference } } };
  }
  return report;
}

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return !!v && typeof (v as { then?: unknown }).then === 'function';
}

function wrapResolver(
  typeName: string,
  field: GraphQLField<unknown, unknown>,
  rules: Rules,
  scopeSets: string[][][],
  filterBy: RowScopeKey[] | null,
  returnedType: string,
  readAttrs: RowAttributeReader,
): GraphQLFieldResolver<unknown, AccessContext> {
  const original = (field.resolve ?? defaultFieldResolver) as GraphQLFieldResolver<unknown, AccessContext>;
  const what = `${typeName}.${field.name}`;
  return (source, args, ctx, info) => {
    const auth = ctx?.auth ?? ANONYMOUS;
    if (rules.authenticated && !auth.authenticated) {
      throw unauthenticated(`${what} needs a valid bearer token`);
    }
    for (const set of scopeSets) {
      if (!hasScopes(auth, set)) {
        throw forbidden(`${what} needs scope ${set.map((alt) => alt.join(' + ')).join(' or ')}`);
      }
    }
    if (rules.rowScope && source && typeof source === 'object') {
      if (!rowVisible(auth, rules.rowScope, readAttrs(typeName, source as Record<string, unknown>))) {
        throw forbidden(`${what} is outside your area`);
      }
    }
    let result = original(source, args, ctx, info);
    if (filterBy) {
      const visible = (row: unknown) => row == null || rowVisible(auth, filterBy, readAttrs(returnedType, row as Record<string, unknown>));
      // A nullable single row that is hidden answers null, like a missing one; a non-null one
      // cannot, so it is refused.
      const nonNullSingle = isNonNullType(field.type) && !isListType(field.type.ofType);
      const filter = (value: unknown): unknown => {
        if (Array.isArray(value)) return value.filter(visible);
        if (visible(value)) return value;
        if (nonNullSingle) throw forbidden(`${what} is outside your area`);
        return null;
      };
      result = isPromiseLike(result) ? Promise.resolve(result).then(filter) : filter(result);
    }
    if (rules.pii && ctx?.audit) {
      const row = (source ?? {}) as Record<string, unknown>;
      const id = str(row.__recordId ?? row.id ?? row._id) ?? null;
      const audit = ctx.audit;
      const note = (value: unknown) => {
        if (value != null) audit.record(typeName, id, field.name);
        return value;
      };
      result = isPromiseLike(result) ? Promise.resolve(result).then(note) : note(result);
    }
    return result;
  };
}
