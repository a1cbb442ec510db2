/**
 * `rowFilterFor` (the area rule as a database filter, used by connections so pages and totals count
 * visible rows only) must select exactly the rows `rowVisible` (the in-memory rule every resolver
 * result passes through) lets a caller see. Checked on the embedded engine over every combination
 * of row values and caller claims below.
 */
import type { Connection } from 'mongoose';
import { connectDatabase } from '../../lib/db';
import { authContextFor, ANONYMOUS, type AuthContext } from '../../lib/auth/context';
import { rowFilterFor, rowVisible, type RowFieldMap } from '../../lib/auth/directives';
import type { RowScopeKey } from '../../lib/auth/roles';
import { startTestDatabase, uniqueDbName, type Engine } from '../helpers/subgraph';

let engine: Engine;
let conn: Connection;
beforeAll(async () => {
  engine = await startTestDatabase();
  conn = await connectDatabase({ uri: engine.uri, dbName: uniqueDbName('rowfilter') });
});
afterAll(async () => {
  await conn?.close();
  await engine?.stop();
});

const KEYS: RowScopeKey[] = ['DISTRICT', 'STREET', 'NEIGHBORHOOD', 'COMMUNITY', 'CARE_TEAM'];
const MAP: RowFieldMap = { COMMUNITY: 'communityId', DISTRICT: 'districtCode', CARE_TEAM: 'registeredByTeamId' };

const COMMUNITIES = ['cm_320104_0001', 'cm_320104_0002', 'cm_320113_0001'];
const TEAMS = ['ct_a', 'ct_b', null];
const ROWS = COMMUNITIES.flatMap((c, i) =>
  TEAMS.map((t, j) => ({ _id: `el_${i}_${j}`, communityId: c, districtCode: c.slice(3, 9), registeredByTeamId: t })),
);

const CALLERS: [string, AuthContext][] = [
  ['anonymous (not row-limited)', ANONYMOUS],
  ['civil affairs', authContextFor({ subject: 'c', role: 'CIVIL_AFFAIRS' })],
  ['care team a serving 0001', authContextFor({ subject: 't', role: 'CARE_TEAM', area: { team: 'ct_a', communities: ['cm_320104_0001'] } })],
  ['care team b serving nothing', authContextFor({ subject: 't', role: 'CARE_TEAM', area: { team: 'ct_b' } })],
  ['care team c, unknown', authContextFor({ subject: 't', role: 'CARE_TEAM', area: { team: 'ct_c', communities: ['cm_999999_0001'] } })],
  ['street staff of district 320113', authContextFor({ subject: 's', role: 'STREET_STAFF', area: { district: '320113' } })],
  ['street staff with a street only (rows carry none)', authContextFor({ subject: 's', role: 'STREET_STAFF', area: { street: '320104001' } })],
  ['street staff of two 小区', authContextFor({ subject: 's', role: 'STREET_STAFF', area: { communities: ['cm_320104_0002', 'cm_320113_0001'] } })],
  ['property company (no kind applies)', authContextFor({ subject: 'p', role: 'PROPERTY_COMPANY', area: { company: '91320100MA1TEST01X' } })],
];

test.each(CALLERS)('%s: the database filter selects exactly the rows the in-memory rule shows', async (_name, auth) => {
  const coll = conn.collection(`rows_${Math.random().toString(36).slice(2)}`);
  await coll.insertMany(ROWS.map((r) => ({ ...r })) as never[]);
  const filter = rowFilterFor(auth, KEYS, MAP);
  const fromDb = (await coll.find(filter ?? {}).toArray()).map((d) => String(d._id)).sort();
  const inMemory = ROWS.filter((r) =>
    rowVisible(auth, KEYS, { COMMUNITY: r.communityId, DISTRICT: r.districtCode, CARE_TEAM: r.registeredByTeamId ?? undefined }),
  ).map((r) => r._id).sort();
  expect(fromDb).toEqual(inMemory);
  if (auth.limitedBy === null) expect(filter).toBeNull();
});

test('claims reach the filter as values only: a claim that looks like an operator stays a string inside $in', () => {
  const auth = authContextFor({ subject: 't', role: 'CARE_TEAM', area: { team: '{"$ne":null}', communities: ['$where'] } });
  expect(rowFilterFor(auth, KEYS, MAP)).toEqual({
    $or: [{ communityId: { $in: ['$where'] } }, { registeredByTeamId: { $in: ['{"$ne":null}'] } }],
  });
});
