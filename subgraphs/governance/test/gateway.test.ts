/**
 * The governance operations 9-17 through a real gateway (all four subgraphs on the embedded engine)
 * on a small synthetic city seeded by the shared generator, with the answers read back from
 * governance's database: TicketBacklog (9), TimeToResolveByCategory (10), CreateTicket (11),
 * Open311Export (12), PatrolFeed (13), CommitteeCoverage (14), JointMeetingCompliance (15),
 * TypicalCaseCandidates (16) and PropertyCompanyScorecard (17).
 *
 * The product clock is frozen at the run's "now" for the whole file, so the synthetic seed (dated
 * relative to it), the in-process subgraphs and the expected figures agree on one instant, on any
 * date (CLOCK_NOW moves it).
 */
import { cstMonth, daysBefore, lastCompleteMonths, now } from '../../../lib/clock';
import { startStack, type RunningStack } from '../../../scripts/stack';
import { generateCity } from '../../../scripts/synthetic/city';
import { seedSyntheticCity } from '../../../scripts/synthetic/seed-city';
import { gql } from '../../../test/helpers/subgraph';
import { pinClock } from '../../../test/helpers/clock';
import { authHeader } from '../../../test/helpers/tokens';
import { registerModels, type CommitteeDoc, type GovCommunityDoc, type Models, type TicketDoc } from '../models';
import { DEMO } from '../seed';

const N = 60;
const SEED = 11;
const city = generateCity(N, SEED);
const names = new Map(city.communities.map((c) => [c.id, c.name]));
let stack: RunningStack;
let m: Models;
/** "Now" for the whole file: the seed, the subgraphs and the assertions read this instant. */
const pinned = pinClock(now());
const NOW = now();

beforeAll(async () => {
  stack = await startStack({
    seed: 'always',
    logLevel: 'silent',
    gatewayTuning: { subgraphTimeoutsMs: { properties: 15_000, governance: 15_000, elderly: 15_000, renovation: 15_000 } },
    beforeListen: async (conns) => {
      await seedSyntheticCity(conns, { communities: N, seed: SEED });
    },
  });
  m = registerModels(stack.subgraphs.find((s) => s.name === 'governance')!.conn);
}, 240_000);
afterAll(async () => {
  await stack?.stop();
  pinned.restore();
});

async function q(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) {
  const res = await gql(stack.gatewayUrl, query, variables, headers);
  if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
  return res.data as any;
}
const HOUR = 3600_000;
const RATED = new Set(['SATISFIED', 'BASICALLY_SATISFIED', 'DISSATISFIED']);
const nearestRank = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.max(Math.ceil(p * s.length), 1) - 1] : null;
};
const round2 = (v: number | null) => (v == null ? null : Math.round(v * 100) / 100);
/** Ticket hours come from whole-hour rollups: the nearest-rank percentile floored to the hour. */
const floorHours = (v: number | null) => (v == null ? null : Math.floor(v));

describe('governance operations through the gateway (synthetic city)', () => {
  it('9 TicketBacklog: open overdue tickets of a district, with 小区 names and companies from properties', async () => {
    // A ticket taken two weeks ago and still with the street office: overdue. The synthetic city runs
    // up to the clock's now, so its own overdue backlog is small (most late tickets are 回复/延期).
    const late = city.communities[3].id;
    const made = await q(`mutation { createServiceTicket(input: { communityId: "${late}", channel: HOTLINE_12345, serviceCode: REPAIR,
      description: "路灯不亮", requestedAt: "${daysBefore(NOW, 15).toISOString()}", clientKey: "gw-syn-late-1" }) { id } }`);
    await q(`mutation { transitionTicket(input: { id: "${made.createServiceTicket.id}", to: DISPATCHED, assigneeOrg: "街道物业办",
      at: "${daysBefore(NOW, 14).toISOString()}" }) { id isOverdue } }`);
    // The district with the most such tickets.
    const [top] = await m.Ticket.aggregate<{ _id: string }>([
      { $match: { status: { $in: ['RECEIVED', 'DISPATCHED', 'IN_PROGRESS', 'SUPERVISING'] }, open: true, dueAt: { $lt: NOW } } },
      { $group: { _id: '$districtCode', n: { $sum: 1 } } },
      { $sort: { n: -1, _id: 1 } },
    ]).exec();
    const district = top._id;
    const res = await q(`{ tickets(filter: { districtCode: "${district}", status: [RECEIVED, DISPATCHED, IN_PROGRESS, SUPERVISING], overdue: true }, first: 200) {
      totalCount edges { node { id externalNo serviceCode dueAt status community { id name currentContract { company { name } } } } } } }`);
    const expected = await m.Ticket.find({
      districtCode: district, status: { $in: ['RECEIVED', 'DISPATCHED', 'IN_PROGRESS', 'SUPERVISING'] }, open: true, dueAt: { $lt: NOW },
    }).lean<TicketDoc[]>().exec();
    expect(expected.length).toBeGreaterThan(0);
    expect(res.tickets.totalCount).toBe(expected.length);
    const nodes = res.tickets.edges.map((e: any) => e.node);
    expect(nodes.map((n: any) => n.id).sort()).toEqual(expected.map((t) => t._id).sort());
    for (const n of nodes) {
      expect(n.community.name).toBe(names.get(n.community.id));
      expect(new Date(n.dueAt).getTime()).toBeLessThan(NOW.getTime());
    }
    // Every synthetic 小区 has a current contract in properties: the company name joins through.
    expect(nodes.some((n: any) => typeof n.community.currentContract?.company?.name === 'string')).toBe(true);
  });

  it('10 TimeToResolveByCategory: per service code p50/p90, reopen and dissatisfied rates equal the documents', async () => {
    const res = await q(`{ ticketStats(scope: { cityCode: "320100" }, range: LAST_90D, groupBy: SERVICE_CODE) {
      resolved groups { key resolved p50Hours p90Hours reopenRate dissatisfiedRate } }
      last30: ticketStats(scope: { cityCode: "320100" }, range: LAST_30D) { opened resolved } }`);
    // The synthetic city runs up to the clock's now: the last 30 days have tickets on any date.
    const monthAgo = daysBefore(NOW, 30);
    expect(res.last30.opened).toBe(await m.Ticket.countDocuments({ cityCode: '320100', requestedAt: { $gte: monthAgo, $lte: NOW } }).exec());
    expect(res.last30.resolved).toBe(await m.Ticket.countDocuments({ cityCode: '320100', resolvedAt: { $gte: monthAgo, $lte: NOW } }).exec());
    expect(res.last30.opened).toBeGreaterThan(0);
    const from = daysBefore(NOW, 90);
    const resolved = await m.Ticket.find({ cityCode: '320100', resolvedAt: { $gte: from } }).lean<TicketDoc[]>().exec();
    expect(res.ticketStats.resolved).toBe(resolved.length);
    const codes = [...new Set(resolved.map((t) => t.serviceCode))].sort();
    expect(res.ticketStats.groups.filter((g: any) => g.resolved > 0).map((g: any) => g.key)).toEqual(codes);
    for (const code of codes) {
      const ts = resolved.filter((t) => t.serviceCode === code);
      const hours = ts.map((t) => (t.resolvedAt!.getTime() - t.requestedAt.getTime()) / HOUR);
      const rated = ts.filter((t) => RATED.has(t.firstSatisfaction ?? ''));
      const g = res.ticketStats.groups.find((x: any) => x.key === code);
      expect(g).toMatchObject({ resolved: ts.length, p50Hours: floorHours(nearestRank(hours, 0.5)), p90Hours: floorHours(nearestRank(hours, 0.9)) });
      expect(g.reopenRate).toBeCloseTo(ts.filter((t) => t.reopenCount > 0).length / ts.length, 10);
      if (rated.length) expect(g.dissatisfiedRate).toBeCloseTo(rated.filter((t) => t.firstSatisfaction === 'DISSATISFIED').length / rated.length, 10);
      else expect(g.dissatisfiedRate).toBeNull();
    }
  });

  it('11 CreateTicket and 12 Open311Export: an on-site ticket appears in the open Open311 export without reporter data; its content only for the housing bureau', async () => {
    const id = city.communities[1].id;
    const created = await q(`mutation { createServiceTicket(input: { communityId: "${id}", channel: ONSITE_12345_DESK, serviceCode: EBIKE_CHARGING,
      description: "电动车充电难，联系电话13912345678", location: { lat: 32.05, long: 118.78 }, mediaUrls: ["https://img.example.invalid/a.jpg"],
      reporter: { firstName: "合成", phone: "13800001234" }, clientKey: "gw-syn-1" }) {
      id status open311Status dueAt community { name } } }`);
    expect(created.createServiceTicket).toMatchObject({ status: 'RECEIVED', open311Status: 'open', community: { name: names.get(id) } });
    const tid = created.createServiceTicket.id;
    const end = NOW;
    const start = daysBefore(end, 120);
    const vars = { s: start.toISOString(), e: end.toISOString() };
    // The public view: everyone may read it; the 小区 is its location.
    const res = await q(`query($s: DateTime, $e: DateTime) { open311Requests(jurisdictionId: "nanjing", startDate: $s, endDate: $e, status: open, page: 1, pageSize: 1000) {
      service_request_id status service_code requested_datetime updated_datetime expected_datetime address_id } }`, vars);
    const expected = await m.Ticket.countDocuments({ cityCode: '320100', open: true, requestedAt: { $gte: start, $lte: end } }).exec();
    expect(res.open311Requests).toHaveLength(expected);
    expect(res.open311Requests.every((r: any) => r.status === 'open')).toBe(true);
    const mine = res.open311Requests.find((r: any) => r.service_request_id === tid);
    expect(mine).toMatchObject({ service_code: 'EBIKE_CHARGING', status: 'open', address_id: id });
    expect(new Date(mine.expected_datetime).toISOString()).toBe(created.createServiceTicket.dueAt);
    // The content (text, spot, media) is personal data: the housing bureau reads it (text masked), the public does not.
    const CONTENT = `query($s: DateTime, $e: DateTime) { open311Requests(jurisdictionId: "nanjing", startDate: $s, endDate: $e, status: open, page: 1, pageSize: 1000) {
      service_request_id description lat long media_url } }`;
    const housing = await q(CONTENT, vars, await authHeader('HOUSING_BUREAU'));
    const full = housing.open311Requests.find((r: any) => r.service_request_id === tid);
    expect(full).toMatchObject({ description: '电动车充电难，联系电话[手机号已隐去]', lat: 32.05, long: 118.78, media_url: 'https://img.example.invalid/a.jpg' });
    expect(JSON.stringify(housing.open311Requests)).not.toContain('13800001234');
    const anonymous = await gql(stack.gatewayUrl, CONTENT, vars);
    const shown = anonymous.data!.open311Requests.find((r: any) => r.service_request_id === tid);
    expect(shown).toEqual({ service_request_id: tid, description: null, lat: null, long: null, media_url: null });
    expect(new Set(anonymous.errors!.map((e: any) => e.extensions?.code))).toEqual(new Set(['UNAUTHENTICATED']));
    expect(JSON.stringify(anonymous)).not.toMatch(/13912345678|img\.example|32\.05/);
  });

  it('13 PatrolFeed: reports of a 小区 with the company they were forwarded to (name from properties) and the rectification lag', async () => {
    const rec = await q(`mutation { recordPatrolReport(input: { communityId: "${DEMO.yijiang}", issueType: GARBAGE_PICKUP_LATE,
      photos: ["https://img.example.invalid/p1.jpg"], clientKey: "gw-syn-patrol-1" }) { id } }`);
    await q(`mutation { recordRectification(input: { reportId: "${rec.recordPatrolReport.id}", photos: ["https://img.example.invalid/p1-done.jpg"] }) { id } }`);
    const res = await q(`{ patrolReports(communityId: "${DEMO.yijiang}", range: LAST_30D) { id issueType photoUrls reportedAt rectifiedAt rectificationLagHours forwardedToCompany { name } }
      community(id: "${DEMO.yijiang}") { name patrolStats(range: LAST_30D) { reports rectified medianRectificationLagHours } } }`, undefined, await authHeader('HOUSING_BUREAU'));
    expect(res.patrolReports).toHaveLength(1);
    expect(res.patrolReports[0]).toMatchObject({ issueType: 'GARBAGE_PICKUP_LATE', photoUrls: ['https://img.example.invalid/p1.jpg'], forwardedToCompany: { name: '南京谐扬物业管理有限公司' } });
    expect(res.patrolReports[0].rectificationLagHours).toBeGreaterThanOrEqual(0);
    expect(res.community).toMatchObject({ name: '怡江苑', patrolStats: { reports: 1, rectified: 1 } });
    // The company's feed (cursor-paginated) across the 小区 it serves.
    const feed = await q(`{ patrolReportFeed(filter: { companyUscc: "PLACEHOLDER0000002" }) { totalCount edges { node { id community { name } forwardedToCompany { name } } } } }`);
    expect(feed.patrolReportFeed).toEqual({
      totalCount: 1,
      edges: [{ node: { id: rec.recordPatrolReport.id, community: { name: '怡江苑' }, forwardedToCompany: { name: '南京谐扬物业管理有限公司' } } }],
    });
    // A synthetic 找茬队's reports over the last 12 months: counts and lag percentile from the documents.
    const team = await m.PatrolTeam.findOne({ synthetic: true }).lean().exec();
    if (team) {
      const from = daysBefore(NOW, 365);
      const reps = await m.PatrolReport.find({ communityId: team.communityId, reportedAt: { $gte: from } }).lean().exec();
      const lags = reps.filter((r) => r.rectifiedAt).map((r) => (r.rectifiedAt!.getTime() - r.reportedAt.getTime()) / HOUR);
      const syn = await q(`{ community(id: "${team.communityId}") { name patrolTeams { memberCount } patrolStats(range: LAST_12M) { reports rectified medianRectificationLagHours } } }`);
      expect(syn.community).toMatchObject({
        name: names.get(team.communityId),
        patrolTeams: [{ memberCount: team.memberCount }],
        patrolStats: { reports: reps.length, rectified: lags.length, medianRectificationLagHours: round2(nearestRank(lags, 0.5)) },
      });
    }
  });

  it('14 CommitteeCoverage: committee figures per district next to properties’ old-community count', async () => {
    const res = await q(`{ city(code: "320100") { districts { code oldCommunityCount
      committeeStats { communities withOwnersCommittee withPMC none expiredTerms disclosedLast12m avgPartyMemberRatio } } } }`);
    const communities = await m.Community.find({}).lean<GovCommunityDoc[]>().exec();
    const committees = await m.Committee.find({}).lean<CommitteeDoc[]>().exec();
    const now = NOW.getTime();
    let checked = 0;
    for (const d of res.city.districts) {
      const ids = new Set(communities.filter((c) => c.districtCode === d.code).map((c) => c._id));
      const cs = committees.filter((x) => ids.has(x.communityId));
      const has = (id: string, type: string) => cs.some((x) => x.communityId === id && x.type === type && x.status === 'ACTIVE');
      expect(d.committeeStats).toMatchObject({
        communities: ids.size,
        withOwnersCommittee: [...ids].filter((id) => has(id, 'OWNERS_COMMITTEE')).length,
        withPMC: [...ids].filter((id) => has(id, 'PROPERTY_MANAGEMENT_COMMITTEE')).length,
        none: [...ids].filter((id) => !has(id, 'OWNERS_COMMITTEE') && !has(id, 'PROPERTY_MANAGEMENT_COMMITTEE')).length,
        expiredTerms: cs.filter((x) => x.status === 'EXPIRED' || (x.status === 'ACTIVE' && x.termEnd && x.termEnd.getTime() < now)).length,
        disclosedLast12m: cs.filter((x) => x.lastDisclosureAt && x.lastDisclosureAt.getTime() >= daysBefore(NOW, 365).getTime()).length,
      });
      const old = city.communities.filter((c) => c.districtCode === d.code && c.isOld).length;
      if (d.code !== '320104' && d.code !== '320113') expect(d.oldCommunityCount).toBe(old); // the article's 小区 are old too
      if (ids.size) checked++;
    }
    expect(checked).toBeGreaterThan(5);
  });

  it('15 JointMeetingCompliance: 小区 with an alliance, meetings in the last 3 complete months and the 1-a-month rule', async () => {
    const res = await q(`{ allianceCommunities(cityCode: "320100") { id name jointMeetingsLast3m compliant: meetsCadence(perMonth: 1) } }`);
    const alliances = await m.Alliance.find({ cityCodes: '320100' }).lean().exec();
    expect(res.allianceCommunities.map((c: any) => c.id).sort()).toEqual([...new Set(alliances.flatMap((a) => a.communityIds))].sort());
    const months = lastCompleteMonths(NOW, 3);
    for (const c of res.allianceCommunities) {
      const meetings = await m.Meeting.find({ communityId: c.id, heldAt: { $gte: months[0].start, $lt: months[2].end } }).lean().exec();
      expect(c.jointMeetingsLast3m).toBe(meetings.length);
      const perMonth = months.map((w) => meetings.filter((x) => cstMonth(x.heldAt) === w.month).length);
      expect(c.compliant).toBe(perMonth.every((n) => n >= 1));
      if (names.has(c.id)) expect(c.name).toBe(names.get(c.id));
    }
    expect(res.allianceCommunities.some((c: any) => c.compliant)).toBe(true);
  });

  it('16 TypicalCaseCandidates: scores the nightly mutation stored from governance’s own records, ranked, names from properties', async () => {
    const run = await q(`mutation { recordBeautifulHomeScores(cityCode: "320700") { rubricId cityCode recorded } }`);
    const ids = (await m.Community.find({ cityCode: '320700' }, { _id: 1 }).lean().exec()).map((c) => String(c._id));
    expect(run.recordBeautifulHomeScores).toEqual({ rubricId: 'rb_default', cityCode: '320700', recorded: ids.length });
    // The same score as governance computes for a representation without the other bureaus' figures.
    const governance = stack.subgraphs.find((s) => s.name === 'governance')!.url;
    const own = await gql(governance, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Community { id beautifulHome { score } } } }`, {
      r: ids.map((id) => ({ __typename: 'Community', id })),
    });
    const scored = own.data!._entities.filter((n: any) => n.beautifulHome?.score != null);
    const ranked = await q(`{ typicalCaseCandidates(cityCode: "320700", excludeDesignated: false, first: 100) { rank beautifulHomeScore community { id name } } }`);
    expect(ranked.typicalCaseCandidates.map((c: any) => c.beautifulHomeScore)).toEqual(scored.map((n: any) => n.beautifulHome.score).sort((a: number, b: number) => b - a));
    expect(ranked.typicalCaseCandidates.map((c: any) => c.rank)).toEqual(scored.map((_: unknown, i: number) => i + 1));
    const page = await q(`{ communities(filter: { cityCode: "320700" }, first: 100) { edges { node { id name } } } }`);
    const byId = new Map(page.communities.edges.map((e: any) => [e.node.id, e.node.name]));
    for (const c of ranked.typicalCaseCandidates) expect(c.community.name).toBe(byId.get(c.community.id));
  });

  it('17 PropertyCompanyScorecard: per-小区 tickets per 1,000 households and dissatisfied rate over the last 12 months', async () => {
    const first = await q(`{ community(id: "${city.communities[2].id}") { currentContract { company { uscc } } } }`);
    const uscc = first.community.currentContract.company.uscc;
    const res = await q(`{ propertyCompany(uscc: "${uscc}") { name communities { id name feeCollection { amountRate } latestSatisfaction { percent }
      ticketStats(range: LAST_12M) { opened perThousandHouseholds dissatisfiedRate } } } }`);
    expect(res.propertyCompany.communities.length).toBeGreaterThan(0);
    const from = daysBefore(NOW, 365);
    for (const c of res.propertyCompany.communities) {
      const reg = await m.Community.findById(c.id).lean<GovCommunityDoc>().exec();
      const opened = await m.Ticket.countDocuments({ communityId: c.id, requestedAt: { $gte: from } }).exec();
      const resolved = await m.Ticket.find({ communityId: c.id, resolvedAt: { $gte: from } }).lean<TicketDoc[]>().exec();
      const rated = resolved.filter((t) => RATED.has(t.firstSatisfaction ?? ''));
      expect(c.name).toBe(names.get(c.id));
      expect(c.ticketStats.opened).toBe(opened);
      expect(c.ticketStats.perThousandHouseholds).toBe(Math.round((opened * 1000 * 1000) / reg!.householdCount!) / 1000);
      expect(c.ticketStats.dissatisfiedRate).toBe(rated.length ? rated.filter((t) => t.firstSatisfaction === 'DISSATISFIED').length / rated.length : null);
    }
  });
});
