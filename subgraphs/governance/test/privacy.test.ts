/**
 * Party membership (政治面貌) is sensitive personal data: a committee's party-member ratio is read by
 * the city administrator only (and audited), averages over 1-4 committees are suppressed for callers
 * without individual-level access, and reads of members' fields are audited under the member's record.
 */
import { rebuildStats } from '../stats';
import { now } from '../../../lib/clock';
import { gql, startTestDatabase, type Engine } from '../../../test/helpers/subgraph';
import { authHeader } from '../../../test/helpers/tokens';
import { DEMO } from '../seed';
import { startGovernance, type GovernanceUnderTest } from './helpers';

let engine: Engine;
let g: GovernanceUnderTest;
beforeAll(async () => {
  engine = await startTestDatabase();
  g = await startGovernance(engine.uri, '2026-03-20T02:00:00Z');
});
afterAll(async () => {
  await g?.close();
  await engine?.stop();
});

const DISTRICT = '320111';
const ids = [1, 2, 3, 4, 5].map((i) => `cm_${DISTRICT}_${String(i).padStart(4, '0')}`);
const committee = (i: number, ratio: number) => ({
  _id: `cmt_privacy_${i}`, communityId: ids[i - 1], cityCode: '320100', districtCode: DISTRICT, type: 'OWNERS_COMMITTEE', status: 'ACTIVE',
  partyMemberRatio: ratio, meetingDates: [], members: [], createdAt: now(), updatedAt: now(),
});
const STATS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on District { code committeeStats { communities active avgPartyMemberRatio } } } }`;
const district = { r: [{ __typename: 'District', code: DISTRICT }] };

describe('committee party-member ratio', () => {
  beforeAll(async () => {
    await g.q(`mutation($i: [RegisterCommunityInput!]!) { syncCommunityRegister(input: $i) }`, {
      i: ids.map((id) => ({ id, cityCode: '320100', districtCode: DISTRICT })),
    });
    await g.conn.collection('committees').insertMany([committee(1, 0), committee(2, 1), committee(3, 0.5), committee(4, 0.5)] as never[]);
    await rebuildStats(g.conn); // committees are written by seeds and imports only, which rebuild the rollups
  });

  it('an average over 4 committees is null for anonymous callers and street staff, and the city administrator gets it', async () => {
    const anonymous = (await g.q(STATS, district))._entities[0].committeeStats;
    const street = (await gql(g.url, STATS, district, await authHeader('STREET_STAFF', { district: DISTRICT }))).data!._entities[0].committeeStats;
    const admin = (await gql(g.url, STATS, district, await authHeader('CITY_ADMIN'))).data!._entities[0].committeeStats;
    expect(anonymous).toEqual({ communities: 5, active: 4, avgPartyMemberRatio: null });
    expect(street).toEqual(anonymous);
    expect(admin).toEqual({ communities: 5, active: 4, avgPartyMemberRatio: 0.5 });
  });

  it('an average over 5 committees or more is still not published: a city average next to its districts’ tells one committee’s ratio', async () => {
    await g.conn.collection('committees').insertOne(committee(5, 1) as never);
    await rebuildStats(g.conn);
    const anonymous = (await g.q(STATS, district))._entities[0].committeeStats;
    const housing = (await gql(g.url, STATS, district, await authHeader('HOUSING_BUREAU'))).data!._entities[0].committeeStats;
    const admin = (await gql(g.url, STATS, district, await authHeader('CITY_ADMIN'))).data!._entities[0].committeeStats;
    expect(anonymous).toEqual({ communities: 5, active: 5, avgPartyMemberRatio: null });
    expect(housing).toEqual(anonymous);
    expect(admin).toEqual({ communities: 5, active: 5, avgPartyMemberRatio: 0.6 });
  });

  it('a committee’s ratio is null with UNAUTHENTICATED for anonymous callers, FORBIDDEN for street staff of its area, and read (and audited) by the city administrator', async () => {
    const q = `{ committee(id: "cmt_privacy_2") { id type roles { role } partyMemberRatio } }`;
    const anonymous = await g.raw(q);
    const street = await gql(g.url, q, undefined, await authHeader('STREET_STAFF', { district: DISTRICT }));
    expect((anonymous.data as any).committee).toEqual({ id: 'cmt_privacy_2', type: 'OWNERS_COMMITTEE', roles: [], partyMemberRatio: null });
    expect(anonymous.errors?.map((e) => [e.path?.join('.'), e.extensions?.code])).toEqual([['committee.partyMemberRatio', 'UNAUTHENTICATED']]);
    expect([street.data!.committee.partyMemberRatio, street.errors?.map((e) => e.extensions?.code)]).toEqual([null, ['FORBIDDEN']]);
    const admin = await gql(g.url, q, undefined, { ...(await authHeader('CITY_ADMIN', { subject: 'test:admin' })), 'x-request-id': '0a1b2c3d-0000-4000-8000-000000000006' });
    expect([admin.errors, admin.data!.committee.partyMemberRatio]).toEqual([undefined, 1]);
    const audit = await g.conn.collection('audit_log').findOne({ requestId: '0a1b2c3d-0000-4000-8000-000000000006' });
    expect(audit?.reads).toEqual([{ type: 'Committee', id: 'cmt_privacy_2', fields: ['partyMemberRatio'] }]);
  });
});

describe('committee members', () => {
  it('reads of a member’s party membership are audited under the committee and the member’s seat, not under a null id', async () => {
    const cm = await g.conn.collection('committees').findOne({ communityId: DEMO.yijiang });
    await g.conn.collection('committees').updateOne({ _id: cm!._id }, {
      $set: { members: [
        { name: '委员甲', phone: '13700000001', role: 'DIRECTOR', affiliation: 'OWNER', isPartyMember: true },
        { name: '委员乙', phone: '13700000002', role: 'MEMBER', affiliation: 'OWNER', isPartyMember: false },
      ] },
    });
    const res = await gql(g.url, `{ committee(id: "${cm!._id}") { members { name isPartyMember } } }`, undefined, {
      ...(await authHeader('CITY_ADMIN')), 'x-request-id': '0a1b2c3d-0000-4000-8000-000000000007',
    });
    expect(res.data!.committee.members).toEqual([{ name: '委员甲', isPartyMember: true }, { name: '委员乙', isPartyMember: false }]);
    const audit = await g.conn.collection('audit_log').findOne({ requestId: '0a1b2c3d-0000-4000-8000-000000000007' });
    expect(audit?.reads).toEqual([
      { type: 'Committee', id: String(cm!._id), fields: ['members'] },
      { type: 'CommitteeMember', id: `${cm!._id}#0`, fields: ['isPartyMember'] },
      { type: 'CommitteeMember', id: `${cm!._id}#1`, fields: ['isPartyMember'] },
    ]);
  });
});
