/**
 * Roles and scopes: the one table that says what each kind of caller may do. The schema names
 * scopes (`@requiresScopes(scopes: [["elderly:pii"]])`); tokens name a role (and area claims); this
 * table turns a role into scopes. A token may carry a `scope` claim to narrow its role's scopes,
 * never to widen them.
 *
 * Scope vocabulary, per subgraph `<sg>` (properties, governance, elderly, renovation, or a partner's):
 *   `<sg>:pii`        read personal data (names, phones) of the rows the caller may see
 *   `<sg>:sensitive`  read sensitive personal data (health, poverty status, party membership)
 *   `<sg>:write`      run the subgraph's mutations
 *   `governance:cases` read the content of 12345 tickets and patrol reports (descriptions, notes,
 *                    addresses, locations, photos) of the rows the caller may see: residents type
 *                    names, door numbers and phones into them. Narrower than `governance:pii`
 *                    (which also opens ticket reporters, committee members and liaison cadres).
 *   `audit:read`      read the audit log of personal-data reads
 */

/** Area claims a row-limited role is confined to (see `@rowScope`). */
export type RowScopeKey = 'DISTRICT' | 'STREET' | 'NEIGHBORHOOD' | 'COMMUNITY' | 'CARE_TEAM' | 'COMPANY';
export const ROW_SCOPE_KEYS: readonly RowScopeKey[] = ['DISTRICT', 'STREET', 'NEIGHBORHOOD', 'COMMUNITY', 'CARE_TEAM', 'COMPANY'];

export const BUREAU_SUBGRAPHS = ['properties', 'governance', 'elderly', 'renovation'] as const;

export type Role =
  | 'CITY_ADMIN'
  | 'HOUSING_BUREAU'
  | 'CIVIL_AFFAIRS'
  | 'RENOVATION_OFFICE'
  | 'STREET_STAFF'
  | 'CARE_TEAM'
  | 'PROPERTY_COMPANY'
  | 'PARTNER'
  | 'PUBLIC';

export interface RoleDefinition {
  label: string;
  /** Scopes granted by the role (a `{partner}` placeholder is replaced by the token's partner claim). */
  scopes: readonly string[];
  /**
   * Null: the role sees every row of the data its scopes open. Otherwise the role is row-limited:
   * it sees a row only when one of its area claims of these kinds matches the row.
   */
  limitedBy: readonly RowScopeKey[] | null;
  /** Claims a token of this role must carry (`npm run token` refuses without them). */
  requiredClaims?: readonly ('district' | 'street' | 'community' | 'team' | 'company' | 'partner')[];
}

const all = (suffix: string) => BUREAU_SUBGRAPHS.map((s) => `${s}:${suffix}`);

export const ROLES: Record<Role, RoleDefinition> = {
  CITY_ADMIN: {
    label: 'City administrator (市政府/大数据局)',
    scopes: [...all('pii'), ...all('sensitive'), ...all('write'), 'governance:cases', 'audit:read'],
    limitedBy: null,
  },
  HOUSING_BUREAU: {
    label: 'Housing bureau (住房保障和房产局 物业管理处)',
    // Handles property complaints: reads ticket and patrol content, not the reporters.
    scopes: ['properties:pii', 'properties:write', 'governance:write', 'governance:cases'],
    limitedBy: null,
  },
  CIVIL_AFFAIRS: {
    label: 'Civil affairs (民政局 居家养老)',
    scopes: ['elderly:pii', 'elderly:sensitive', 'elderly:write'],
    limitedBy: null,
  },
  RENOVATION_OFFICE: {
    label: 'Renovation office (住建 老旧小区改造办)',
    scopes: ['renovation:pii', 'renovation:write', 'properties:pii'],
    limitedBy: null,
  },
  STREET_STAFF: {
    label: 'Street or neighbourhood staff (街道/社区), limited to their area',
    scopes: ['governance:pii', 'governance:cases', 'governance:write', 'elderly:pii', 'properties:pii'],
    limitedBy: ['DISTRICT', 'STREET', 'NEIGHBORHOOD', 'COMMUNITY'],
  },
  CARE_TEAM: {
    label: 'Care team (居家养老服务队伍), limited to the elders it is assigned (its own rows and the 小区 it serves)',
    scopes: ['elderly:pii', 'elderly:sensitive', 'elderly:write'],
    limitedBy: ['CARE_TEAM', 'COMMUNITY'],
    requiredClaims: ['team'],
  },
  PROPERTY_COMPANY: {
    label: 'Property company (物业服务企业), limited to the communities it manages',
    scopes: ['governance:pii', 'governance:cases', 'properties:pii'],
    limitedBy: ['COMPANY', 'COMMUNITY'],
    requiredClaims: ['company'],
  },
  PARTNER: {
    label: "Partner agency, limited to its own subgraph's writes",
    scopes: ['{partner}:write', '{partner}:pii'],
    limitedBy: null,
    requiredClaims: ['partner'],
  },
  PUBLIC: {
    label: 'Anonymous public caller (published aggregates only)',
    scopes: [],
    limitedBy: null,
  },
};

export const ROLE_NAMES = Object.keys(ROLES) as Role[];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ROLES, value);
}

/** Scopes a role grants, with the partner placeholder filled in (a partner never gets bureau scopes). */
export function scopesForRole(role: Role, partner?: string): string[] {
  return ROLES[role].scopes.flatMap((s) => {
    if (!s.includes('{partner}')) return [s];
    if (!partner || (BUREAU_SUBGRAPHS as readonly string[]).includes(partner)) return [];
    return [s.replace('{partner}', partner)];
  });
}
