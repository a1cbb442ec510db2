/**
 * Synthetic rows of the governance subgraph for the synthetic city (docs/domain.md, "The synthetic
 * city": governance and tickets), deterministic for a seed and an as-of instant: every 小区 draws
 * from its own stream of lib/random.ts (`streamFor(seed, id)`), so the result depends neither on N
 * nor on chunking. Everything is dated relative to the as-of, which is the product clock's `now()`
 * when the generator runs (lib/clock.ts), so "the last 3 complete months", LAST_30D and LAST_12M
 * hold data whatever the date. The periods are {@link syntheticWindows}: rolling 30-day "months"
 * aligned to China Standard Time days, the newest ending with the as-of day, and calendar months
 * (CST) for joint meetings. Events drawn for a period but falling after the as-of are not written.
 *
 * - Register: one `communities` row per 小区 (area codes, households). The serving company is not in
 *   the skeleton, so `companyUscc` stays null (company figures come from real registers only).
 * - Committees: 60% 业委会, 25% 物管会 (drawn mostly in old and 安置 小区), 15% none. 业委会 terms are
 *   5 years, 物管会 3 years [E]; ≈10% of current terms have run out without re-election (still
 *   ACTIVE, counted in `expiredTerms`); a later term keeps its predecessor as an EXPIRED row.
 *   Members carry role, affiliation and (synthetic) party status; `partyMemberRatio` derives from them.
 * - Party alliances: 40% of 小区, a rule of 1 (70%) or 2 (30%) joint meetings a month; over the last
 *   12 complete calendar months each month meets the rule with probability 0.8 (otherwise one
 *   meeting short); the current month is drawn the same way and keeps the meetings held by the as-of.
 * - Patrol teams (找茬队): 30% of old 小区, 8-15 members; 2-6 reports a month over the last 6 months
 *   (scaled down from the 0.5-2 a day of docs/domain.md, "The synthetic city"), 90% rectified with
 *   lag ~ lognormal(median 18 h, p90 72 h).
 * - Activities: 0-4 a month over the last 3 months.
 * - 12345 tickets: per 小区-month ~ Poisson(0.5 + households/800) over the last 6 months, up to the
 *   as-of (so LAST_30D always has tickets); service mix 30% SANITATION/REPAIR, 15% FEE,
 *   10% PARKING/EBIKE_CHARGING, 10% CLUTTER/WASTE, 35% other; time to (final) resolution ~ lognormal(p50 40 h, p90 7 d); 8% of resolved tickets reopened,
 *   6% of ratings 不满意. Each ticket is walked through the real transition table
 *   (`planTransition`), so statuses, notes, deadlines (5 working days, extended by 延期, restarted
 *   by 重办) and dates are exactly what the mutations would have produced; tickets whose walk is not
 *   finished by the as-of stay open (many of them overdue and 督办).
 *
 * Re-running replaces earlier synthetic rows (`synthetic: true`); the article's demo rows are left
 * alone and the article's 小区 never get synthetic rows. The statistics rollups (stats/) are rebuilt
 * at the end; the returned count is of raw rows only. Rows are built per chunk of 小区 and written
 * with `insertMany` in slices of at most 5,000 documents, so memory stays flat for 40,000 小区.
 * Personal data (committee and patrol members) is synthetic only: names from a surname × given-name
 * generator, phones in the reserved test range 1380000xxxx.
 */
import type { Connection } from 'mongoose';
import { addWorkingDays, cstDayStart, cstMonthStart, DAY_MS, HOUR_MS, lastCompleteMonths, monthWindow, now } from '../../lib/clock';
import { streamFor, type Rng } from '../../lib/random';
import { registerModels } from './models';
import { rebuildStats } from './stats/rebuild';
import { DUE_WORKING_DAYS, planTransition, type Satisfaction, type TicketStatus, type TransitionRequest } from './services/lifecycle';

/** The part of the synthetic city skeleton this subgraph uses (declared locally: no shared code). */
export interface SyntheticCommunity {
  id: string;
  cityCode: string;
  districtCode: string;
  isOld: boolean;
  householdCount: number;
  residentCount: number;
  builtYear: number;
  managementMode: string;
  streetCode?: string;
  neighborhoodCode?: string;
  housingType?: string;
  name?: string;
}

/** The article's 小区: their facts come from the article only. */
const REAL = new Set(['cm_320104_0001', 'cm_320113_0001', 'cm_320706_0001', 'cm_320706_0002']);
const CHUNK_COMMUNITIES = 500;
const INSERT_CHUNK = 5000;

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭', '何', '林', '高', '罗'];
const GIVEN = ['建国', '建华', '国强', '志刚', '文华', '德明', '永康', '秀英', '桂兰', '海林', '春华', '玉珍', '长林', '光明', '学文', '美华', '丽娟', '晓东'];
const personName = (r: Rng) => `${r.pick(SURNAMES)}${r.pick(GIVEN)}`;
const testPhone = (r: Rng) => `1380000${String(r.int(0, 9999)).padStart(4, '0')}`;

interface Period {
  start: Date;
  end: Date;
}

/** What the generator fills for an as-of instant: each list oldest first. */
export interface SyntheticWindows {
  asOf: Date;
  /** 6 rolling 30-day periods (CST days), the newest ending with the as-of day. */
  tickets: Period[];
  patrols: Period[];
  /** 3 rolling 30-day periods. */
  activities: Period[];
  /** The last 12 complete calendar months (CST) and the current one. */
  meetings: Period[];
}

/** The periods the generator fills for `asOf` (events after `asOf` are not written). */
export function syntheticWindows(asOf: Date): SyntheticWindows {
  const dayEnd = cstDayStart(asOf, 1).getTime();
  const rolling = (n: number): Period[] =>
    Array.from({ length: n }, (_, i) => ({ start: new Date(dayEnd - (n - i) * 30 * DAY_MS), end: new Date(dayEnd - (n - 1 - i) * 30 * DAY_MS) }));
  return { asOf, tickets: rolling(6), patrols: rolling(6), activities: rolling(3), meetings: [...lastCompleteMonths(asOf, 12), monthWindow(asOf, 0)] };
}

/** An instant in [start, end) at a CST hour in [h0, h1); `start` is 00:00 CST. */
const within = (r: Rng, w: Period, h0 = 0, h1 = 24) => {
  const days = Math.round((w.end.getTime() - w.start.getTime()) / DAY_MS);
  return new Date(w.start.getTime() + r.int(0, days - 1) * DAY_MS + (h0 + r.next() * (h1 - h0)) * HOUR_MS);
};

const SERVICE_MIX: readonly (readonly [string, number])[] = [
  ['SANITATION', 15], ['REPAIR', 15], ['FEE', 15], ['PARKING', 5], ['EBIKE_CHARGING', 5], ['CLUTTER', 5], ['WASTE', 5],
  ['ELEVATOR', 6], ['GREENERY', 5], ['DOG', 4], ['ILLEGAL_BUILD', 4], ['SECURITY', 4], ['HEATING', 3], ['WATER', 5], ['NOISE', 4],
];
const DESCRIPTIONS: Record<string, string> = {
  SANITATION: '小区公共区域卫生保洁不到位', REPAIR: '公共设施损坏报修后迟迟未修', FEE: '对物业费收取标准有异议', PARKING: '小区停车管理混乱',
  EBIKE_CHARGING: '电动车充电难，存在飞线充电', CLUTTER: '楼道杂物乱堆乱放', WASTE: '垃圾清运不及时', ELEVATOR: '电梯经常故障',
  GREENERY: '绿化管养不到位', DOG: '不文明养犬', ILLEGAL_BUILD: '有住户违章搭建', SECURITY: '小区门禁管理松散', HEATING: '集中供暖温度不达标',
  WATER: '二次供水水压不足', NOISE: '夜间噪音扰民',
};
const CHANNELS = [['HOTLINE_12345', 88], ['ONSITE_12345_DESK', 4], ['WECHAT', 4], ['APP', 4]] as const;
const TYPES = [['COMPLAINT', 50], ['REQUEST', 22], ['REPAIR', 12], ['CONSULT', 10], ['SUGGESTION', 6]] as const;
const RATINGS = [['SATISFIED', 74], ['BASICALLY_SATISFIED', 20], ['DISSATISFIED', 6]] as const;
const CENTRE = '12345热线中心';
const STREET_OFFICE = '街道物业办';
const PATROL_ISSUES = ['GARBAGE_PICKUP_LATE', 'GREENERY_MAINTENANCE', 'CORRIDOR_CLUTTER', 'CLUTTER', 'SANITATION', 'EV_CHARGING', 'DOG', 'WASTE_SORTING', 'FIRE_SAFETY', 'ILLEGAL_CONSTRUCTION'] as const;
const ACTIVITY_TYPES = ['CHESS', 'TABLE_TENNIS', 'READING', 'LEGAL_LECTURE', 'WASTE_SORTING_LECTURE', 'HEALTH_CLINIC', 'SKILLS_TRAINING', 'VOLUNTEER_SERVICE', 'OTHER'] as const;
const ALLIANCE_ORGS = ['STREET', 'NEIGHBORHOOD', 'PROPERTY_COMPANY', 'OWNERS_COMMITTEE', 'COMMUNITY_PARTY_BRANCH', 'POLICE', 'HOUSING_DEPT', 'SOCIAL_ORG'] as const;
const MEETING_TOPICS = ['SANITATION', 'EV_CHARGING', 'CLUTTER', 'PARKING', 'FIRE_SAFETY', 'WASTE_SORTING', 'FACILITY_RENOVATION'] as const;

type Doc = Record<string, unknown>;
interface Batch {
  communities: Doc[];
  committees: Doc[];
  alliances: Doc[];
  meetings: Doc[];
  tickets: Doc[];
  teams: Doc[];
  reports: Doc[];
  activities: Doc[];
}

/** A ticket walked through the transition table up to `asOf`. */
function ticketFor(r: Rng, c: SyntheticCommunity, id: string, requestedAt: Date, stamp: Doc, asOf: Date): Doc {
  const serviceCode = r.weighted(SERVICE_MIX);
  const type = r.weighted(TYPES);
  const t: Doc & { notes: Doc[]; status: string; dueAt: Date; requestedAt: Date; lastTransitionAt: Date; seq: number; reopenCount: number } = {
    _id: id,
    jurisdictionId: c.cityCode,
    communityId: c.id,
    cityCode: c.cityCode,
    districtCode: c.districtCode,
    companyUscc: null,
    channel: r.weighted(CHANNELS),
    type,
    serviceCode,
    description: `${DESCRIPTIONS[serviceCode]}（合成数据）`,
    status: 'RECEIVED',
    open: true,
    requestedAt,
    dueAt: addWorkingDays(requestedAt, DUE_WORKING_DAYS),
    lastTransitionAt: requestedAt,
    reopenCount: 0,
    seq: 0,
    mediaUrls: [],
    notes: [{ at: requestedAt, type: 'CREATED', to: 'RECEIVED' }],
    synthetic: true,
    ...stamp,
  };
  const move = (atMs: number, req: TransitionRequest): boolean => {
    const at = new Date(Math.max(atMs, t.lastTransitionAt.getTime() + 60_000));
    if (at.getTime() > asOf.getTime()) return false;
    const change = planTransition(t as never, req, at);
    Object.assign(t, change.set);
    const note: Doc = { at: change.note.at, type: change.note.type, from: change.note.from, to: change.note.to };
    if (change.note.text) note.text = change.note.text;
    if (change.note.actorOrg) note.actorOrg = change.note.actorOrg;
    t.notes.push(note);
    t.seq++;
    if (change.reopen) t.reopenCount++;
    return true;
  };
  const t0 = requestedAt.getTime();
  const assignee = STREET_OFFICE;
  const hours = Math.min(Math.max(r.lognormal(40, 168), 0.5), 60 * 24);
  const end = t0 + hours * HOUR_MS;
  const firstRating = r.chance(0.08) ? 'UNREACHABLE' : r.weighted(RATINGS);
  const reopened = r.chance(0.08);
  const evaluate = r.chance(0.6);
  const deferLate = r.chance(0.35);

  if (r.chance(0.01)) {
    move(t0 + r.int(1, 24) * HOUR_MS, { to: 'CANCELLED', note: '重复诉求，合并办理', actorOrg: CENTRE });
    return t;
  }
  /** One round of handling ending in RESOLVED at `resolveAt`; false when the as-of date cut it short. */
  const round = (startMs: number, resolveAt: number, allowLate: boolean): boolean => {
    const span = resolveAt - startMs;
    if (type === 'CONSULT' && t.status === 'RECEIVED') {
      if (!move(startMs + 0.4 * span, { to: 'REPLIED', actorOrg: CENTRE })) return false;
      return move(resolveAt, { to: 'RESOLVED', actorOrg: CENTRE });
    }
    if (t.status === 'RECEIVED' && !move(startMs + 0.08 * span, { to: 'DISPATCHED', assigneeOrg: assignee, actorOrg: CENTRE })) return false;
    if (!move(startMs + 0.2 * span, { to: 'IN_PROGRESS', actorOrg: assignee })) return false;
    if (allowLate && resolveAt > t.dueAt.getTime()) {
      if (deferLate) {
        if (!move(startMs + 0.3 * span, { to: 'DEFERRED', note: '需协调多方，申请延期', deferWorkingDays: r.int(5, 10), actorOrg: assignee })) return false;
      } else if (t.dueAt.getTime() < startMs + 0.85 * span) {
        if (!move(Math.max(t.dueAt.getTime() + HOUR_MS, startMs + 0.3 * span), { to: 'SUPERVISING', actorOrg: CENTRE })) return false;
      }
    }
    if (!move(startMs + 0.85 * span, { to: 'REPLIED', actorOrg: assignee })) return false;
    return move(resolveAt, { to: 'RESOLVED', actorOrg: CENTRE });
  };
  const returnVisit = (rating: string): boolean =>
    move(t.lastTransitionAt.getTime() + r.int(4, 72) * HOUR_MS, { to: 'RETURN_VISITED', satisfaction: rating as Satisfaction, actorOrg: CENTRE });

  if (reopened) {
    // First round resolved halfway; the resident is not satisfied (at the return visit when the
    // first rating is 不满意, otherwise by complaining again before it) and the ticket is 重办.
    const mid = t0 + 0.5 * (end - t0);
    if (!round(t0, mid, false)) return t;
    if (firstRating === 'DISSATISFIED' && !returnVisit('DISSATISFIED')) return t;
    const reopenAt = t.lastTransitionAt.getTime() + r.int(1, 12) * HOUR_MS;
    if (!move(reopenAt, { to: 'DISPATCHED', note: '群众反映问题未解决，重办', assigneeOrg: assignee, actorOrg: CENTRE })) return t;
    if (!round(reopenAt, Math.max(end, reopenAt + 4 * HOUR_MS), false)) return t;
    const second = firstRating === 'DISSATISFIED' ? r.weighted(RATINGS) : firstRating;
    if (!returnVisit(second)) return t;
    if (evaluate && second !== 'UNREACHABLE' && second !== 'DISSATISFIED') move(t.lastTransitionAt.getTime() + r.int(24, 120) * HOUR_MS, { to: 'EVALUATED', actorOrg: CENTRE });
    return t;
  }
  if (!round(t0, end, true)) return t;
  if (!returnVisit(firstRating)) return t;
  if (evaluate && firstRating !== 'UNREACHABLE') move(t.lastTransitionAt.getTime() + r.int(24, 120) * HOUR_MS, { to: 'EVALUATED', actorOrg: CENTRE });
  return t;
}

function rowsFor(c: SyntheticCommunity, seed: number, win: SyntheticWindows, out: Batch): void {
  const r = streamFor(seed, c.id);
  const asOf = win.asOf;
  const past = (at: Date) => at.getTime() <= asOf.getTime();
  const stamp = { createdAt: asOf, updatedAt: asOf };
  const area = { communityId: c.id, cityCode: c.cityCode, districtCode: c.districtCode };
  const label = c.name ?? c.id;
  out.communities.push({
    _id: c.id, cityCode: c.cityCode, districtCode: c.districtCode, streetCode: c.streetCode ?? null, neighborhoodCode: c.neighborhoodCode ?? null,
    companyUscc: null, householdCount: c.householdCount, coGovernanceTopics: [], intakePoints: [], source: 'synthetic', synthetic: true, ...stamp,
  });

  // ---- committee: 60% 业委会, 25% 物管会 (mostly old/安置), 15% none ----------------------------
  const oldOrResettled = c.isOld || c.housingType === 'RESETTLEMENT';
  // Shares chosen so that over the whole city ≈25% get a 物管会, most of them old or 安置 小区.
  const kind = oldOrResettled
    ? r.weighted([['OWNERS_COMMITTEE', 35], ['PROPERTY_MANAGEMENT_COMMITTEE', 55], ['NONE', 10]] as const)
    : r.weighted([['OWNERS_COMMITTEE', 68], ['PROPERTY_MANAGEMENT_COMMITTEE', 15], ['NONE', 17]] as const);
  if (kind !== 'NONE') {
    const pmc = kind === 'PROPERTY_MANAGEMENT_COMMITTEE';
    const termYears = pmc ? 3 : 5;
    const overdue = r.chance(0.1);
    // Term start: within the current term, or (overdue) more than a full term ago.
    const startMs = asOf.getTime() - (overdue ? termYears * 365 + r.int(30, 400) : r.int(30, termYears * 365 - 30)) * DAY_MS;
    // Terms run from the first of a month (CST) for whole years.
    const termStart = cstMonthStart(new Date(startMs));
    const termEnd = cstMonthStart(termStart, termYears * 12);
    const termNo = r.int(1, 3);
    const size = pmc ? r.int(5, 9) : r.weighted([[5, 40], [7, 40], [9, 20]] as const);
    const partyShare = pmc ? 0.55 : 0.3;
    const members = Array.from({ length: size }, (_, i) => ({
      name: personName(r),
      phone: testPhone(r),
      idCardHash: null,
      role: i === 0 ? 'DIRECTOR' : i === 1 ? 'DEPUTY_DIRECTOR' : i === 2 && size >= 7 ? 'SECRETARY' : 'MEMBER',
      affiliation: pmc ? (i === 0 ? 'COMMUNITY_CADRE' : i === 1 ? 'COMMUNITY_POLICE' : r.weighted([['OWNER', 60], ['PROPERTY_STAFF', 20], ['STREET_STAFF', 20]] as const)) : 'OWNER',
      isPartyMember: r.chance(partyShare),
      termStart,
      termEnd,
    }));
    const disclosure = r.chance(0.75)
      ? new Date(asOf.getTime() - r.int(1, 360) * DAY_MS)
      : r.chance(0.6)
        ? new Date(asOf.getTime() - r.int(370, 900) * DAY_MS)
        : null;
    const meetingDates = Array.from({ length: r.int(2, 8) }, () => new Date(asOf.getTime() - r.int(1, 540) * DAY_MS)).sort((a, b) => b.getTime() - a.getTime());
    const type = pmc ? 'PROPERTY_MANAGEMENT_COMMITTEE' : 'OWNERS_COMMITTEE';
    out.committees.push({
      _id: `cmt_${c.id}_t${termNo}`, ...area, type, termNo, termStart, termEnd, status: 'ACTIVE', lastDisclosureAt: disclosure,
      partyMemberRatio: Math.round((members.filter((m) => m.isPartyMember).length / size) * 1000) / 1000,
      meetingDates, members, source: 'synthetic', synthetic: true, ...stamp,
    });
    if (termNo > 1) {
      const prevEnd = termStart;
      const prevStart = cstMonthStart(prevEnd, -termYears * 12);
      out.committees.push({
        _id: `cmt_${c.id}_t${termNo - 1}`, ...area, type, termNo: termNo - 1, termStart: prevStart, termEnd: prevEnd, status: 'EXPIRED',
        lastDisclosureAt: null, partyMemberRatio: null, meetingDates: [], members: [], source: 'synthetic', synthetic: true, ...stamp,
      });
    }
  }

  // ---- party alliance (40%) and its joint meetings ---------------------------------------------
  if (r.chance(0.4)) {
    const allianceId = `al_${c.id}`;
    const perMonth = r.chance(0.7) ? 1 : 2;
    const orgs = ALLIANCE_ORGS.filter((o) => o === 'STREET' || o === 'NEIGHBORHOOD' || o === 'PROPERTY_COMPANY' || r.chance(0.5));
    out.alliances.push({
      _id: allianceId, model: r.chance(0.7) ? 'RED_PROPERTY' : 'JOINT_BUILDING', communityIds: [c.id], cityCodes: [c.cityCode], districtCodes: [c.districtCode],
      members: orgs.map((orgType) => ({ orgType, orgName: null, note: null })),
      establishedAt: new Date(win.meetings[0].start.getTime() - r.int(30, 1000) * DAY_MS), requiredMeetingsPerMonth: perMonth,
      source: 'synthetic', synthetic: true, ...stamp,
    });
    let n = 0;
    for (const month of win.meetings) {
      const held = r.chance(0.8) ? perMonth : perMonth - 1;
      for (let i = 0; i < held; i++) {
        const heldAt = within(r, month, 9, 17);
        const participantOrgTypes = orgs.filter(() => r.chance(0.8));
        const topics = [r.pick(MEETING_TOPICS)];
        // The current month keeps only the meetings held by the as-of.
        if (!past(heldAt)) continue;
        out.meetings.push({
          _id: `jm_${c.id}_${++n}`, ...area, allianceId, heldAt, participantOrgTypes, topics, resolutions: [], followUpTicketIds: [], synthetic: true, ...stamp,
        });
      }
    }
  }

  // ---- patrol team (30% of old 小区) and its reports -------------------------------------------
  if (c.isOld && r.chance(0.3)) {
    const teamId = `pt_${c.id}`;
    const size = r.int(8, 15);
    out.teams.push({
      _id: teamId, communityId: c.id, name: `${label}找茬队`, memberCount: size,
      composition: ['VETERAN_PARTY_MEMBER', 'RETIRED_CADRE', 'VOLUNTEER', 'BUILDING_LEADER'].filter((x, i) => i === 0 || r.chance(0.5)),
      practice: '每天在小区巡护，发现问题拍照发给物业并督促整改',
      members: Array.from({ length: size }, () => ({ name: personName(r), phone: testPhone(r) })), source: 'synthetic', synthetic: true, ...stamp,
    });
    let n = 0;
    for (const month of win.patrols) {
      const k = r.int(2, 6);
      for (let i = 0; i < k; i++) {
        const reportedAt = within(r, month, 7, 19);
        const lag = Math.min(Math.max(r.lognormal(18, 72), 0.5), 30 * 24);
        const fixedAt = new Date(reportedAt.getTime() + lag * HOUR_MS);
        const rectifiedAt = r.chance(0.9) && past(fixedAt) ? fixedAt : null;
        const issueType = r.pick(PATROL_ISSUES);
        const reporter = r.int(1, size);
        if (!past(reportedAt)) continue; // later today than the as-of
        const no = ++n;
        out.reports.push({
          _id: `pr_${c.id}_${no}`, teamId, ...area, issueType, description: null,
          photos: [`https://img.example.invalid/patrol/${c.id}/${no}.jpg`], reportedAt, companyUscc: null,
          // No serving company in the skeleton, so nothing is forwarded (as recordPatrolReport does).
          forwardedAt: null, rectifiedAt,
          rectificationPhotos: rectifiedAt ? [`https://img.example.invalid/patrol/${c.id}/${no}-done.jpg`] : [],
          rectificationNote: null, linkedTicketId: null, reporterRef: `${teamId}#${reporter}`, synthetic: true, ...stamp,
        });
      }
    }
  }

  // ---- activities: 0-4 a month ------------------------------------------------------------------
  let a = 0;
  for (const month of win.activities) {
    const k = r.int(0, 4);
    for (let i = 0; i < k; i++) {
      const type = r.pick(ACTIVITY_TYPES);
      const date = within(r, month, 9, 20);
      const participantCount = r.int(8, 80);
      if (!past(date)) continue;
      out.activities.push({
        _id: `act_${c.id}_${++a}`, communityId: c.id, type, organizers: ['社区居委会'], date, participantCount, source: 'synthetic', synthetic: true, ...stamp,
      });
    }
  }

  // ---- 12345 tickets: Poisson(0.5 + households/800) per month --------------------------------
  const lambda = 0.5 + c.householdCount / 800;
  let tn = 0;
  for (const month of win.tickets) {
    const k = r.poisson(lambda);
    const times = Array.from({ length: k }, () => within(r, month, 8, 22))
      .filter(past)
      .sort((x, y) => x.getTime() - y.getTime());
    for (const at of times) out.tickets.push(ticketFor(r, c, `tk_${c.id}_${++tn}`, at, stamp, asOf));
  }
}

async function insertChunks(model: { insertMany: (docs: never[], opts: object) => Promise<unknown> }, docs: Doc[]): Promise<number> {
  for (let i = 0; i < docs.length; i += INSERT_CHUNK) await model.insertMany(docs.slice(i, i + INSERT_CHUNK) as never[], { ordered: false, lean: true });
  return docs.length;
}

/**
 * Writes governance's synthetic rows for the 小区 of the synthetic city, dated relative to `asOf`
 * (default: the product clock's `now()` when it runs); returns the number of documents written.
 * Deterministic for (communities, seed, asOf); earlier synthetic rows are replaced.
 */
export async function seedSynthetic(conn: Connection, communities: SyntheticCommunity[], seed: number, asOf: Date = now()): Promise<number> {
  const win = syntheticWindows(asOf);
  const m = registerModels(conn);
  const synthetic = { synthetic: true };
  await Promise.all([
    m.Community.deleteMany(synthetic).exec(),
    m.Committee.deleteMany(synthetic).exec(),
    m.Alliance.deleteMany(synthetic).exec(),
    m.Meeting.deleteMany(synthetic).exec(),
    m.Ticket.deleteMany(synthetic).exec(),
    m.PatrolTeam.deleteMany(synthetic).exec(),
    m.PatrolReport.deleteMany(synthetic).exec(),
    m.Activity.deleteMany(synthetic).exec(),
  ]);
  let written = 0;
  for (let start = 0; start < communities.length; start += CHUNK_COMMUNITIES) {
    const out: Batch = { communities: [], committees: [], alliances: [], meetings: [], tickets: [], teams: [], reports: [], activities: [] };
    for (const c of communities.slice(start, start + CHUNK_COMMUNITIES)) if (!REAL.has(c.id)) rowsFor(c, seed, win, out);
    written += await insertChunks(m.Community, out.communities);
    written += await insertChunks(m.Committee, out.committees);
    written += await insertChunks(m.Alliance, out.alliances);
    written += await insertChunks(m.Meeting, out.meetings);
    written += await insertChunks(m.PatrolTeam, out.teams);
    written += await insertChunks(m.PatrolReport, out.reports);
    written += await insertChunks(m.Activity, out.activities);
    written += await insertChunks(m.Ticket, out.tickets);
  }
  // The rows were written behind the write path: the statistics rollups are rebuilt from them.
  await rebuildStats(conn);
  return written;
}
