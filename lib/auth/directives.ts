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
 *    exactly like a missing one (also for `_entities`); connections ask `rowFilter` for the same
 *    rule as a database filter, so pages and `totalCount` only ever count visible rows. On a field:
 *    the field is FORBIDDEN outside the caller's area. On a mutation: `target` names the argument
 *    holding the id of the row written to (`"input.communityId"`), `targetType` its type (default
 *    Community); a row-limited caller may run the mutation only when that row is in its area, and
 *    gets the same FORBIDDEN whether the row is elsewhere or does not exist. A mutation without a
 *    target is city-wide: row-limited callers may not run it.
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
  isAbstractType,
  isCompositeType,
  Kind,
  parse,
  type GraphQLCompositeType,
  type GraphQLOutputType,
  type SelectionSetNode,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  isLeafType,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLInterfaceType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { getDirective } from '@graphql-tools/utils';
import { GraphQLError } from 'graphql';
import { badInput, forbidden, unauthenticated } from '../errors';
import type { AuditCollector } from './audit';
import { ANONYMOUS, hasScopes, type AuthContext } from './context';
import type { RowScopeKey } from './roles';

/** Definitions each subgraph SDL carries (after its `@link` imports), identical everywhere. */
export const ACCESS_DIRECTIVES_SDL = `
"""
Row-level scope: area-limited callers see only rows whose area matches one of their claims of these
kinds. On a mutation, \`target\` is the argument path of the id of the row written to and
\`targetType\` its type (default Community): area-limited callers may write only inside their area;
a mutation without a target is city-wide and closed to them.
"""
directive @rowScope(by: [RowScopeKey!]!, target: String, targetType: String) on OBJECT | FIELD_DEFINITION
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
/** Per kind, the document field that holds a row's area value (the same map filters in memory and in the database). */
export type RowFieldMap = Partial<Record<RowScopeKey, string>>;
/**
 * Loads the row a mutation writes to, by id. Read it straight from the repository, not through the
 * request's DataLoaders: their cache would hand the pre-write row to the mutation's response.
 */
export type RowTargetLoader = (id: string, ctx: any) => PromiseLike<object | null | undefined> | object | null | undefined;

/** How a subgraph's rows carry their area (all optional: conventional field names by default). */
export interface RowScopeOptions {
  /** Reads a row's area values for types without a field map. */
  attributes?: RowAttributeReader;
  /** Field maps of row-scoped types whose lists are filtered in the database (`rowFilter`). */
  fields?: Record<string, RowFieldMap>;
  /** Loaders of mutation targets by type; Community defaults to the id itself (小区 and district). */
  targets?: Record<string, RowTargetLoader>;
  /**
   * The subgraph's own register of 小区 (batched per request): the street and neighbourhood of a
   * row's 小区 when the row does not carry them, for callers whose claims are streets or
   * neighbourhoods. Subgraphs that do not know streets leave it out (street-only claims then match
   * no row of theirs).
   */
  communityArea?: (communityId: string, ctx: any) => PromiseLike<CommunityArea | null | undefined> | CommunityArea | null | undefined;
}

export interface CommunityArea {
  districtCode?: string | null;
  streetCode?: string | null;
  neighborhoodCode?: string | null;
}

/**
 * Fields of an object returned by `__resolveReference` that came from the caller's representation
 * rather than from the subgraph's data: never used to decide whose area a row is in (anyone can
 * send `_entities` a representation with a forged `districtCode`).
 */
const FROM_REPRESENTATION = new WeakMap<object, ReadonlySet<string>>();

function trusted(row: Record<string, unknown>): Record<string, unknown> {
  const untrusted = FROM_REPRESENTATION.get(row);
  if (!untrusted) return row;
  return Object.fromEntries(Object.entries(row).filter(([k]) => !untrusted.has(k)));
}

/** The database filter of a row-scoped list for one caller: null = every row; never user input. */
export type RowFilter = Record<string, unknown> | null;

const str = (v: unknown): string | undefined => (v == null ? undefined : String(v));
/** `id` of a nested object (`{ community: { id } }`), when it is a scalar. */
const nestedId = (v: unknown): string | undefined => {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const id = (v as Record<string, unknown>).id ?? (v as Record<string, unknown>)._id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
};
const idOf = (row: Record<string, unknown>) => str(row.id ?? row._id);

/** Conventional attribute names (documents of every subgraph follow them). */
export const defaultRowAttributes: RowAttributeReader = (typeName, row) => {
  const community =
    (row.communityId as string | undefined) ??
    (row.communityIds as string[] | undefined) ??
    // A nested key such as `@key(fields: "community { id } number")`: the 小区 is part of the key.
    nestedId(row.community) ??
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
      nestedId(row.careTeam) ??
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

function attributesFromFields(map: RowFieldMap, row: Record<string, unknown>): RowAttributes {
  const out: RowAttributes = {};
  for (const [key, field] of Object.entries(map) as [RowScopeKey, string][]) {
    const v = row[field];
    out[key] = v == null ? undefined : Array.isArray(v) ? v.map(String) : String(v);
  }
  return out;
}

/**
 * The rule of `rowVisible` as a MongoDB filter over the fields of `map`: null when the caller is not
 * row-limited, otherwise `$or` of `field ∈ claims` (values come from the verified token only), or a
 * filter matching nothing when no claim applies.
 */
export function rowFilterFor(auth: AuthContext, keys: readonly RowScopeKey[], map: RowFieldMap): RowFilter {
  if (auth.limitedBy === null) return null;
  const or: Record<string, unknown>[] = [];
  for (const key of keys) {
    const field = map[key];
    if (!field || !auth.limitedBy.includes(key)) continue;
    const claims = claimsOf(auth, key);
    if (claims.length) or.push({ [field]: { $in: [...claims] } });
  }
  return or.length ? { $or: or } : { _id: { $in: [] } };
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

/** `@rowScope(target:)` of a mutation: where its target id is and which type's row it names. */
interface MutationTarget {
  by: RowScopeKey[];
  path: string[];
  type: string;
}

interface Rules {
  authenticated: boolean;
  /** Scope requirements that must all hold; each is a list of alternatives (`@requiresScopes`). */
  scopes: string[][][] | null;
  rowScope: RowScopeKey[] | null;
  pii: 'PERSONAL' | 'SENSITIVE' | null;
  /** Mutations only: the row written to (null = city-wide, closed to row-limited callers). */
  target?: MutationTarget | null;
  /** Reads are written to the audit log (personal data, and leaf fields of row-scoped types). */
  audit: boolean;
}

export interface AccessControlOptions {
  /** Subgraph name: default scopes of `@pii` fields are `<subgraph>:pii` / `<subgraph>:sensitive`. */
  subgraph: string;
  rows?: RowScopeOptions;
}

export interface AccessControlReport {
  /** `Type.field` → rules, for docs and tests. */
  fields: Map<string, Rules>;
  /** Types whose rows are filtered by `@rowScope`. */
  rowScopedTypes: Map<string, RowScopeKey[]>;
  /** The database filter of a row-scoped type's lists for a caller (`ctx.rowFilter`). */
  rowFilter(auth: AuthContext, typeName: string): RowFilter;
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
  const fieldMaps = opts.rows?.fields ?? {};
  const fallback = opts.rows?.attributes ?? defaultRowAttributes;
  const readAttrs: RowAttributeReader = (typeName, row) => (fieldMaps[typeName] ? attributesFromFields(fieldMaps[typeName], row) : fallback(typeName, row));
  const targets: Record<string, RowTargetLoader> = { Community: (id) => ({ _id: id }), ...opts.rows?.targets };
  const communityArea = opts.rows?.communityArea;
  /**
   * The area of a row as the mechanism decides it: fields the caller supplied in a representation
   * are ignored, and a row's missing street/neighbourhood comes from the subgraph's 小区 register
   * when the caller's claims need them.
   */
  const areaOf: AreaReader = (typeName, row, auth, ctx) => {
    const attrs = readAttrs(typeName, trusted(row));
    const needsStreet = (auth.area.street && attrs.STREET == null) || (auth.area.neighborhood && attrs.NEIGHBORHOOD == null);
    if (!communityArea || auth.limitedBy === null || !needsStreet || typeof attrs.COMMUNITY !== 'string') return attrs;
    return Promise.resolve(communityArea(attrs.COMMUNITY, ctx)).then((c) => ({
      ...attrs,
      DISTRICT: attrs.DISTRICT ?? c?.districtCode ?? undefined,
      STREET: attrs.STREET ?? c?.streetCode ?? undefined,
      NEIGHBORHOOD: attrs.NEIGHBORHOOD ?? c?.neighborhoodCode ?? undefined,
    }));
  };
  const report: AccessControlReport = {
    fields: new Map(),
    rowScopedTypes: new Map(),
    rowFilter(auth, typeName) {
      const keys = report.rowScopedTypes.get(typeName);
      const map = fieldMaps[typeName];
      if (!keys || !map) throw new Error(`${typeName} has no @rowScope on the type or no field map in rows.fields`);
      return rowFilterFor(auth, keys, map);
    },
  };
  const mutationType = schema.getMutationType();
  const types = Object.values(schema.getTypeMap()).filter(
    (t): t is GraphQLObjectType => isObjectType(t) && !t.name.startsWith('__'),
  );
  for (const type of types) {
    const rs = directiveArgs(schema, type, 'rowScope')?.by as RowScopeKey[] | undefined;
    if (rs?.length) report.rowScopedTypes.set(type.name, rs);
  }

  for (const type of types) {
    const own = typeRules(schema, type);
    const isMutation = type === mutationType;
    for (const field of Object.values(type.getFields())) {
      const returned = getNamedType(field.type);
      const ret = typeRules(schema, returned);
      const fieldScopes = directiveArgs(schema, field, 'requiresScopes')?.scopes as string[][] | undefined;
      const piiCategory = directiveArgs(schema, field, 'pii')?.category as Rules['pii'] | undefined;
      const rowArgs = directiveArgs(schema, field, 'rowScope') as { by?: RowScopeKey[]; target?: string; targetType?: string } | undefined;
      const fieldRow = isMutation ? undefined : rowArgs?.by;
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
        // A row-scoped type is individual-level data: every value read of it is audited, not only
        // its @pii fields; its id too (a list filtered by risk tier or living arrangement tells those
        // attributes through the ids alone). Links to other rows are audited on their own rows.
        audit: !!piiCategory || (!!typeRow && isLeafType(getNamedType(field.type))),
      };
      if (isMutation) {
        rules.target = rowArgs?.target ? { by: rowArgs.by ?? [], path: rowArgs.target.split('.'), type: rowArgs.targetType ?? 'Community' } : null;
        if (rules.target && !targets[rules.target.type]) {
          throw new Error(`Mutation.${field.name}: @rowScope targetType ${rules.target.type} has no loader in rows.targets`);
        }
        const argName = rules.target?.path[0];
        if (rules.target && !field.args.some((a) => a.name === argName)) {
          throw new Error(`Mutation.${field.name}: @rowScope target "${rowArgs?.target}" names no argument of the mutation`);
        }
      }
      const filterBy = report.rowScopedTypes.get(returned.name) ?? null;
      if (piiCategory && isNonNullType(field.type)) {
        throw new Error(`${type.name}.${field.name} is @pii but non-null: personal-data fields must be nullable so a denied read answers null`);
      }
      // Every mutation is wrapped: row-limited callers need a declared target even when the
      // mutation carries no other rule (secure by default for partners' subgraphs).
      if (!isMutation && !rules.authenticated && !rules.rowScope && !filterBy && !rules.audit) continue;
      report.fields.set(`${type.name}.${field.name}`, rules);
      field.resolve = wrapResolver(type.name, field, rules, scopeSets, filterBy, returned.name, areaOf, targets);
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
    edges.resolve = async (source, args, ctx, info) => {
      const auth = ctx?.auth ?? ANONYMOUS;
      const list = await original(source, args, ctx, info);
      if (!Array.isArray(list)) return list;
      const shown = await Promise.all(
        list.map((e) => {
          const row = (e as { node?: unknown } | null)?.node;
          return !row || typeof row !== 'object' || visible(auth, keys, nodeType, row as Record<string, unknown>, ctx, areaOf);
        }),
      );
      return list.filter((_e, i) => shown[i]);
    };
  }

  // Entities fetched through `_entities`. Every representation is checked against the keys of its
  // type before any resolver sees it (`checkRepresentation`): it must carry one `@key`'s field set
  // exactly (objects exactly where the key has a sub-selection, scalars or lists of scalars at the
  // leaves), so an object such as `{ "$gt": "" }` is refused and never reaches a database query.
  // What the representation carried besides that key is marked as the caller's, not the subgraph's;
  // a hidden row of a row-scoped type answers null, like a missing one.
  const entities = entityKeysOf(schema);
  const entitiesField = schema.getQueryType()?.getFields()._entities;
  if (entitiesField?.resolve) {
    const original = entitiesField.resolve;
    entitiesField.resolve = (source, args: { representations?: unknown }, ctx, info) => {
      const reps = Array.isArray(args.representations) ? args.representations : [];
      const checked = reps.map((rep) => {
        try {
          return checkRepresentation(schema, entities, rep);
        } catch (e) {
          return e instanceof GraphQLError ? e : badInput('representations', 'invalid representation');
        }
      });
      const valid = checked.filter((c): c is Record<string, unknown> => !(c instanceof Error));
      const results = original(source, { ...args, representations: valid }, ctx, info) as unknown[];
      let next = 0;
      // A refused representation answers its error in its own place (graphql-js reports an Error
      // list item at that index); the others resolve as usual.
      return checked.map((c) => (c instanceof Error ? c : results[next++]));
    };
  }
  for (const type of types) {
    if (!entities.has(type.name)) continue;
    const typeName = type.name;
    const keys = report.rowScopedTypes.get(typeName) ?? null;
    const sub = (type.extensions as { apollo?: { subgraph?: { resolveReference?: Function } } }).apollo?.subgraph;
    const original = sub?.resolveReference;
    const resolveReference = async (ref: Record<string, unknown>, ctx: AccessContext, info: unknown) => {
      const row = (await (original ? original(ref, ctx, info) : ref)) as Record<string, unknown> | null | undefined;
      if (!row || typeof row !== 'object') return row;
      // The matched key identifies the row; anything else the caller sent is not the subgraph's data.
      const keyNames = MATCHED_KEY.get(ref) ?? new Set<string>();
      const supplied = Object.keys(ref).filter((k) => k !== '__typename' && !keyNames.has(k) && row[k] === ref[k]);
      if (supplied.length) FROM_REPRESENTATION.set(row, new Set(supplied));
      if (!keys) return row;
      return (await visible(ctx?.auth ?? ANONYMOUS, keys, typeName, row, ctx, areaOf)) ? row : null;
    };
    const ext = type.extensions as Record<string, any>;
    if (ext.apollo?.subgraph) ext.apollo.subgraph.resolveReference = resolveReference;
    else (type as { extensions: unknown }).extensions = { ...ext, apollo: { ...(ext.apollo ?? {}), subgraph: { ...(ext.apollo?.subgraph ?? {}), resolveReference } } };
  }
  return report;
}

// ---------------------------------------------------------------------------------------------
// Representations sent to `_entities`, checked against the keys of their type
// ---------------------------------------------------------------------------------------------

/** A key's selection: field name → its sub-selection (null at a leaf). Inline fragments are merged. */
type Selection = Map<string, Selection | null>;

interface EntityKey {
  /** The key as written in `@key(fields: "...")`, for messages. */
  text: string;
  selection: Selection;
}

interface EntityKeys {
  type: GraphQLObjectType | GraphQLInterfaceType;
  keys: EntityKey[];
}

/** The key names of the representation a resolver received (the key it matched). */
const MATCHED_KEY = new WeakMap<object, ReadonlySet<string>>();

/** Parses a `@key` FieldSet (`"sku variation { id }"`) with graphql's own parser. */
export function parseFieldSet(fields: string): Selection {
  const doc = parse(`{${fields}}`, { noLocation: true });
  const op = doc.definitions[0];
  if (doc.definitions.length !== 1 || op?.kind !== Kind.OPERATION_DEFINITION) throw new Error(`invalid field set "${fields}"`);
  return selectionOf(op.selectionSet);
}

function selectionOf(set: SelectionSetNode, into: Selection = new Map()): Selection {
  for (const node of set.selections) {
    if (node.kind === Kind.FIELD) {
      const name = node.name.value;
      if (!node.selectionSet) {
        if (!into.has(name)) into.set(name, null);
        continue;
      }
      const existing = into.get(name);
      into.set(name, selectionOf(node.selectionSet, existing ?? new Map()));
    } else if (node.kind === Kind.INLINE_FRAGMENT) {
      selectionOf(node.selectionSet, into);
    }
  }
  return into;
}

/** Every object or interface type of the schema with `@key`, with its parsed keys. */
function entityKeysOf(schema: GraphQLSchema): Map<string, EntityKeys> {
  const out = new Map<string, EntityKeys>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!(isObjectType(type) || isInterfaceType(type)) || type.name.startsWith('__')) continue;
    const args = (getDirective(schema, type, 'key') ?? []) as { fields?: string }[];
    if (!args.length) continue;
    out.set(type.name, { type, keys: args.map((a) => ({ text: a.fields ?? '', selection: parseFieldSet(a.fields ?? '') })) });
  }
  return out;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const isScalarValue = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** A field of a composite type (for an abstract type: of the interface, or of any possible type). */
function fieldOf(schema: GraphQLSchema, type: GraphQLCompositeType, name: string, typename: unknown): GraphQLField<unknown, unknown> | undefined {
  if (typeof typename === 'string' && typename !== type.name) {
    const named = schema.getType(typename);
    if (named && isObjectType(named) && isAbstractType(type) && schema.isSubType(type, named)) return named.getFields()[name];
  }
  if (!isAbstractType(type)) return type.getFields()[name];
  const own = isInterfaceType(type) ? type.getFields()[name] : undefined;
  return own ?? schema.getPossibleTypes(type).map((t) => t.getFields()[name]).find(Boolean);
}

/**
 * Checks a value against its schema type. `selection` is the key's sub-selection at this place
 * (exact: every name present, no other name) or `undefined` for a non-key field of the type (names
 * must be fields of the type). Leaves hold scalars, lists hold lists; `$`-prefixed names are refused.
 */
function checkValue(schema: GraphQLSchema, value: unknown, type: GraphQLOutputType, selection: Selection | null | undefined, path: string, what: string): void {
  if (isNonNullType(type)) {
    if (value === null) throw badInput(path, `${what} must not be null`);
    return checkValue(schema, value, type.ofType, selection, path, what);
  }
  if (value === null) return;
  if (isListType(type)) {
    if (!Array.isArray(value)) throw badInput(path, `${what} must be a list`);
    value.forEach((v, i) => checkValue(schema, v, type.ofType, selection, `${path}.${i}`, what));
    return;
  }
  if (!isCompositeType(type)) {
    if (!isScalarValue(value)) throw badInput(path, `${what} must be a scalar, not an object`);
    return;
  }
  const keyText = selection ? ` { ${printSelection(selection)} }` : '';
  if (!isPlainObject(value)) throw badInput(path, `${what} must be an object${keyText}`);
  for (const [name, v] of Object.entries(value)) {
    if (name.startsWith('$')) throw badInput(`${path}.${name}`, 'operators are not accepted in a representation');
    if (name === '__typename') {
      if (typeof v !== 'string') throw badInput(`${path}.${name}`, 'must be a type name');
      continue;
    }
    if (selection && !selection.has(name)) throw badInput(`${path}.${name}`, `not part of ${what}${keyText}`);
    const field = fieldOf(schema, type, name, value.__typename);
    if (!field) throw badInput(`${path}.${name}`, `${type.name} has no field ${name}`);
    checkValue(schema, v, field.type, selection ? selection.get(name) : undefined, `${path}.${name}`, what);
  }
  if (selection) {
    for (const name of selection.keys()) if (!(name in value)) throw badInput(`${path}.${name}`, `missing (${what}${keyText})`);
  }
}

function printSelection(selection: Selection): string {
  return [...selection].map(([name, sub]) => (sub ? `${name} { ${printSelection(sub)} }` : name)).join(' ');
}

/**
 * Checks one representation and returns what the resolvers receive: `__typename`, the fields of the
 * first key it carries exactly, and the other fields of the type it carries (checked against their
 * types; e.g. the `@external` fields a `@requires` needs). Top-level names that are not fields of the
 * type are left out (a forged area code never reaches a resolver); an object under such a name, a
 * `$`-prefixed name anywhere, or no key carried exactly is BAD_USER_INPUT naming the path.
 */
export function checkRepresentation(schema: GraphQLSchema, entities: ReadonlyMap<string, EntityKeys>, rep: unknown): Record<string, unknown> {
  if (!isPlainObject(rep)) throw badInput('representations', 'each representation must be an object with __typename');
  const typename = rep.__typename;
  if (typeof typename !== 'string') throw badInput('representations.__typename', 'must be the name of an entity type');
  const entity = entities.get(typename);
  if (!entity) throw badInput('representations.__typename', `${typename.slice(0, 100)} is not an entity of this subgraph`);
  const { type } = entity;
  for (const [name, v] of Object.entries(rep)) {
    if (name.startsWith('$')) throw badInput(`representations.${name}`, 'operators are not accepted in a representation');
    if (!type.getFields()[name] && name !== '__typename' && v !== null && typeof v === 'object') {
      throw badInput(`representations.${name}`, `${typename} has no field ${name}`);
    }
  }
  // The first key whose top-level fields are all present decides; its error is the one reported
  // when no key matches exactly.
  let firstError: GraphQLError | undefined;
  let matched: EntityKey | undefined;
  for (const key of entity.keys) {
    if (![...key.selection.keys()].every((name) => name in rep)) continue;
    try {
      for (const [name, sub] of key.selection) {
        const field = type.getFields()[name];
        if (!field) throw badInput(`representations.${name}`, `${typename} has no field ${name}`);
        checkValue(schema, rep[name], field.type, sub, `representations.${name}`, `the key of ${typename}`);
      }
      matched = key;
      break;
    } catch (e) {
      firstError ??= e as GraphQLError;
    }
  }
  if (!matched) {
    throw firstError ?? badInput('representations', `a ${typename} representation must carry one of its keys: ${entity.keys.map((k) => `"${k.text}"`).join(' or ')}`);
  }
  const out: Record<string, unknown> = { __typename: typename };
  for (const [name, v] of Object.entries(rep)) {
    if (name === '__typename') continue;
    const field = type.getFields()[name];
    if (!field) continue;
    if (!matched.selection.has(name)) checkValue(schema, v, field.type, undefined, `representations.${name}`, `${typename}.${name}`);
    out[name] = v;
  }
  MATCHED_KEY.set(out, new Set(matched.selection.keys()));
  return out;
}

type AreaReader = (typeName: string, row: Record<string, unknown>, auth: AuthContext, ctx: unknown) => RowAttributes | Promise<RowAttributes>;

/** `rowVisible` with the row's area read by the mechanism (possibly from the 小区 register). */
function visible(auth: AuthContext, keys: readonly RowScopeKey[], typeName: string, row: Record<string, unknown>, ctx: unknown, areaOf: AreaReader): boolean | Promise<boolean> {
  if (auth.limitedBy === null) return true;
  const attrs = areaOf(typeName, row, auth, ctx);
  return isPromiseLike(attrs) ? Promise.resolve(attrs).then((a) => rowVisible(auth, keys, a)) : rowVisible(auth, keys, attrs);
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
  areaOf: AreaReader,
  targets: Record<string, RowTargetLoader>,
): GraphQLFieldResolver<unknown, AccessContext> {
  const original = (field.resolve ?? defaultFieldResolver) as GraphQLFieldResolver<unknown, AccessContext>;
  const what = `${typeName}.${field.name}`;
  const target = rules.target;
  const outside = () => forbidden(`${what} is outside your area`);
  /** The field's own value, hidden rows of a row-scoped result removed, reads noted for the audit. */
  const run: GraphQLFieldResolver<unknown, AccessContext> = (source, args, ctx, info) => {
    const auth = ctx?.auth ?? ANONYMOUS;
    let result = original(source, args, ctx, info);
    if (filterBy && auth.limitedBy !== null) {
      const shown = (row: unknown) => row == null || typeof row !== 'object' || visible(auth, filterBy, returnedType, row as Record<string, unknown>, ctx, areaOf);
      // A nullable single row that is hidden answers null, like a missing one; a non-null one
      // cannot, so it is refused.
      const nonNullSingle = isNonNullType(field.type) && !isListType(field.type.ofType);
      const filter = async (value: unknown): Promise<unknown> => {
        if (Array.isArray(value)) {
          const keep = await Promise.all(value.map(shown));
          return value.filter((_v, i) => keep[i]);
        }
        if (await shown(value)) return value;
        if (nonNullSingle) throw outside();
        return null;
      };
      result = Promise.resolve(result).then(filter);
    }
    if (rules.audit && ctx?.audit) {
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
  /** A token when the rules want one, then every scope set. */
  const checkCaller = (auth: AuthContext) => {
    if (rules.authenticated && !auth.authenticated) throw unauthenticated(`${what} needs a valid bearer token`);
    for (const set of scopeSets) {
      if (!hasScopes(auth, set)) throw forbidden(`${what} needs scope ${set.map((alt) => alt.join(' + ')).join(' or ')}`);
    }
  };
  const resolver: GraphQLFieldResolver<unknown, AccessContext> = (source, args, ctx, info) => {
    const auth = ctx?.auth ?? ANONYMOUS;
    checkCaller(auth);
    // Personal data with no area rule is for callers who see every row, never for area-limited ones.
    if (rules.pii && !rules.rowScope && auth.limitedBy !== null) throw outside();
    if (rules.rowScope && source && typeof source === 'object') {
      const ok = visible(auth, rules.rowScope, typeName, source as Record<string, unknown>, ctx, areaOf);
      if (isPromiseLike(ok)) {
        return Promise.resolve(ok).then((v) => {
          if (!v) throw outside();
          return run(source, args, ctx, info);
        });
      }
      if (!ok) throw outside();
    }
    return run(source, args, ctx, info);
  };
  if (target === undefined) return resolver;

  // A mutation: scopes first, then (row-limited callers only) the area of the row written to.
  return async (source, args, ctx, info) => {
    const auth = ctx?.auth ?? ANONYMOUS;
    if (auth.limitedBy !== null) {
      checkCaller(auth);
      if (!target) throw forbidden(`${what} is city-wide; your token is limited to an area`);
      const id = target.path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), args);
      const where = `${target.type} ${typeof id === 'string' ? `"${id.slice(0, 100)}"` : `(${target.path.join('.')})`}`;
      // Missing and out-of-area rows answer alike: the error never tells whether a hidden row exists.
      const refusal = () => forbidden(`${what}: ${where} is outside your area or does not exist`);
      if (typeof id !== 'string' || !id) throw refusal();
      const row = (await targets[target.type]!(id, ctx)) as Record<string, unknown> | null | undefined;
      if (!row || !(await visible(auth, target.by, target.type, row, ctx, areaOf))) throw refusal();
    }
    return resolver(source, args, ctx, info);
  };
}
