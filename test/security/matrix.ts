/**
 * THE authorization matrix: for each caller (role and area scope) × each personal-data field and
 * each mutation, whether it is allowed. `access-matrix.test.ts` runs every cell end-to-end through a
 * real gateway; `npx tsx test/security/matrix.ts --write` renders it into docs/access.md (a test
 * checks the file is up to date).
 *
 *   Y = allowed (the value comes back / the mutation reaches its resolver)
 *   - = denied  (null + UNAUTHENTICATED/FORBIDDEN for that field, or the mutation is refused)
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROLES, type Role } from '../../lib/auth/roles';

/** Callers: a role plus, for row-limited roles, whether the data lies inside its area. */
export const CALLERS = {
  PUBLIC: { role: 'PUBLIC', note: 'no token' },
  ADMIN: { role: 'CITY_ADMIN', note: '' },
  HOUSING: { role: 'HOUSING_BUREAU', note: '' },
  CIVIL: { role: 'CIVIL_AFFAIRS', note: '' },
  RENOV: { role: 'RENOVATION_OFFICE', note: '' },
  STREET_IN: { role: 'STREET_STAFF', note: 'the row is in its area' },
  STREET_OUT: { role: 'STREET_STAFF', note: 'another area' },
  TEAM_IN: { role: 'CARE_TEAM', note: 'serves the row’s 小区' },
  TEAM_OUT: { role: 'CARE_TEAM', note: 'another team and 小区' },
  CO_IN: { role: 'PROPERTY_COMPANY', note: 'manages the row’s 小区' },
  CO_OUT: { role: 'PROPERTY_COMPANY', note: 'another company' },
  PARTNER: { role: 'PARTNER', note: 'partner agency "meals"' },
} as const satisfies Record<string, { role: Role; note: string }>;
export type Caller = keyof typeof CALLERS;
export const CALLER_ORDER = Object.keys(CALLERS) as Caller[];

// prettier-ignore
export const MATRIX: [item: string, kind: string, ...cells: string[]][] = [
  //                                                     PUB ADM HOU CIV REN S_IN S_OUT T_IN T_OUT C_IN C_OUT PARTNER
  ['ElderlyResident (the row)',         'individual',    '-','Y','-','Y','-','Y', '-',  'Y', '-',  '-', '-',  '-'],
  ['ElderlyResident.name',              'personal',      '-','Y','-','Y','-','Y', '-',  'Y', '-',  '-', '-',  '-'],
  ['ElderlyResident.phone',             'personal',      '-','Y','-','Y','-','Y', '-',  'Y', '-',  '-', '-',  '-'],
  ['ElderlyResident.emergencyContact',  'personal',      '-','Y','-','Y','-','Y', '-',  'Y', '-',  '-', '-',  '-'],
  ['ElderlyResident.healthNotes',       'sensitive',     '-','Y','-','Y','-','-', '-',  'Y', '-',  '-', '-',  '-'],
  ['HomeVisit (the row)',               'individual',    '-','Y','-','Y','-','Y', '-',  'Y', '-',  '-', '-',  '-'],
  ['HomeVisit.findings',                'sensitive',     '-','Y','-','Y','-','-', '-',  'Y', '-',  '-', '-',  '-'],
  ['ServiceTicket.reporter',            'personal',      '-','Y','-','-','-','Y', '-',  '-', '-',  'Y', '-',  '-'],
  ['ServiceTicket.text',                'personal',      '-','Y','Y','-','-','Y', '-',  '-', '-',  'Y', '-',  '-'],
  ['ServiceTicket.statusNotes',         'personal',      '-','Y','Y','-','-','Y', '-',  '-', '-',  'Y', '-',  '-'],
  ['ServiceTicket.addressString',       'personal',      '-','Y','Y','-','-','Y', '-',  '-', '-',  'Y', '-',  '-'],
  ['ServiceTicket.location',            'personal',      '-','Y','Y','-','-','Y', '-',  '-', '-',  'Y', '-',  '-'],
  ['ServiceTicket.media',               'personal',      '-','Y','Y','-','-','Y', '-',  '-', '-',  'Y', '-',  '-'],
  ['TicketNote.text',                   'personal',      '-','Y','Y','-','-','Y', '-',  '-', '-',  'Y', '-',  '-'],
  ['Open311Request.description',        'personal',      '-','Y','Y','-','-','Y', '-',  '-', '-',  'Y', '-',  '-'],
  ['Open311Request.status_notes',       'personal',      '-','Y','Y','-','-','Y', '-',  '-', '-',  'Y', '-',  '-'],
  ['Open311Request.address',            'personal',      '-','Y','Y','-','-','Y', '-',  '-', '-',  'Y', '-',  '-'],
  ['Open311Request.lat',                'personal',      '-','Y','Y','-','-','Y', '-',  '-', '-',  'Y', '-',  '-'],
  ['Open311Request.long',               'personal',      '-','Y','Y','-','-','Y', '-',  '-', '-',  'Y', '-',  '-'],
  ['Open311Request.media_url',          'personal',      '-','Y','Y','-','-','Y', '-',  '-', '-',  'Y', '-',  '-'],
  ['PatrolReport.description',          'personal',      '-','Y','Y','-','-','Y', '-',  '-', '-',  'Y', '-',  '-'],
  ['PatrolReport.photoUrls',            'personal',      '-','Y','Y','-','-','Y', '-',  '-', '-',  'Y', '-',  '-'],
  ['PatrolReport.rectificationPhotoUrls','personal',     '-','Y','Y','-','-','Y', '-',  '-', '-',  'Y', '-',  '-'],
  ['PatrolReport.rectificationNote',    'personal',      '-','Y','Y','-','-','Y', '-',  '-', '-',  'Y', '-',  '-'],
  ['JointMeeting.resolutionTexts',      'personal',      '-','Y','Y','-','-','Y', '-',  '-', '-',  '-', '-',  '-'],
  ['Facility.note',                     'personal',      '-','Y','-','-','Y','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Committee.members',                 'personal',      '-','Y','-','-','-','Y', '-',  '-', '-',  '-', '-',  '-'],
  ['CommitteeMember.isPartyMember',     'sensitive',     '-','Y','-','-','-','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Committee.partyMemberRatio',        'sensitive',     '-','Y','-','-','-','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Community.liaisonCadre',            'personal',      '-','Y','-','-','-','Y', '-',  '-', '-',  '-', '-',  '-'],
  ['ServiceContract.projectManager',    'personal',      '-','Y','Y','-','Y','Y', '-',  '-', '-',  'Y', '-',  '-'],
  ['PropertyCompany.generalManager',    'personal',      '-','Y','Y','-','Y','-', '-',  '-', '-',  'Y', '-',  '-'],
  ['PropertyCompany.legalRepresentative','personal',     '-','Y','Y','-','Y','-', '-',  '-', '-',  'Y', '-',  '-'],
  ['Mutation.upsertFeeCollection',      'write 小区',     '-','Y','Y','-','-','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.recordSatisfactionSurvey', 'write 小区',     '-','Y','Y','-','-','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.importCommunities',        'write city',    '-','Y','Y','-','-','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.importFeeCollections',     'write city',    '-','Y','Y','-','-','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.importBuildings',          'write city',    '-','Y','Y','-','-','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.finishPropertiesImport',   'write city',    '-','Y','Y','-','-','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.createServiceTicket',      'write 小区',     '-','Y','Y','-','-','Y', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.transitionTicket',         'write ticket',  '-','Y','Y','-','-','Y', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.addTicketNote',            'write ticket',  '-','Y','Y','-','-','Y', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.recordPatrolReport',       'write 小区',     '-','Y','Y','-','-','Y', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.recordRectification',      'write report',  '-','Y','Y','-','-','Y', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.recordJointMeeting',       'write 小区',     '-','Y','Y','-','-','Y', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.upsertEvaluationRubric',   'write city',    '-','Y','Y','-','-','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.syncCommunityRegister',    'write city',    '-','Y','Y','-','-','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.recordBeautifulHomeScores','write city',    '-','Y','Y','-','-','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.importCommittees',         'write city',    '-','Y','Y','-','-','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.registerElderlyResident',  'write 小区',     '-','Y','-','Y','-','-', '-',  'Y', '-',  '-', '-',  '-'],
  ['Mutation.recordHomeVisit',          'write elder',   '-','Y','-','Y','-','-', '-',  'Y', '-',  '-', '-',  '-'],
  ['Mutation.overrideRiskTier',         'write elder',   '-','Y','-','Y','-','-', '-',  'Y', '-',  '-', '-',  '-'],
  ['Mutation.updateElderlyCircumstances','write elder',  '-','Y','-','Y','-','-', '-',  'Y', '-',  '-', '-',  '-'],
  ['Mutation.importElderlyResidents',   'write city',    '-','Y','-','Y','-','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.finishElderlyImport',      'write city',    '-','Y','-','Y','-','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.createRenovationProject',  'write city',    '-','Y','-','-','Y','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.recordMilestone',          'write project', '-','Y','-','-','Y','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.recordSpend',              'write project', '-','Y','-','-','Y','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.recordAcceptance',         'write project', '-','Y','-','-','Y','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.upsertFundingSource',      'write project', '-','Y','-','-','Y','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.advanceProjectStatus',     'write project', '-','Y','-','-','Y','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.upsertFacility',           'write 小区',     '-','Y','-','-','Y','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Mutation.importRenovationProjects', 'write city',    '-','Y','-','-','Y','-', '-',  '-', '-',  '-', '-',  '-'],
  ['Query.<subgraph>AuditLog',          'audit',         '-','Y','-','-','-','-', '-',  '-', '-',  '-', '-',  '-'],
];

export function expectation(item: string, caller: Caller): boolean {
  const row = MATRIX.find((r) => r[0] === item);
  if (!row) throw new Error(`no matrix row ${item}`);
  return row[2 + CALLER_ORDER.indexOf(caller)] === 'Y';
}

/** docs/access.md, generated from the matrix and the role table. */
/** Mutations of each subgraph with their scope and `@rowScope` target, for the doc. */
export interface MutationDoc {
  name: string;
  scopes: string;
  target: string | null;
}

export function renderAccessDoc(mutations: Record<string, MutationDoc[]> = {}): string {
  const head = `| item | kind | ${CALLER_ORDER.join(' | ')} |\n|---|---|${CALLER_ORDER.map(() => ':-:').join('|')}|`;
  const rows = MATRIX.map((r) => `| \`${r[0]}\` | ${r[1]} | ${r.slice(2).map((c) => (c === 'Y' ? '✅' : '—')).join(' | ')} |`).join('\n');
  const callers = CALLER_ORDER.map((c) => `| ${c} | \`${CALLERS[c].role}\` | ${CALLERS[c].note || '—'} |`).join('\n');
  const roles = (Object.keys(ROLES) as Role[])
    .map((r) => `| \`${r}\` | ${ROLES[r].label} | ${ROLES[r].scopes.map((s) => `\`${s}\``).join(' ') || '—'} | ${ROLES[r].limitedBy?.join(', ') ?? 'every row'} |`)
    .join('\n');
  const muts = Object.entries(mutations)
    .flatMap(([sg, list]) => list.map((m) => `| ${sg} | \`${m.name}\` | ${m.scopes} | ${m.target ?? 'city-wide: closed to area-limited callers'} |`))
    .join('\n');
  return `<!-- Generated by \`npx tsx test/security/matrix.ts --write\` from test/security/matrix.ts. Do not edit. -->
# Who may see what

The graph's access rules are written in each subgraph's SDL and enforced by every subgraph itself
(\`lib/auth\`, hooked into \`createSubgraphServer\`); the gateway verifies the token, applies limits and
forwards the token, and each subgraph verifies it again.

- \`@authenticated\`, \`@requiresScopes(scopes: [[...]])\` (Federation 2.5+): a token, and the scopes.
- \`@rowScope(by: [DISTRICT, STREET, NEIGHBORHOOD, COMMUNITY, CARE_TEAM, COMPANY])\`: callers limited
  to an area (street staff, care teams, property companies) see a row only when one of their claims
  of those kinds matches it. On a type: lists are filtered in the database (pages and \`totalCount\`
  count visible rows only) and a hidden row answers like a missing one. On a mutation:
  \`target\` names the argument holding the id of the row written to; an area-limited caller may
  write only inside its area and gets the same \`FORBIDDEN\` whether the row is elsewhere or does
  not exist. A mutation without a target is city-wide and closed to area-limited callers.
- \`@pii(category: PERSONAL | SENSITIVE)\`: personal data. Denied callers get \`null\` and a
  \`FORBIDDEN\` (or \`UNAUTHENTICATED\`) error for that field, never the value. Each request's reads
  are written to the owning subgraph's append-only \`audit_log\` in one insert, queryable by the city
  administrator (\`<subgraph>AuditLog\`).
- Aggregates over individuals suppress counts of 0-4 (zeros included) and, complementarily, enough
  other figures that none of them can be recovered from its parents, siblings and cross-tabulations,
  unless the caller may read that subgraph's personal data everywhere (\`individualAccess\` in the
  subgraph context): see "Statistical disclosure control" below.

## The matrix (run end-to-end by \`test/security/access-matrix.test.ts\`)

✅ allowed, — denied.

${head}
${rows}

The content of 12345 tickets and patrol reports (free text, notes, addresses, locations, photos,
and the same fields of the Open311 view) is personal data under its own scope \`governance:cases\`:
the housing bureau handles property complaints without seeing who reported them
(\`ServiceTicket.reporter\` needs \`governance:pii\`). The public Open311 view keeps the service,
status, dates, agency and the 小区 (\`address_id\`). A committee's party-member ratio is sensitive
like each member's 政治面貌; its averages are published only to callers with \`governance:sensitive\`,
and suppressed elderly visit rates are left out of the ranking (\`visitCoverage\`).

"individual" rows: the register of older residents and their home visits are individual-level
data even without a name: only holders of \`elderly:pii\` see them, area-limited callers only inside
their area or care team; everyone else gets the aggregates (\`elderlyStats\`, \`visitTrend\`,
\`visitCoverage\`, under statistical disclosure control). A hidden row answers exactly like a missing one (null, or absent from a list).

Area claims are matched against what a row carries. Elderly rows carry their 小区, district and
care team, not a street: street staff whose token names only a \`street\` see no elderly rows, so
their tokens name their 小区 (\`communities\`) or district. Governance and properties rows take
street and neighbourhood codes from their subgraph's own 小区 register, for reads and writes alike.
Fields a caller sends in an \`_entities\` representation besides the key never decide a row's area.

### Statistical disclosure control (elderly statistics; \`lib/disclosure.ts\`)

Method: cell suppression, primary and secondary, as in τ-ARGUS's hierarchical (HiTaS-like)
top-down procedure; not rounding. For callers without individual-level access (\`elderly:pii\`
without an area limit: \`CITY_ADMIN\` and \`CIVIL_AFFAIRS\` see exact figures; street staff and
care teams, limited to an area, see the published ones):

- The tables: the register (\`registered\`) of every 小区, district and city (the elderly subgraph
  publishes no street level), cross-tabulated by living alone, difficulty, risk tier (high / key;
  general is the remainder), visited in the last 30 days, overdue now and visited this calendar
  month; holiday visits as a hierarchy of their own; and, per past month of \`visitTrend\`, the
  register by the month's end with visited in it and overdue at its end. Every remainder
  (\`registered\` − the published categories: "not living alone", "general tier", "not visited")
  is a cell too.
- Primary suppression: every cell of 0-4, zeros and remainders included (a 0 next to a null would
  tell that the null is 1-4; "all 6 registered live alone" is a remainder of 0).
- Secondary suppression: for each suppressed cell, top-down (city, districts, 小区), the cheapest
  set of further cells is suppressed such that one unit can be moved between the cell and its
  remainder (or its siblings, up to a common parent) without changing any published figure or making
  any cell negative: every suppressed cell then has at least two values consistent with everything
  published, so no differencing or solving of the equations among levels and margins recovers it
  (property test \`test/disclosure\`, by exhaustive integer search on random small cities). Cost:
  fewest cells, then smallest total.
- A rate (\`monthlyVisitRate\`, \`visitCoverage\`) is null when either of its counts is, and
  \`visitCoverage\` ranks only 小区 whose rate is published.
- The pattern is computed for a whole city at once (one snapshot: the figures and the pattern come
  from the same reads), so it depends on the data only, not on which area, argument or page was
  asked for: repeated queries cannot be combined to unpick it.
- Once per rollup version, not per request: every rollup write (each mutation, inside its
  transaction; the import finishers) and every \`stats:rebuild\` increments the city's version
  (\`elderly_stats_versions\`). A request reads that one small document and takes the snapshot
  cached in the subgraph process for (city, version, period); only on a miss (the first request
  after a write, or a new process) is the whole city read and the pattern computed, once for all
  concurrent requests. Figures with a time window (last 30 days, overdue, last 12 months) move
  without writes, so a snapshot is as of the start of a 60-second period; when a period ends with
  the rollups unchanged, the previous period's snapshot is served while the next one is computed.
  In a city of 1,000 areas or more (where a computation takes about a second at 4,000 小区, and
  writes come all day) the latest snapshot is also served while a new version's is computed, one
  computation per city at a time; smaller cities compute it before answering. The pattern is computed
  on a worker thread (in cities of 1,000 areas or more), so the subgraph keeps answering meanwhile.
  Replicas compute their own from the same data and instant, so they publish the same figures.

What a caller can still infer, and why that is acceptable: an interval for each suppressed figure
(at least two values: often many, e.g. "between 0 and the district's total minus its published
小区", but sometimes only two, e.g. "0 or 1 key-risk residents", since the guarantee is that no
value is certain, not a minimum width); that a null is either small or suppressed to protect one; changes between two moments (a
figure published today and yesterday differs by the registrations, deaths and visits in between;
consecutive months of \`visitTrend\` likewise): temporal differencing is not controlled, as in
official statistics published periodically, and its unit is events, not a standing attribute
of a person. None of these gives an exact small count of people in an area. Anonymous figures
are as of at most about two minutes ago (a period plus the time to compute the next snapshot);
in a small city the next request after a write shows it, in a large one the request after the new
snapshot is computed. Each answer still comes from one snapshot.

Governance suppresses no figure cell by cell: its one figure about people (the committees'
party-member ratio average) is withheld at every level from callers without
\`governance:sensitive\`, so there is nothing to difference it from; its counts are of committees,
meetings and tickets, shown exactly.

### Callers

| column | role | area |
|---|---|---|
${callers}

### Mutations: scope and the row each one writes to (from the SDLs)

| subgraph | mutation | scope | area checked against |
|---|---|---|---|
${muts}

## Roles and scopes (\`lib/auth/roles.ts\`)

A token names a role (and area claims); the role gives the scopes. A token's \`scope\` claim may
narrow them, never widen them.

| role | who | scopes | limited to |
|---|---|---|---|
${roles}

## Tokens

- Embedded default: an ES256 key pair is created under \`JWT_KEY_DIR\` (default \`DATA_DIR/keys\`);
  \`npm run token -- --role CARE_TEAM --team ct_320706_0001_01 --community cm_320706_0001 --ttl 8h\`
  prints a token for it.
- Production (\`NODE_ENV=production\`): \`JWKS_URL\`, \`JWT_ISSUER\`, \`JWT_AUDIENCE\` are required;
  tokens come from the city's identity provider. Expired, tampered, wrong-issuer, wrong-audience and
  unsigned tokens are refused with \`UNAUTHENTICATED\` (HTTP 401).
- Claims: \`sub\`, \`role\`, optional \`scope\`, \`district\`, \`street\`, \`neighborhood\`, \`communities\`,
  \`team\`, \`company\`, \`partner\`.

## Gateway limits (\`gateway/security.ts\`, configured in \`lib/config.ts\`)

Depth (\`MAX_QUERY_DEPTH\`), aliases (\`MAX_QUERY_ALIASES\`), tokens (\`MAX_QUERY_TOKENS\`) and cost
(\`MAX_QUERY_COST\`) limits; request body limit (\`BODY_LIMIT\`, 413); introspection
(\`INTROSPECTION\`, off by default in production); CSRF prevention on; CORS allowlist
(\`CORS_ORIGINS\`); per-token rate limit (\`RATE_LIMIT_PER_MINUTE\`, 429 \`RATE_LIMITED\`).

## Subgraphs defend themselves (\`lib/subgraph-server.ts\`; run by \`test/security/subgraph-defence.test.ts\`)

Every subgraph built on the shared factory (partners' included) applies these itself, whoever
reaches its port:

- **Query limits** (\`lib/limits.ts\`): the gateway's GraphQL Armor settings (\`MAX_QUERY_DEPTH\`,
  \`MAX_QUERY_ALIASES\`, \`MAX_QUERY_TOKENS\`, \`MAX_QUERY_COST\`). Depth counts fields only (fragments
  add no level), so \`_entities { ... on T { … } }\` counts the entity's selection: the gateway's plans
  of a query it accepted stay within the limit, a selection 120 levels deep under \`_entities\` is
  refused. Cost and tokens allow twice the gateway's figure for what the query planner adds
  (\`__typename\`, key fields, the \`_entities\` wrapper; the project's operations add at most 8% cost
  and 19% tokens). 100 aliases of \`visitCoverage(first: 200) { totalCount }\` are refused by both the
  alias and the cost limit (cost 70 000).
- **Only the gateway** (\`lib/auth/gateway-secret.ts\`): with \`GATEWAY_SECRET\` set (at least 32
  characters), the gateway (and the Hive gateway config) sends it in \`x-gateway-secret\` on every
  subgraph call, and a subgraph refuses any request without it with 401 \`UNAUTHENTICATED\` before
  reading the body: GraphQL, its SDL (\`_service\`) and routes such as Open311 alike; \`/health\`,
  \`/ready\` and \`/metrics\` stay open. A subgraph with \`NODE_ENV=production\` and no secret refuses to
  start. A shared secret (compared in constant time) rather than a signature of each request: the
  check needs no body and no clock, and the subgraphs sit on a private network behind the gateway.
  Rotation: set \`GATEWAY_SECRET_PREVIOUS\` to the old value and \`GATEWAY_SECRET\` to the new one on
  the subgraphs, roll them out, then give the gateway the new secret, then remove
  \`GATEWAY_SECRET_PREVIOUS\`. The embedded default sets no secret and checks none.
- **Text input hygiene** (\`lib/input-hygiene.ts\`): a text argument (String, ID or a string-valued
  scalar, at any depth of an input object or list, literal or variable) holding a C0/C1 control
  character or DEL other than tab and newline, a bidirectional embedding/override/isolate character
  (U+202A-U+202E, U+2066-U+2069) or an unpaired surrogate refuses the whole operation before
  anything runs, with \`BAD_USER_INPUT\` naming the argument path (e.g.
  \`createServiceTicket.input.description\`). The direction marks U+200E, U+200F and U+061C are
  allowed (they reorder nothing; mixed-script text uses them). Accepted text reaches the resolvers,
  and so the database, in Unicode NFC.

## Fair use (\`gateway/security.ts\` \`createFairUse\`; run by \`test/security/fairness.test.ts\`)

One caller cannot starve the others: each has a budget of query **cost per second** and of
**operations in flight**, and a caller over budget gets HTTP 429 with \`RATE_LIMITED\`, a
\`Retry-After\` header and \`extensions.retryAfter\` (seconds), while other callers are served.

| Caller (key) | Cost per second | In flight |
|---|---|---|
| with a token (its subject): \`FAIR_USE_COST_PER_SECOND\`, \`FAIR_USE_CONCURRENT\` | 50,000 | 32 |
| anonymous, per client address: \`FAIR_USE_ANONYMOUS_COST_PER_SECOND\`, \`FAIR_USE_ANONYMOUS_CONCURRENT\` | 40,000 | 24 |
| all anonymous callers together: \`FAIR_USE_ANONYMOUS_POOL_COST_PER_SECOND\`, \`FAIR_USE_ANONYMOUS_POOL_CONCURRENT\` | 50,000 | 64 |

- The cost is GraphQL Armor's, as \`MAX_QUERY_COST\` counts it, except that a page size given in a
  variable (\`first: $n\`) is counted at its value. It is charged once the operation is resolved; a
  refused request is charged nothing.
- A budget of B per second is kept as B × W per window of W seconds (W the smallest that fits one
  query of \`MAX_QUERY_COST\`). A query dearer than a whole window takes the whole window.
- The per-address pool stops one anonymous client from using everyone's share; the shared pool
  stops rotating addresses from multiplying anonymous load. Behind a load balancer set
  \`GATEWAY_TRUST_PROXY\` so the client address is the real one.
- With \`RATE_LIMIT_STORE=mongodb\` the cost counters are shared by every gateway replica; the
  in-flight counts are per replica. \`FAIR_USE=false\` turns both budgets off (e.g. a load test
  from one address).
`;
}

export const ACCESS_DOC = path.join(__dirname, '../../docs/access.md');

if (require.main === module && process.argv.includes('--write')) {
  // Mutation names come from the SDLs.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { mutationDocs } = require('./sdl-mutations') as typeof import('./sdl-mutations');
  writeFileSync(ACCESS_DOC, renderAccessDoc(mutationDocs()));
  console.log(`wrote ${ACCESS_DOC}`);
}
