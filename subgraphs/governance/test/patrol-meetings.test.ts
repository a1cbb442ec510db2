/**
 * Resident patrols (找茬队): photographed findings forwarded to the property company, rectification
 * and its lag, escalation to a ticket; joint meetings (联席会议) and cadence compliance.
 */
import { gql, startTestDatabase, type Engine } from '../../../test/helpers/subgraph';
import { authHeader } from '../../../test/helpers/tokens';
import { DEMO, DEMO_COMPANIES } from '../seed';
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

const REPORT = `mutation($input: RecordPatrolReportInput!) { recordPatrolReport(input: $input) {
  id status issueType photoUrls reportedAt forwardedAt forwardedToCompany { uscc } team { name } community { id } rectificationLagHours linkedTicket { id channel serviceCode status media } } }`;
const RECTIFY = `mutation($input: RecordRectificationInput!) { recordRectification(input: $input) { id status rectifiedAt rectificationLagHours rectificationPhotoUrls rectificationNote } }`;
const MEETING = `mutation($input: RecordJointMeetingInput!) { recordJointMeeting(input: $input) { id heldAt topics participantOrgTypes resolutions community { id } followUpTickets { id } } }`;

describe('patrol reports', () => {
  it('forwards a photographed finding to the company serving the 小区 by default', async () => {
    const { recordPatrolReport: r } = await g.q(REPORT, {
      input: {
        communityId: DEMO.yijiang, teamId: 'pt_yijiang_zhaocha', issueType: 'GARBAGE_PICKUP_LATE',
        photos: ['https://img.example/p1.jpg'], reportedAt: '2026-03-18T00:00:00Z', clientKey: 'patrol-0318-1',
      },
    });
    expect(r).toMatchObject({
      status: 'OPEN', issueType: 'GARBAGE_PICKUP_LATE', reportedAt: '2026-03-18T00:00:00.000Z', forwardedAt: '2026-03-18T00:00:00.000Z',
      forwardedToCompany: { uscc: DEMO_COMPANIES.xieyang }, team: { name: '找茬队' }, community: { id: DEMO.yijiang },
      rectificationLagHours: null, linkedTicket: null,
    });
    const again = await g.q(REPORT, {
      input: { communityId: DEMO.yijiang, teamId: 'pt_yijiang_zhaocha', issueType: 'GARBAGE_PICKUP_LATE', photos: ['https://img.example/p1.jpg'], reportedAt: '2026-03-18T00:00:00Z', clientKey: 'patrol-0318-1' },
    });
    expect(again.recordPatrolReport.id).toBe(r.id);
  });

  it('refuses a report without photos, with a future time, or with another 小区’s team', async () => {
    const noPhoto = await g.raw(REPORT, { input: { communityId: DEMO.yijiang, issueType: 'DOG', photos: [] } });
    expect(noPhoto.errors?.[0]).toMatchObject({ message: 'photos: needs at least 1 URL', extensions: { field: 'photos' } });
    const future = await g.raw(REPORT, { input: { communityId: DEMO.yijiang, issueType: 'DOG', photos: ['https://x.example/a.jpg'], reportedAt: '2026-04-01T00:00:00Z' } });
    expect(future.errors?.[0].extensions?.field).toBe('reportedAt');
    const wrongTeam = await g.raw(REPORT, { input: { communityId: DEMO.ruijin, teamId: 'pt_yijiang_zhaocha', issueType: 'DOG', photos: ['https://x.example/a.jpg'] } });
    expect(wrongTeam.errors?.[0].extensions?.field).toBe('teamId');
  });

  it('records the rectification once, and measures the lag', async () => {
    const list = await g.q(`{ patrolReports(communityId: "${DEMO.yijiang}", status: OPEN) { id } }`);
    const id = list.patrolReports[0].id;
    const early = await g.raw(RECTIFY, { input: { reportId: id, rectifiedAt: '2026-03-17T00:00:00Z' } });
    expect(early.errors?.[0].extensions?.field).toBe('rectifiedAt');
    const { recordRectification: r } = await g.q(RECTIFY, {
      input: { reportId: id, rectifiedAt: '2026-03-18T06:30:00Z', photos: ['https://img.example/p1-after.jpg'], note: '已清运' },
    });
    expect(r).toEqual({ id, status: 'RECTIFIED', rectifiedAt: '2026-03-18T06:30:00.000Z', rectificationLagHours: 6.5, rectificationPhotoUrls: ['https://img.example/p1-after.jpg'], rectificationNote: '已清运' });
    const twice = await g.raw(RECTIFY, { input: { reportId: id } });
    expect(twice.errors?.[0].extensions?.code).toBe('CONFLICT');
  });

  it('escalates a finding to a PATROL ticket, idempotently', async () => {
    const input = {
      communityId: DEMO.yijiang, issueType: 'GREENERY_MAINTENANCE', description: '3幢绿化带枯死', photos: ['https://img.example/g.jpg'],
      reportedAt: '2026-03-19T01:00:00Z', escalateToTicket: true, clientKey: 'patrol-0319-green',
    };
    const a = (await g.q(REPORT, { input })).recordPatrolReport;
    expect(a.linkedTicket).toMatchObject({ channel: 'PATROL', serviceCode: 'GREENERY', status: 'RECEIVED', media: ['https://img.example/g.jpg'] });
    const b = (await g.q(REPORT, { input })).recordPatrolReport;
    expect(b.linkedTicket.id).toBe(a.linkedTicket.id);
    const tickets = await g.q(`{ tickets(filter: { communityId: "${DEMO.yijiang}", channel: [PATROL] }) { totalCount } }`);
    expect(tickets.tickets.totalCount).toBe(1);
  });

  it('computes rectification lag figures per 小区 and per company in the database', async () => {
    // Two more findings: one rectified after 60 h, one still open.
    const more = [
      { at: '2026-03-10T00:00:00Z', fixed: '2026-03-12T12:00:00Z' },
      { at: '2026-03-15T00:00:00Z', fixed: null },
    ];
    for (const m of more) {
      const { recordPatrolReport: r } = await g.q(REPORT, { input: { communityId: DEMO.yijiang, issueType: 'CORRIDOR_CLUTTER', photos: ['https://img.example/c.jpg'], reportedAt: m.at } });
      if (m.fixed) await g.q(RECTIFY, { input: { reportId: r.id, rectifiedAt: m.fixed } });
    }
    const res = await g.q(
      `query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Community { patrolStats(range: LAST_30D) { reports rectified open medianRectificationLagHours p90RectificationLagHours rectifiedWithin48hRate } }
        ... on PropertyCompany { patrolStats(range: LAST_30D) { reports rectified } } } }`,
      { r: [{ __typename: 'Community', id: DEMO.yijiang }, { __typename: 'PropertyCompany', uscc: DEMO_COMPANIES.xieyang }, { __typename: 'Community', id: DEMO.ruijin }] },
    );
    expect(res._entities).toEqual([
      { patrolStats: { reports: 4, rectified: 2, open: 2, medianRectificationLagHours: 6.5, p90RectificationLagHours: 60, rectifiedWithin48hRate: 0.25 } },
      { patrolStats: { reports: 4, rectified: 2 } },
      { patrolStats: { reports: 0, rectified: 0, open: 0, medianRectificationLagHours: null, p90RectificationLagHours: null, rectifiedWithin48hRate: null } },
    ]);
    const feed = await g.q(`{ patrolReports(communityId: "${DEMO.yijiang}", range: LAST_30D) { issueType reportedAt rectifiedAt forwardedToCompany { uscc } } }`);
    expect(feed.patrolReports.map((p: any) => p.reportedAt)).toEqual([
      '2026-03-19T01:00:00.000Z', '2026-03-18T00:00:00.000Z', '2026-03-15T00:00:00.000Z', '2026-03-10T00:00:00.000Z',
    ]);
  });
  it('a report’s text and photos are personal data: null with UNAUTHENTICATED for an anonymous caller, the deprecated photo lists empty', async () => {
    const { recordPatrolReport: r } = await g.q(REPORT, {
      input: { communityId: DEMO.xinhai, issueType: 'CORRIDOR_CLUTTER', description: '5幢 王建国 家门口堆物 138 0000 1111', photos: ['https://img.example/face.jpg'], reportedAt: '2026-03-19T02:00:00Z' },
    });
    await g.q(RECTIFY, { input: { reportId: r.id, rectifiedAt: '2026-03-19T05:00:00Z', photos: ['https://img.example/after.jpg'], note: '已联系张先生清理' } });
    const READ = `query($id: ID!) { _entities(representations: [{ __typename: "PatrolReport", id: $id }]) { ... on PatrolReport {
      id issueType status rectificationLagHours community { id } photos rectificationPhotos description photoUrls rectificationPhotoUrls rectificationNote } } }`;
    const anonymous = await g.raw(READ, { id: r.id });
    expect((anonymous.data as any)._entities[0]).toEqual({
      id: r.id, issueType: 'CORRIDOR_CLUTTER', status: 'RECTIFIED', rectificationLagHours: 3, community: { id: DEMO.xinhai },
      photos: [], rectificationPhotos: [], description: null, photoUrls: null, rectificationPhotoUrls: null, rectificationNote: null,
    });
    expect(anonymous.errors!.map((e) => [e.path!.slice(2).join('.'), e.extensions?.code]).sort()).toEqual(
      ['description', 'photoUrls', 'rectificationNote', 'rectificationPhotoUrls'].map((f) => [f, 'UNAUTHENTICATED']),
    );
    expect(JSON.stringify(anonymous)).not.toMatch(/王建国|0000|img\.example|张先生/);

    // Street staff of the 小区 and the company the report went to read it (names and phones masked); another company does not.
    const street = await gql(g.url, READ, { id: r.id }, await authHeader('STREET_STAFF', { communities: [DEMO.xinhai] }));
    expect([street.errors, street.data!._entities[0]]).toEqual([undefined, expect.objectContaining({
      description: '5幢 [姓名已隐去] 家门口堆物 [手机号已隐去]', photoUrls: ['https://img.example/face.jpg'],
      rectificationPhotoUrls: ['https://img.example/after.jpg'], rectificationNote: '已联系[姓名已隐去]清理',
    })]);
    const company = await gql(g.url, READ, { id: r.id }, await authHeader('PROPERTY_COMPANY', { company: DEMO_COMPANIES.yingbin }));
    expect([company.errors, company.data!._entities[0].photoUrls]).toEqual([undefined, ['https://img.example/face.jpg']]);
    const other = await gql(g.url, READ, { id: r.id }, await authHeader('PROPERTY_COMPANY', { company: DEMO_COMPANIES.hengzhao }));
    expect(other.data!._entities[0]).toMatchObject({ description: null, photoUrls: null, rectificationPhotoUrls: null, rectificationNote: null });
    expect(new Set(other.errors!.map((e) => e.extensions?.code))).toEqual(new Set(['FORBIDDEN']));
  });
});

describe('joint meetings and cadence', () => {
  it('records a meeting and counts it in the month it was held (China Standard Time)', async () => {
    // 31 Jan 20:00 UTC is 1 Feb 04:00 in Beijing: a February meeting.
    const { recordJointMeeting: m } = await g.q(MEETING, {
      input: {
        communityId: DEMO.dongfang, heldAt: '2026-01-31T20:00:00Z', participantOrgTypes: ['STREET', 'OWNERS_COMMITTEE', 'PROPERTY_COMPANY'],
        topics: ['HEATING', 'FIRE_SAFETY'], resolutions: ['检修供暖管线'], clientKey: 'dfry-2026-02',
      },
    });
    expect(m).toMatchObject({ heldAt: '2026-01-31T20:00:00.000Z', topics: ['HEATING', 'FIRE_SAFETY'], community: { id: DEMO.dongfang }, followUpTickets: [] });
    const replay = await g.q(MEETING, {
      input: {
        communityId: DEMO.dongfang, heldAt: '2026-01-31T20:00:00Z', participantOrgTypes: ['STREET', 'OWNERS_COMMITTEE', 'PROPERTY_COMPANY'],
        topics: ['HEATING', 'FIRE_SAFETY'], resolutions: ['检修供暖管线'], clientKey: 'dfry-2026-02',
      },
    });
    expect(replay.recordJointMeeting.id).toBe(m.id);
    const c = await g.q(`{ allianceCommunities(cityCode: "320700") { jointMeetingsLast3m jointMeetingCompliance { months { month held compliant } compliantMonths meetsCadence hasRecords } } }`);
    expect(c.allianceCommunities[0]).toEqual({
      jointMeetingsLast3m: 1,
      jointMeetingCompliance: {
        months: [
          { month: '2025-12', held: 0, compliant: false },
          { month: '2026-01', held: 0, compliant: false },
          { month: '2026-02', held: 1, compliant: true },
        ],
        compliantMonths: 1,
        meetsCadence: false,
        hasRecords: true,
      },
    });
  });

  it('meets the cadence once every month has its meeting', async () => {
    for (const heldAt of ['2025-12-10T02:00:00Z', '2026-01-15T02:00:00Z']) {
      await g.q(MEETING, { input: { communityId: DEMO.dongfang, heldAt, participantOrgTypes: ['STREET', 'PROPERTY_COMPANY'], topics: ['DRYING_AREA'] } });
    }
    const res = await g.q(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Community {
      jointMeetingsLast3m meetsCadence twice: meetsCadence(perMonth: 2) lastTwo: meetsCadence(months: 2) coGovernanceTopics } } }`, {
      r: [{ __typename: 'Community', id: DEMO.dongfang }],
    });
    expect(res._entities[0]).toEqual({
      jointMeetingsLast3m: 3,
      meetsCadence: true,
      twice: false,
      lastTwo: true,
      coGovernanceTopics: ['HEATING', 'FIRE_SAFETY', 'DRYING_AREA'],
    });
    const cities = await g.q(`query($r: [_Any!]!) { _entities(representations: $r) { ... on City { jointMeetingsLast90d } ... on District { jointMeetingsLast90d } } }`, {
      r: [{ __typename: 'City', code: '320700' }, { __typename: 'District', code: '320706' }, { __typename: 'City', code: '320100' }],
    });
    expect(cities._entities).toEqual([{ jointMeetingsLast90d: 2 }, { jointMeetingsLast90d: 2 }, { jointMeetingsLast90d: 0 }]); // 10 Dec is older than 90 days
  });

  it('links follow-up tickets of the same 小区 only, and refuses a one-party or future meeting', async () => {
    const t = await g.q(`mutation { createServiceTicket(input: { communityId: "${DEMO.dongfang}", channel: WALK_IN, serviceCode: HEATING, description: "暖气" }) { id } }`);
    const other = await g.q(`mutation { createServiceTicket(input: { communityId: "${DEMO.ruijin}", channel: WALK_IN, serviceCode: FEE, description: "费" }) { id } }`);
    const bad = await g.raw(MEETING, {
      input: { communityId: DEMO.dongfang, heldAt: '2026-03-19T02:00:00Z', participantOrgTypes: ['STREET', 'POLICE'], topics: ['HEATING'], followUpTicketIds: [t.createServiceTicket.id, other.createServiceTicket.id] },
    });
    expect(bad.errors?.[0]).toMatchObject({ extensions: { field: 'followUpTicketIds' } });
    expect(bad.errors?.[0].message).toContain(other.createServiceTicket.id);
    const ok = await g.q(MEETING, {
      input: { communityId: DEMO.dongfang, heldAt: '2026-03-19T02:00:00Z', participantOrgTypes: ['STREET', 'POLICE'], topics: ['HEATING'], followUpTicketIds: [t.createServiceTicket.id] },
    });
    expect(ok.recordJointMeeting.followUpTickets).toEqual([{ id: t.createServiceTicket.id }]);
    const alone = await g.raw(MEETING, { input: { communityId: DEMO.dongfang, heldAt: '2026-03-19T02:00:00Z', participantOrgTypes: ['STREET', 'STREET'], topics: ['HEATING'] } });
    expect(alone.errors?.[0].extensions?.field).toBe('participantOrgTypes');
    const future = await g.raw(MEETING, { input: { communityId: DEMO.dongfang, heldAt: '2026-05-01T02:00:00Z', participantOrgTypes: ['STREET', 'POLICE'], topics: ['HEATING'] } });
    expect(future.errors?.[0].extensions?.field).toBe('heldAt');
    const badMonths = await g.raw(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Community { meetsCadence(months: 0) } } }`, { r: [{ __typename: 'Community', id: DEMO.dongfang }] });
    expect(badMonths.errors?.[0].extensions?.field).toBe('months');
  });
});
