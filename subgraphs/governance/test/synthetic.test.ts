/**
 * The synthetic city (docs/domain.md, "The synthetic city") for a small N: deterministic, no
 * duplicates on re-run, every ticket walked through the transition table, dated relative to the
 * product clock's "now" (so the recent windows hold data on any date), and the database-computed
 * figures (ticketStats, committeeStats, perThousandHouseholds) equal to counts taken from the
 * inserted documents. The clock is frozen at the run's "now" for the whole file (startGovernance).
 */
import { cstMonth, daysBefore, lastCompleteMonths, monthWindow, now } from '../../../lib/clock';
import { generateCity } from '../../../scripts/synthetic/city';
import { adminHeader, gql, startTestDatabase, type Engine } from '../../../test/helpers/subgraph';
import { registerModels, type CommitteeDoc, type GovCommunityDoc, type Models, type TicketDoc } from '../models';
import { DEMO, seedSynthetic, syntheticWindows } from '../seed';
import { CLOSED_STATUSES, TRANSITIONS, type TicketStatus } from '../services/lifecycle';
import { rebuildStats } from '../stats';
import { startGovernance, type GovernanceUnderTest } from './helpers';

const city = generateCity(200, 7);
/** The as-of of the generator: the product clock when the file starts (frozen there by startGovernance). */
const AS_OF = now();
let engine: Engine;
let g: GovernanceUnderTest;
let m: Models;
let written: number;

beforeAll(async () => {
  engine = await startTestDatabase();
  g = await startGovernance(engine.uri, AS_OF.toISOString());
  m = registerModels(g.conn);
  written = await seedSynthetic(g.conn, city.communities, 7);
}, 120_000);
afterAll(async () => {
  await g?.close();
  await engine?.stop();
});

const RESOLVED = new Set(['RESOLVED', 'RETURN_VISITED', 'EVALUATED']);
const RATED = new Set(['SATISFIED', 'BASICALLY_SATISFIED', 'DISSATISFIED']);
const tickets = () => m.Ticket.find({ synthetic: true }).lean<TicketDoc[]>().exec();
const fingerprint = async () =>
  (await m.Ticket.find({}, { _id: 1, status: 1, dueAt: 1, resolvedAt: 1, reopenCount: 1, firstSatisfaction: 1 }).sort({ _id: 1 }).lean()).map((t) => JSON.stringify(t));
const counts = async () =>
  Object.fromEntries(await Promise.all(Object.entries(m).map(async ([k, model]) => [k, await (model as Models['Ticket']).countDocuments({}).exec()] as const)));
/** Nearest-rank percentile, as the repository computes it. */
const nearestRank = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.max(Math.ceil(p * s.length), 1) - 1] : null;
};
/** Ticket hours come from whole-hour rollups: the nearest-rank percentile floored to the hour. */
const floorHours = (v: number | null) => (v == null ? null : Math.floor(v));

describe('governance synthetic city', () => {
  it('writes register, committees, alliances, meetings, patrols, activities and tickets for every synthetic 小区, leaving the demo rows alone', async () => {
    const c = await counts();
    expect(c.Community).toBe(city.communities.length + 4);
    const synthetic = (
      await Promise.all(
        [m.Community, m.Committee, m.Alliance, m.Meeting, m.Ticket, m.PatrolTeam, m.PatrolReport, m.Activity].map((x) =>
          (x as Models['Ticket']).countDocuments({ synthetic: true }).exec(),
        ),
      )
    ).reduce((a, b) => a + b, 0);
    expect(written).toBe(synthetic);
    expect(c.Ticket).toBeGreaterThan(1000);
    expect(c.Meeting).toBeGreaterThan(0);
    expect(c.PatrolReport).toBeGreaterThan(0);
    // Demo rows untouched.
    expect(await m.Committee.findById('cmt_yijiang_pmc').lean()).toMatchObject({ type: 'PROPERTY_MANAGEMENT_COMMITTEE', synthetic: false });
    expect((await m.Community.findById(DEMO.ruijin).lean())?.householdCount ?? null).toBeNull();
  });

  it('is deterministic and replaces its rows on a re-run (no duplicates)', async () => {
    const before = await counts();
    const fp = await fingerprint();
    const again = await seedSynthetic(g.conn, city.communities, 7);
    expect(again).toBe(written);
    expect(await counts()).toEqual(before);
    expect(await fingerprint()).toEqual(fp);
    // Another seed gives other rows.
    const other = registerModels(g.conn);
    await seedSynthetic(g.conn, city.communities, 8);
    expect(await fingerprint()).not.toEqual(fp);
    await seedSynthetic(g.conn, city.communities, 7);
    expect(await fingerprint()).toEqual(fp);
    expect(await other.Ticket.countDocuments({}).exec()).toBe(before.Ticket);
  }, 120_000);

  it('follows the documented distributions', async () => {
    const ts = await tickets();
    // Six 30-day periods, the newest ending with the as-of day (tickets later than the as-of are not written).
    const periods = syntheticWindows(AS_OF).tickets.reduce(
      (n, w) => n + (Math.min(w.end.getTime(), AS_OF.getTime()) - w.start.getTime()) / (w.end.getTime() - w.start.getTime()),
      0,
    );
    expect(periods).toBeGreaterThanOrEqual(6 - 1 / 30 - 1e-9); // at most the rest of the as-of day is missing
    const expected = city.communities.reduce((s, c) => s + periods * (0.5 + c.householdCount / 800), 0);
    expect(ts.length / expected).toBeGreaterThan(0.9);
    expect(ts.length / expected).toBeLessThan(1.1);
    const share = (code: string[]) => ts.filter((t) => code.includes(t.serviceCode)).length / ts.length;
    expect(share(['SANITATION', 'REPAIR'])).toBeCloseTo(0.3, 1);
    expect(share(['FEE'])).toBeCloseTo(0.15, 1);
    const resolved = ts.filter((t) => t.resolvedAt);
    const hours = resolved.map((t) => (t.resolvedAt!.getTime() - t.requestedAt.getTime()) / 3600_000);
    expect(nearestRank(hours, 0.5)).toBeGreaterThan(30);
    expect(nearestRank(hours, 0.5)).toBeLessThan(50);
    expect(nearestRank(hours, 0.9)).toBeGreaterThan(120);
    expect(nearestRank(hours, 0.9)).toBeLessThan(200);
    expect(resolved.filter((t) => t.reopenCount > 0).length / resolved.length).toBeCloseTo(0.08, 1);
    const rated = resolved.filter((t) => RATED.has(t.firstSatisfaction ?? ''));
    expect(rated.filter((t) => t.firstSatisfaction === 'DISSATISFIED').length / rated.length).toBeCloseTo(0.06, 1);
    // Most tickets closed, some open, some overdue.
    const open = ts.filter((t) => t.open);
    expect(open.length / ts.length).toBeGreaterThan(0.01);
    expect(open.length / ts.length).toBeLessThan(0.2);
    expect(open.some((t) => t.dueAt.getTime() < AS_OF.getTime())).toBe(true);

    const cs = await m.Committee.find({ synthetic: true, status: 'ACTIVE' }).lean<CommitteeDoc[]>().exec();
    const oc = cs.filter((x) => x.type === 'OWNERS_COMMITTEE').length / city.communities.length;
    const pmc = cs.filter((x) => x.type === 'PROPERTY_MANAGEMENT_COMMITTEE').length / city.communities.length;
    expect(oc).toBeGreaterThan(0.48);
    expect(oc).toBeLessThan(0.72);
    expect(pmc).toBeGreaterThan(0.15);
    expect(pmc).toBeLessThan(0.35);
    const alliances = await m.Alliance.countDocuments({ synthetic: true }).exec();
    expect(alliances / city.communities.length).toBeGreaterThan(0.3);
    expect(alliances / city.communities.length).toBeLessThan(0.5);
    const teams = await m.PatrolTeam.find({ synthetic: true }).lean().exec();
    expect(teams.every((t) => t.memberCount >= 8 && t.memberCount <= 15)).toBe(true);
  });

  it('walks every ticket through the transition table, up to the as-of date', async () => {
    for (const t of await tickets()) {
      const notes = t.notes;
      expect(notes[0]).toMatchObject({ type: 'CREATED', to: 'RECEIVED' });
      let status: TicketStatus = 'RECEIVED';
      let last = t.requestedAt.getTime();
      for (const n of notes.slice(1)) {
        expect(n.from).toBe(status);
        expect(TRANSITIONS[status]).toContain(n.to);
        expect(n.at.getTime()).toBeGreaterThanOrEqual(last);
        last = n.at.getTime();
        status = n.to as TicketStatus;
      }
      expect(t.status).toBe(status);
      expect(last).toBeLessThanOrEqual(AS_OF.getTime());
      expect(t.open).toBe(!CLOSED_STATUSES.has(status));
      expect(t.resolvedAt != null).toBe(RESOLVED.has(status));
      expect(t.reopenCount).toBe(notes.filter((n) => n.type === 'REOPENED').length);
      expect(t.seq).toBe(notes.length - 1);
    }
  });

  it('is dated relative to the clock: the recent windows hold data and nothing lies after the as-of', async () => {
    const after = { $gt: AS_OF };
    expect(await m.Ticket.countDocuments({ synthetic: true, requestedAt: after }).exec()).toBe(0);
    expect(await m.Meeting.countDocuments({ synthetic: true, heldAt: after }).exec()).toBe(0);
    expect(await m.PatrolReport.countDocuments({ synthetic: true, $or: [{ reportedAt: after }, { rectifiedAt: after }] }).exec()).toBe(0);
    expect(await m.Activity.countDocuments({ synthetic: true, date: after }).exec()).toBe(0);
    // The last 30 days: tickets opened and resolved (as the API counts them), patrol reports, activities.
    const monthAgo = daysBefore(AS_OF, 30);
    const res = await g.q(`{ _entities(representations: [{ __typename: "City", code: "320100" }]) { ... on City { ticketStats(range: LAST_30D) { opened resolved } } } }`);
    const s = res._entities[0].ticketStats;
    expect(s.opened).toBe(await m.Ticket.countDocuments({ cityCode: '320100', requestedAt: { $gte: monthAgo, $lte: AS_OF } }).exec());
    expect(s.opened).toBeGreaterThan(0);
    expect(s.resolved).toBeGreaterThan(0);
    expect(await m.PatrolReport.countDocuments({ synthetic: true, reportedAt: { $gte: monthAgo } }).exec()).toBeGreaterThan(0);
    expect(await m.Activity.countDocuments({ synthetic: true, date: { $gte: monthAgo } }).exec()).toBeGreaterThan(0);
    // Joint meetings in each of the last 12 complete months (CST) and none before them; the current
    // month only up to the as-of.
    const months = lastCompleteMonths(AS_OF, 12);
    const meetings = await m.Meeting.find({ synthetic: true }).lean().exec();
    for (const w of months) expect(meetings.some((x) => cstMonth(x.heldAt) === w.month)).toBe(true);
    expect(meetings.every((x) => x.heldAt.getTime() >= months[0].start.getTime())).toBe(true);
    expect(meetings.every((x) => [...months, monthWindow(AS_OF)].some((w) => w.month === cstMonth(x.heldAt)))).toBe(true);
    // Some alliances meet the 1-a-month rule over the last 3 complete months, as the API judges it.
    const alliances = await m.Alliance.find({ synthetic: true }).lean().exec();
    const judged = await g.q(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Community { id meetsCadence(perMonth: 1) } } }`, {
      r: alliances.map((a) => ({ __typename: 'Community', id: a.communityIds[0] })),
    });
    const last3 = months.slice(-3);
    for (const c of judged._entities) {
      const held = last3.map((w) => meetings.filter((x) => x.communityId === c.id && cstMonth(x.heldAt) === w.month).length);
      expect(c.meetsCadence).toBe(held.every((n) => n >= 1));
    }
    expect(judged._entities.filter((c: any) => c.meetsCadence).length).toBeGreaterThan(0);
  });

  it('ticketStats over the synthetic rows equal counts taken from the documents', async () => {
    const ts = (await tickets()).filter((t) => t.cityCode === '320100');
    const res = await g.q(`{ _entities(representations: [{ __typename: "City", code: "320100" }]) { ... on City {
      ticketStats(range: ALL) { opened resolved backlog overdue medianHoursToResolve p90HoursToResolve onTimeRate reopenRate dissatisfiedRate satisfiedRate } } } }`);
    const resolved = ts.filter((t) => t.resolvedAt);
    const rated = resolved.filter((t) => RATED.has(t.firstSatisfaction ?? ''));
    const hours = resolved.map((t) => (t.resolvedAt!.getTime() - t.requestedAt.getTime()) / 3600_000);
    const s = res._entities[0].ticketStats;
    expect(s).toMatchObject({
      opened: ts.length,
      resolved: resolved.length,
      backlog: ts.filter((t) => t.open).length,
      overdue: ts.filter((t) => t.open && t.dueAt.getTime() < AS_OF.getTime()).length,
      medianHoursToResolve: floorHours(nearestRank(hours, 0.5)),
      p90HoursToResolve: floorHours(nearestRank(hours, 0.9)),
    });
    expect(s.onTimeRate).toBeCloseTo(resolved.filter((t) => t.resolvedAt!.getTime() <= t.dueAt.getTime()).length / resolved.length, 10);
    expect(s.reopenRate).toBeCloseTo(resolved.filter((t) => t.reopenCount > 0).length / resolved.length, 10);
    expect(s.dissatisfiedRate).toBeCloseTo(rated.filter((t) => t.firstSatisfaction === 'DISSATISFIED').length / rated.length, 10);
    expect(s.satisfiedRate).toBeCloseTo(rated.filter((t) => t.firstSatisfaction !== 'DISSATISFIED').length / rated.length, 10);
  });

  it('committeeStats per district equal counts taken from the documents; ratio averages only for the city administrator', async () => {
    const communities = await m.Community.find({}).lean<GovCommunityDoc[]>().exec();
    const committees = await m.Committee.find({}).lean<CommitteeDoc[]>().exec();
    const districts = [...new Set(communities.map((c) => c.districtCode))].sort();
    const STATS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on District { code
      committeeStats { communities withOwnersCommittee withPMC none active expiredTerms disclosedLast12m avgPartyMemberRatio } } } }`;
    const vars = { r: districts.map((code) => ({ __typename: 'District', code })) };
    const res = await g.q(STATS, vars);
    const admin = (await gql(g.url, STATS, vars, await adminHeader())).data!;
    const yearAgo = daysBefore(AS_OF, 365).getTime();
    for (const row of res._entities) {
      const ids = new Set(communities.filter((c) => c.districtCode === row.code).map((c) => c._id));
      const cs = committees.filter((x) => ids.has(x.communityId));
      const has = (id: string, type: string) => cs.some((x) => x.communityId === id && x.type === type && x.status === 'ACTIVE');
      const ratios = cs.map((x) => x.partyMemberRatio).filter((v): v is number => v != null);
      const expected = {
        communities: ids.size,
        withOwnersCommittee: [...ids].filter((id) => has(id, 'OWNERS_COMMITTEE')).length,
        withPMC: [...ids].filter((id) => has(id, 'PROPERTY_MANAGEMENT_COMMITTEE')).length,
        none: [...ids].filter((id) => !has(id, 'OWNERS_COMMITTEE') && !has(id, 'PROPERTY_MANAGEMENT_COMMITTEE')).length,
        active: cs.filter((x) => x.status === 'ACTIVE').length,
        expiredTerms: cs.filter((x) => x.status === 'EXPIRED' || (x.status === 'ACTIVE' && x.termEnd && x.termEnd.getTime() < AS_OF.getTime())).length,
        disclosedLast12m: cs.filter((x) => x.lastDisclosureAt && x.lastDisclosureAt.getTime() >= yearAgo).length,
      };
      expect(row.committeeStats).toMatchObject(expected);
      const full = admin._entities.find((x: any) => x.code === row.code).committeeStats;
      if (ratios.length) expect(full.avgPartyMemberRatio).toBeCloseTo(ratios.reduce((a, b) => a + b, 0) / ratios.length, 10);
      else expect(full.avgPartyMemberRatio).toBeNull();
      // Never published to callers who may not read party membership, however many committees.
      expect(row.committeeStats.avgPartyMemberRatio).toBeNull();
    }
    expect(res._entities.length).toBeGreaterThan(5);
  });

  it('perThousandHouseholds: tickets opened per 1,000 households, computed over the register for City, District, Community, company and Query scopes', async () => {
    const communities = await m.Community.find({ synthetic: true }).lean<GovCommunityDoc[]>().exec();
    const ts = await tickets();
    const rate = (ids: Set<string>) => {
      const hh = communities.filter((c) => ids.has(c._id)).reduce((a, c) => a + (c.householdCount ?? 0), 0);
      const opened = ts.filter((t) => ids.has(t.communityId)).length;
      return { households: hh, perThousandHouseholds: Math.round((opened * 1000 * 1000) / hh) / 1000 };
    };
    const idsWhere = (f: (c: GovCommunityDoc) => boolean) => new Set(communities.filter(f).map((c) => c._id));
    const one = communities[0];
    // Company attribution: give three synthetic 小区 (and their tickets) a serving company.
    const served = communities.slice(1, 4).map((c) => c._id);
    await m.Community.updateMany({ _id: { $in: served } }, { $set: { companyUscc: 'TESTCOMPANY0000001' } }).exec();
    await m.Ticket.updateMany({ communityId: { $in: served } }, { $set: { companyUscc: 'TESTCOMPANY0000001' } }).exec();
    await rebuildStats(g.conn); // rows written behind the write path: rebuild the rollups
    const F = 'ticketStats(range: ALL) { opened perThousandHouseholds households }';
    const res = await g.q(`query($r: [_Any!]!) { _entities(representations: $r) {
      ... on City { ${F} } ... on District { ${F} } ... on Community { ${F} } ... on PropertyCompany { ${F} } }
      q: ticketStats(scope: { districtCode: "${one.districtCode}" }, range: ALL) { perThousandHouseholds households } }`, {
      r: [
        { __typename: 'City', code: '320100' },
        { __typename: 'District', code: one.districtCode },
        { __typename: 'Community', id: one._id },
        { __typename: 'PropertyCompany', uscc: 'TESTCOMPANY0000001' },
        { __typename: 'PropertyCompany', uscc: 'NOSUCHCOMPANY00001' },
      ],
    });
    const [cityRow, districtRow, communityRow, companyRow, unknownCompany] = res._entities.map((e: any) => e.ticketStats);
    expect(cityRow).toMatchObject(rate(idsWhere((c) => c.cityCode === '320100')));
    expect(districtRow).toMatchObject(rate(idsWhere((c) => c.districtCode === one.districtCode)));
    expect(res.q).toEqual(rate(idsWhere((c) => c.districtCode === one.districtCode)));
    expect(communityRow).toMatchObject(rate(new Set([one._id])));
    expect(companyRow).toMatchObject(rate(new Set(served)));
    expect(unknownCompany).toEqual({ opened: 0, perThousandHouseholds: null, households: null });
    // A 小区 without a household count (the article's 东方瑞园) is left out of the rate, not of `opened`.
    const before = (await g.q(`{ city: _entities(representations: [{ __typename: "City", code: "320700" }]) { ... on City { ${F} } } }`)).city[0].ticketStats;
    await g.q(`mutation { createServiceTicket(input: { communityId: "${DEMO.dongfang}", serviceCode: HEATING, channel: HOTLINE_12345, description: "供暖不热" }) { id } }`);
    const after = (await g.q(`{ city: _entities(representations: [{ __typename: "City", code: "320700" }]) { ... on City { ${F} } } }`)).city[0].ticketStats;
    expect(after).toEqual({ ...before, opened: before.opened + 1 });
    const demo = (await g.q(`{ c: _entities(representations: [{ __typename: "Community", id: "${DEMO.dongfang}" }]) { ... on Community { ${F} } } }`)).c[0].ticketStats;
    expect(demo).toEqual({ opened: 1, perThousandHouseholds: null, households: null });
  });

  it('patrolReportFeed pages a district’s reports newest first with filters; bad arguments name the field', async () => {
    const [top] = await m.PatrolReport.aggregate<{ _id: string; n: number }>([{ $group: { _id: '$districtCode', n: { $sum: 1 } } }, { $sort: { n: -1, _id: 1 } }]).exec();
    const all = await m.PatrolReport.find({ districtCode: top._id }).sort({ reportedAt: -1, _id: -1 }).lean().exec();
    expect(all.length).toBeGreaterThan(10);
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const res: any = await g.q(`query($a: String) { patrolReportFeed(filter: { districtCode: "${top._id}" }, first: 7, after: $a) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id status community { id } } } } }`, { a: after });
      const feed = res.patrolReportFeed;
      expect(feed.totalCount).toBe(all.length);
      seen.push(...feed.edges.map((e: any) => e.node.id));
      after = feed.pageInfo.hasNextPage ? feed.pageInfo.endCursor : null;
      pages++;
    } while (after);
    expect(seen).toEqual(all.map((r) => r._id));
    expect(pages).toBe(Math.ceil(all.length / 7));
    const open = await g.q(`{ patrolReportFeed(filter: { districtCode: "${top._id}", status: OPEN }, first: 200) { totalCount edges { node { status rectifiedAt } } } }`);
    expect(open.patrolReportFeed.totalCount).toBe(all.filter((r) => !r.rectifiedAt).length);
    expect(open.patrolReportFeed.edges.every((e: any) => e.node.status === 'OPEN' && e.node.rectifiedAt === null)).toBe(true);
    const from = daysBefore(AS_OF, 30);
    const recent = await g.q(`{ patrolReportFeed(filter: { cityCode: "${all[0].cityCode}", reportedFrom: "${from.toISOString()}" }) { totalCount } }`);
    expect(recent.patrolReportFeed.totalCount).toBe(await m.PatrolReport.countDocuments({ cityCode: all[0].cityCode, reportedAt: { $gte: from } }).exec());
    for (const [args, field] of [
      ['first: 201', 'first'],
      ['after: "not-a-cursor"', 'after'],
      ['filter: { reportedFrom: "2026-10-02T00:00:00Z", reportedTo: "2026-10-01T00:00:00Z" }', 'filter.reportedFrom'],
    ]) {
      const res = await g.raw(`{ patrolReportFeed(${args}) { totalCount } }`);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
  });

  it('resolves governance fields of a synthetic 小区 (committee, alliance compliance, patrols, tickets)', async () => {
    const team = await m.PatrolTeam.findOne({ synthetic: true }).lean().exec();
    const alliance = await m.Alliance.findOne({ synthetic: true }).lean().exec();
    const res = await g.q(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Community { id
      committee { type status } partyAlliance { requiredMeetingsPerMonth cadenceStated } jointMeetings(range: LAST_12M) { id }
      jointMeetingCompliance(months: 12) { compliantMonths months { held } hasRecords } patrolTeams { memberCount } patrolStats(range: ALL) { reports rectified }
      tickets(first: 3) { id status open311Status } ticketStats(range: ALL) { opened } } } }`, {
      r: [team!.communityId, alliance!.communityIds[0]].map((id) => ({ __typename: 'Community', id })),
    });
    const [withTeam, withAlliance] = res._entities;
    expect(withTeam.patrolTeams[0].memberCount).toBe(team!.memberCount);
    expect(withTeam.patrolStats.reports).toBe(await m.PatrolReport.countDocuments({ communityId: team!.communityId }).exec());
    expect(withTeam.ticketStats.opened).toBe(await m.Ticket.countDocuments({ communityId: team!.communityId }).exec());
    expect(withAlliance.partyAlliance).toEqual({ requiredMeetingsPerMonth: alliance!.requiredMeetingsPerMonth, cadenceStated: true });
    expect(withAlliance.jointMeetingCompliance.hasRecords).toBe(true);
    expect(withAlliance.jointMeetings.length).toBe(await m.Meeting.countDocuments({ communityId: alliance!.communityIds[0] }).exec());
  });
});
