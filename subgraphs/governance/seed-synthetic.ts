/**
 * Synthetic rows of the governance subgraph for the synthetic city (DOMAIN.md §5.3 “Governance” and
 * “Tickets”), deterministic for a seed: every 小区 draws from its own PRNG stream (seed × id), so the
 * result depends neither on N nor on chunking. Everything is “as of” {@link SYNTHETIC_AS_OF}
 * (end of 2026-10-31, China Standard Time), so runs are reproducible whatever day they happen.
 *
 * - Register: one `communities` row per 小区 (area codes, households). The serving company is not in
 *   the skeleton, so `companyUscc` stays null (company figures come from real registers only).
 * - Committees: 60% 业委会, 25% 物管会 (drawn mostly in old and 安置 小区), 15% none. 业委会 terms are
 *   5 years, 物管会 3 years [E]; ≈10% of current terms have run out without re-election (still
 *   ACTIVE, counted in `expiredTerms`); a later term keeps its predecessor as an EXPIRED row.
 *   Members carry role, affiliation and (synthetic) party status; `partyMemberRatio` derives from them.
 * - Party alliances: 40% of 小区, a rule of 1 (70%) or 2 (30%) joint meetings a month; over the last
 *   12 complete months each month meets the rule with probability 0.8 (otherwise one meeting short).
 * - Patrol teams (找茬队): 30% of old 小区, 8-15 members; 2-6 reports a month over the last 6 months
 *   (scaled down from §5.3's 0.5-2 a day), 90% rectified with lag ~ lognormal(median 18 h, p90 72 h).
 * - Activities: 0-4 a month over the last 3 months.
 * - 12345 tickets: per 小区-month ~ Poisson(0.5 + households/800) over the last 6 months; service
 *   mix 30% SANITATION/REPAIR, 15% FEE, 10% PARKING/EBIKE_CHARGING, 10% CLUTTER/WASTE, 35% other;
 *   time to (final) resolution ~ lognormal(p50 40 h, p90 7 d); 8% of resolved tickets reopened,
 *   6% of ratings 不满意. Each ticket is walked through the real transition table
 *   (`planTransition`), so statuses, notes, deadlines (5 working days, extended by 延期, restarted
 *   by 重办) and dates are exactly what the mutations would have produced; tickets whose walk is not
 *   finished by the as-of date stay open (many of them overdue and 督办).
 *
 * Re-running replaces earlier synthetic rows (`synthetic: true`); the article's demo rows are left
 * alone and the article's 小区 never get synthetic rows. Rows are built per chunk of 小区 and written
 * with `insertMany` in slices of at most 5,000 documents, so memory stays flat for 40,000 小区.
 * Personal data (committee and patrol members) is synthetic only: names from a surname × given-name
 * generator, phones in the reserved test range 1380000xxxx.
 */
import type { Connection } from 'mongoose';
import { registerModels } from './models';
import { DUE_WORKING_DAYS, planTransition, type Satisfaction, type TicketStatus, type TransitionRequest } from './services/lifecycle';
import { addWorkingDays, CST_OFFSET_MS } from './services/time';

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

/** End of 2026-10-31 in China Standard Time. */
export const SYNTHETIC_AS_OF = new Date('2026-10-31T16:00:00Z');
/** The article's 小区: their facts come from the article only. */
const REAL = new Set(['cm_320104_0001', 'cm_320113_0001', 'cm_320706_0001', 'cm_320706_0002']);
const CHUNK_COMMUNITIES = 500;
const INSERT_CHUNK = 5000;
const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** mulberry32, local to this subgraph, with the draws the generator needs. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (a: number, b: number) => a + Math.floor(next() * (b - a + 1));
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)];
  const weighted = <T>(table: readonly (readonly [T, number])[]): T => {
    let r = next() * table.reduce((acc, [, w]) => acc + w, 0);
    for (const [v, w] of table) if ((r -= w) < 0) return v;
    return table[table.length - 1][0];
  };
  const normal = () => Math.sqrt(-2 * Math.log(Math.max(next(), 1e-12))) * Math.cos(2 * Math.PI * next());
  /** Lognormal with the given median and 90th percentile. */
  const lognormal = (median: number, p90: number) => median * Math.exp((Math.log(p90 / median) / 1.2815515655) * normal());
  const poisson = (lambda: number) => {
    if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal()));
    const l = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= next();
    } while (p > l);
    return k - 1;
  };
  return { next, int, pick, weighted, normal, lognormal, poisson, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof rng>;

/** FNV-1a of a string, mixed with the seed: each 小区 gets its own stream. */
function streamSeed(seed: number, id: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭', '何', '林', '高', '罗'];
const GIVEN = ['建国', '建华', '国强', '志刚', '文华', '德明', '永康', '秀英', '桂兰', '海林', '春华', '玉珍', '长林', '光明', '学文', '美华', '丽娟', '晓东'];
const personName = (r: Rng) => `${r.pick(SURNAMES)}${r.pick(GIVEN)}`;
const testPhone = (r: Rng) => `1380000${String(r.int(0, 9999)).padStart(4, '0')}`;

/** Start (UTC instant) of the CST calendar month `monthsBack` months before the as-of month. */
function cstMonthStart(monthsBack: number): Date {
  const asOfCst = new Date(SYNTHETIC_AS_OF.getTime() - 1 + CST_OFFSET_MS);
  return new Date(Date.UTC(asOfCst.getUTCFullYear(), asOfCst.getUTCMonth() - monthsBack, 1) - CST_OFFSET_MS);
}
/** [start, end) of the last `n` complete CST months up to the as-of date, oldest first. */
function lastMonths(n: number): { start: Date; end: Date }[] {
  const out: { start: Date; end: Date }[] = [];
  for (let i = n - 1; i >= 0; i--) out.push({ start: cstMonthStart(i), end: cstMonthStart(i - 1) });
  return out;
}
const TICKET_MONTHS = lastMonths(6);
const MEETING_MONTHS = lastMonths(12);
const PATROL_MONTHS = lastMonths(6);
const ACTIVITY_MONTHS = lastMonths(3);
/** An instant in [start, end) at a CST hour in [h0, h1). */
const within = (r: Rng, w: { start: Date; end: Date }, h0 = 0, h1 = 24) => {
  const days = Math.round((w.end.getTime() - w.start.getTime()) / DAY);
  return new Date(w.start.getTime() + r.int(0, days - 1) * DAY + (h0 + r.next() * (h1 - h0)) * HOUR);
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

/** A ticket walked through the transition table up to the as-of date. */
function ticketFor(r: Rng, c: SyntheticCommunity, id: string, requestedAt: Date, stamp: Doc): Doc {
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
    if (at.getTime() > SYNTHETIC_AS_OF.getTime()) return false;
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
  const end = t0 + hours * HOUR;
  const firstRating = r.chance(0.08) ? 'UNREACHABLE' : r.weighted(RATINGS);
  const reopened = r.chance(0.08);
  const evaluate = r.chance(0.6);
  const deferLate = r.chance(0.35);

  if (r.chance(0.01)) {
    move(t0 + r.int(1, 24) * HOUR, { to: 'CANCELLED', note: '重复诉求，合并办理', actorOrg: CENTRE });
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
        if (!move(Math.max(t.dueAt.getTime() + HOUR, startMs + 0.3 * span), { to: 'SUPERVISING', actorOrg: CENTRE })) return false;
      }
    }
    if (!move(startMs + 0.85 * span, { to: 'REPLIED', actorOrg: assignee })) return false;
    return move(resolveAt, { to: 'RESOLVED', actorOrg: CENTRE });
  };
  const returnVisit = (rating: string): boolean =>
    move(t.lastTransitionAt.getTime() + r.int(4, 72) * HOUR, { to: 'RETURN_VISITED', satisfaction: rating as Satisfaction, actorOrg: CENTRE });

  if (reopened) {
    // First round resolved halfway; the resident is not satisfied (at the return visit when the
    // first rating is 不满意, otherwise by complaining again before it) and the ticket is 重办.
    const mid = t0 + 0.5 * (end - t0);
    if (!round(t0, mid, false)) return t;
    if (firstRating === 'DISSATISFIED' && !returnVisit('DISSATISFIED')) return t;
    const reopenAt = t.lastTransitionAt.getTime() + r.int(1, 12) * HOUR;
    if (!move(reopenAt, { to: 'DISPATCHED', note: '群众反映问题未解决，重办', assigneeOrg: assignee, actorOrg: CENTRE })) return t;
    if (!round(reopenAt, Math.max(end, reopenAt + 4 * HOUR), false)) return t;
    const second = firstRating === 'DISSATISFIED' ? r.weighted(RATINGS) : firstRating;
    if (!returnVisit(second)) return t;
    if (evaluate && second !== 'UNREACHABLE' && second !== 'DISSATISFIED') move(t.lastTransitionAt.getTime() + r.int(24, 120) * HOUR, { to: 'EVALUATED', actorOrg: CENTRE });
    return t;
  }
  if (!round(t0, end, true)) return t;
  if (!returnVisit(firstRating)) return t;
  if (evaluate && firstRating !== 'UNREACHABLE') move(t.lastTransitionAt.getTime() + r.int(24, 120) * HOUR, { to: 'EVALUATED', actorOrg: CENTRE });
  return t;
}

function rowsFor(c: SyntheticCommunity, seed: number, out: Batch): void {
  const r = rng(streamSeed(seed, c.id));
  const stamp = { createdAt: SYNTHETIC_AS_OF, updatedAt: SYNTHETIC_AS_OF };
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
    const startMs = SYNTHETIC_AS_OF.getTime() - (overdue ? termYears * 365 + r.int(30, 400) : r.int(30, termYears * 365 - 30)) * DAY;
    const termStart = new Date(Date.UTC(new Date(startMs).getUTCFullYear(), new Date(startMs).getUTCMonth(), 1) - CST_OFFSET_MS);
    const termEnd = new Date(Date.UTC(termStart.getUTCFullYear() + termYears, termStart.getUTCMonth(), 1) - CST_OFFSET_MS);
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
      ? new Date(SYNTHETIC_AS_OF.getTime() - r.int(1, 360) * DAY)
      : r.chance(0.6)
        ? new Date(SYNTHETIC_AS_OF.getTime() - r.int(370, 900) * DAY)
        : null;
    const meetingDates = Array.from({ length: r.int(2, 8) }, () => new Date(SYNTHETIC_AS_OF.getTime() - r.int(1, 540) * DAY)).sort((a, b) => b.getTime() - a.getTime());
    const type = pmc ? 'PROPERTY_MANAGEMENT_COMMITTEE' : 'OWNERS_COMMITTEE';
    out.committees.push({
      _id: `cmt_${c.id}_t${termNo}`, ...area, type, termNo, termStart, termEnd, status: 'ACTIVE', lastDisclosureAt: disclosure,
      partyMemberRatio: Math.round((members.filter((m) => m.isPartyMember).length / size) * 1000) / 1000,
      meetingDates, members, source: 'synthetic', synthetic: true, ...stamp,
    });
    if (termNo > 1) {
      const prevEnd = termStart;
      const prevStart = new Date(Date.UTC(prevEnd.getUTCFullYear() - termYears, prevEnd.getUTCMonth(), 1) - CST_OFFSET_MS);
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
      establishedAt: new Date(MEETING_MONTHS[0].start.getTime() - r.int(30, 1000) * DAY), requiredMeetingsPerMonth: perMonth,
      source: 'synthetic', synthetic: true, ...stamp,
    });
    let n = 0;
    for (const month of MEETING_MONTHS) {
      const held = r.chance(0.8) ? perMonth : perMonth - 1;
      for (let i = 0; i < held; i++) {
        out.meetings.push({
          _id: `jm_${c.id}_${++n}`, ...area, allianceId, heldAt: within(r, month, 9, 17), participantOrgTypes: orgs.filter(() => r.chance(0.8)),
          topics: [r.pick(MEETING_TOPICS)], resolutions: [], followUpTicketIds: [], synthetic: true, ...stamp,
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
    for (const month of PATROL_MONTHS) {
      const k = r.int(2, 6);
      for (let i = 0; i < k; i++) {
        const reportedAt = within(r, month, 7, 19);
        const lag = Math.min(Math.max(r.lognormal(18, 72), 0.5), 30 * 24);
        const rectifiedAt = r.chance(0.9) && reportedAt.getTime() + lag * HOUR <= SYNTHETIC_AS_OF.getTime() ? new Date(reportedAt.getTime() + lag * HOUR) : null;
        const no = ++n;
        out.reports.push({
          _id: `pr_${c.id}_${no}`, teamId, ...area, issueType: r.pick(PATROL_ISSUES), description: null,
          photos: [`https://img.example.invalid/patrol/${c.id}/${no}.jpg`], reportedAt, companyUscc: null,
          // No serving company in the skeleton, so nothing is forwarded (as recordPatrolReport does).
          forwardedAt: null, rectifiedAt,
          rectificationPhotos: rectifiedAt ? [`https://img.example.invalid/patrol/${c.id}/${no}-done.jpg`] : [],
          rectificationNote: null, linkedTicketId: null, reporterRef: `${teamId}#${r.int(1, size)}`, synthetic: true, ...stamp,
        });
      }
    }
  }

  // ---- activities: 0-4 a month ------------------------------------------------------------------
  let a = 0;
  for (const month of ACTIVITY_MONTHS) {
    const k = r.int(0, 4);
    for (let i = 0; i < k; i++) {
      out.activities.push({
        _id: `act_${c.id}_${++a}`, communityId: c.id, type: r.pick(ACTIVITY_TYPES), organizers: ['社区居委会'], date: within(r, month, 9, 20),
        participantCount: r.int(8, 80), source: 'synthetic', synthetic: true, ...stamp,
      });
    }
  }

  // ---- 12345 tickets: Poisson(0.5 + households/800) per month --------------------------------
  const lambda = 0.5 + c.householdCount / 800;
  let tn = 0;
  for (const month of TICKET_MONTHS) {
    const k = r.poisson(lambda);
    const times = Array.from({ length: k }, () => within(r, month, 8, 22)).sort((x, y) => x.getTime() - y.getTime());
    for (const at of times) out.tickets.push(ticketFor(r, c, `tk_${c.id}_${++tn}`, at, stamp));
  }
}

async function insertChunks(model: { insertMany: (docs: never[], opts: object) => Promise<unknown> }, docs: Doc[]): Promise<number> {
  for (let i = 0; i < docs.length; i += INSERT_CHUNK) await model.insertMany(docs.slice(i, i + INSERT_CHUNK) as never[], { ordered: false, lean: true });
  return docs.length;
}

/**
 * Writes governance's synthetic rows for the 小区 of the synthetic city; returns the number of
 * documents written. Deterministic for (communities, seed); earlier synthetic rows are replaced.
 */
export async function seedSynthetic(conn: Connection, communities: SyntheticCommunity[], seed: number): Promise<number> {
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
    for (const c of communities.slice(start, start + CHUNK_COMMUNITIES)) if (!REAL.has(c.id)) rowsFor(c, seed, out);
    written += await insertChunks(m.Community, out.communities);
    written += await insertChunks(m.Committee, out.committees);
    written += await insertChunks(m.Alliance, out.alliances);
    written += await insertChunks(m.Meeting, out.meetings);
    written += await insertChunks(m.PatrolTeam, out.teams);
    written += await insertChunks(m.PatrolReport, out.reports);
    written += await insertChunks(m.Activity, out.activities);
    written += await insertChunks(m.Ticket, out.tickets);
  }
  return written;
}
