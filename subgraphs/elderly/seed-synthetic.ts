/**
 * Synthetic rows of the elderly subgraph for the synthetic city (docs/domain.md, "The synthetic
 * city"), deterministic for a seed and an as-of date: the 小区 references, a sample of the register
 * (老年人台账) with living arrangements, difficulty flags, derived tiers and visit plans, the visits
 * behind those plans (latest contact and holiday visits), one care team per 小区 with a register,
 * meal programmes (20% of old 小区, each serving 1-4) and nearby service providers. Every 小区 draws
 * from its own stream of lib/random.ts (`streamFor(seed, id)`), so the rows depend neither on N nor
 * on chunking.
 *
 * Scale: the synthetic-city distributions imply ~300 people aged 60+ per 小区, i.e. 12 million
 * register rows for 40,000 小区, which no single machine seeds in reasonable time. The synthetic
 * register therefore holds a fixed share of them (`registerShare`, default 2%): counts are that share
 * of the real-scale figure, while every rate and proportion (tiers, visit coverage, overdue share) is
 * unaffected.
 *
 * PII is synthetic only: names from a surname × given-name generator, phones in the reserved test
 * range 1380000xxxx, `idCardHash` a hash of a synthetic string (no ID number exists). Dates are
 * relative to `asOf` (default: 00:00 China Standard Time of the current day by the product clock,
 * lib/clock.ts), so the visit plan, "visited in the last 30 days", overdue visits and the holiday
 * visits of the last 12 months are current whenever the city is seeded. Re-running replaces earlier
 * synthetic rows (`synthetic: true`); the article's demo rows are left alone. The statistics rollups
 * (stats/) are rebuilt at the end; the returned count is of raw rows only.
 */
import { createHash } from 'node:crypto';
import type { Connection } from 'mongoose';
import { CST_OFFSET_MS, cstDate, cstDayStart, cstYear, DAY_MS, HOUR_MS, now, rangeStart } from '../../lib/clock';
import { streamFor, type Rng } from '../../lib/random';
import { registerModels } from './models';
import { rebuildStats } from './stats/rebuild';
import { ageBandOf, deriveRiskTier, isMajorEvent, nextVisitDue, VISIT_INTERVAL_DAYS, type AgeBand, type RiskTier } from './services/risk';

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
  name?: string;
  /** WGS84 location of the 小区 (the synthetic city places it in its city); none: no location. */
  lat?: number;
  lng?: number;
}

/** GeoJSON point `metres` from (lng, lat) towards `bearing` (radians from north), on MongoDB's sphere. */
function offsetPoint(lng: number, lat: number, metres: number, bearing: number) {
  const d = metres / 6378100;
  const dLat = d * Math.cos(bearing) * (180 / Math.PI);
  const dLng = (d * Math.sin(bearing) * (180 / Math.PI)) / Math.cos((lat * Math.PI) / 180);
  return { type: 'Point', coordinates: [+(lng + dLng).toFixed(6), +(lat + dLat).toFixed(6)] };
}

export interface SyntheticOptions {
  /** Share of the 60+ population written to the register (0-1]; default 0.02. */
  registerShare?: number;
  /** Reference date of the visit plans; default: 00:00 CST of the current day by the product clock. */
  asOf?: Date;
}

const CHUNK_COMMUNITIES = 500;
const INSERT_CHUNK = 5000;

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭', '何', '林', '高', '罗', '郑', '梁', '谢', '宋', '唐', '许', '韩', '冯', '邓', '曹'];
const GIVEN = ['秀英', '桂英', '玉兰', '秀兰', '凤英', '淑珍', '建国', '建华', '国强', '志刚', '文华', '德明', '永康', '金凤', '秀珍', '福生', '海林', '春华', '玉珍', '长林', '素琴', '光明', '学文', '美华'];
const RELATIONS = ['子女', '配偶', '亲属', '邻居'];
const name = (r: Rng) => `${r.pick(SURNAMES)}${r.pick(GIVEN)}`;
const testPhone = (r: Rng) => `1380000${String(r.int(0, 9999)).padStart(4, '0')}`;

/**
 * The festivals with visit bursts (春节, 中秋, 重阳: 1/1, 8/15 and 9/9 of the Chinese lunisolar
 * calendar) of a Gregorian year, at 10:00 China Standard Time, from the runtime's ICU Chinese
 * calendar. ICU computes the calendar astronomically, so a festival whose new moon falls within
 * minutes of midnight may land a day off the published calendar (春节 2027: ICU 02-07, published
 * 02-06); for synthetic visits that is immaterial. A runtime without the Chinese calendar gets three
 * fixed dates of the same months instead.
 */
function festivals(year: number): Date[] {
  let list = FESTIVALS.get(year);
  if (list) return list;
  const at10 = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d) - CST_OFFSET_MS + 10 * HOUR_MS);
  const lunar = new Intl.DateTimeFormat('en-u-ca-chinese', { timeZone: 'Asia/Shanghai', month: 'numeric', day: 'numeric' });
  if (lunar.resolvedOptions().calendar !== 'chinese') {
    list = [at10(year, 2, 1), at10(year, 9, 20), at10(year, 10, 15)];
  } else {
    list = [];
    for (let day = at10(year, 1, 1); cstYear(day) === year; day = new Date(day.getTime() + DAY_MS)) {
      const parts = lunar.formatToParts(day);
      const md = `${parts.find((p) => p.type === 'month')?.value}/${parts.find((p) => p.type === 'day')?.value}`;
      if (md === '1/1' || md === '8/15' || md === '9/9') list.push(day);
    }
  }
  FESTIVALS.set(year, list);
  return list;
}
const FESTIVALS = new Map<number, Date[]>();

/** The festivals in the 12 months (365 days) before `asOf`, oldest first. */
function holidaysBefore(asOf: Date): Date[] {
  const since = rangeStart('LAST_12M', asOf)!;
  const year = cstYear(asOf);
  return [...festivals(year - 1), ...festivals(year)].filter((h) => h >= since && h < asOf);
}

const MODES = [['IN_PERSON', 55], ['PHONE_VIDEO', 25], ['PARTY_VOLUNTEER_PAIRING', 8], ['NEIGHBOR_MUTUAL_AID', 6], ['THIRD_PARTY', 4], ['SMART_ALERT', 1], ['HOTLINE_EMERGENCY', 1]] as const;
const AGE_BANDS: readonly (readonly [AgeBand, number])[] = [['AGE_60_69', 55], ['AGE_70_79', 33], ['AGE_80_89', 10], ['AGE_90_PLUS', 2]];
const AGE_RANGE: Record<AgeBand, [number, number]> = { AGE_60_69: [60, 69], AGE_70_79: [70, 79], AGE_80_89: [80, 89], AGE_90_PLUS: [90, 99] };

function difficultyFlags(r: Rng, band: AgeBand): string[] {
  const f: string[] = [];
  const disability = r.next();
  if (disability < 0.05) f.push('DISABLED');
  else if (disability < 0.15) f.push('SEMI_DISABLED');
  if (r.chance(0.02)) f.push('DEMENTIA');
  if (r.chance(0.01)) f.push('SEVERE_DISABILITY');
  if (r.chance(0.03)) f.push('LOW_INCOME_SUBSISTENCE');
  if (r.chance(0.005)) f.push('EXTREME_POVERTY');
  if (r.chance(0.005)) f.push('FAMILY_PLANNING_SPECIAL');
  if (r.chance(0.03)) f.push('CHRONIC_HIGH_RISK');
  if (band === 'AGE_80_89' || band === 'AGE_90_PLUS') f.push('ADVANCED_AGE');
  return f;
}

async function insertChunks(coll: { insertMany: (docs: never[], opts: object) => Promise<unknown> }, docs: object[]): Promise<number> {
  for (let i = 0; i < docs.length; i += INSERT_CHUNK) await coll.insertMany(docs.slice(i, i + INSERT_CHUNK) as never[], { ordered: false });
  return docs.length;
}

export async function seedSynthetic(conn: Connection, communities: SyntheticCommunity[], seed: number, opts: SyntheticOptions = {}): Promise<number> {
  const share = opts.registerShare ?? 0.02;
  if (!(share > 0 && share <= 1)) throw new Error(`registerShare: expected a share in (0, 1], got ${share}`);
  const asOf = opts.asOf ?? cstDayStart(now());
  const holidays = holidaysBefore(asOf);
  const m = registerModels(conn);
  const synthetic = { synthetic: true };
  await Promise.all([
    m.CommunityRef.deleteMany(synthetic),
    m.Resident.deleteMany(synthetic),
    m.HomeVisit.deleteMany(synthetic),
    m.CareTeam.deleteMany(synthetic),
    m.MealProgram.deleteMany(synthetic),
    m.ServiceProvider.deleteMany(synthetic),
  ]);
  const stamp = { createdAt: asOf, updatedAt: asOf };
  let written = 0;

  for (let start = 0; start < communities.length; start += CHUNK_COMMUNITIES) {
    const chunk = communities.slice(start, start + CHUNK_COMMUNITIES);
    const refs: object[] = [];
    const residents: object[] = [];
    const visits: object[] = [];
    const teams: object[] = [];
    const meals: object[] = [];
    const providers: object[] = [];

    chunk.forEach((c, idx) => {
      const r = streamFor(seed, c.id);
      const label = c.name ?? c.id;
      // Locations draw from their own stream, so adding them changed none of the other rows.
      const geo = streamFor(seed, `${c.id}:location`);
      const located = typeof c.lat === 'number' && typeof c.lng === 'number';
      const at = (metres: number) => (located ? { location: offsetPoint(c.lng!, c.lat!, metres, geo.next() * 2 * Math.PI) } : {});
      refs.push({ _id: c.id, cityCode: c.cityCode, districtCode: c.districtCode, ...at(0), ...synthetic, ...stamp });
      const area = { communityId: c.id, districtCode: c.districtCode, cityCode: c.cityCode };

      const elders = Math.round(c.residentCount * (c.isOld ? 0.24 : 0.15) * share + (r.next() - 0.5));
      const teamId = `ct_${c.id}_syn`;
      if (elders > 0) {
        const operatorType = r.weighted([['NEIGHBORHOOD', 55], ['PROPERTY_COMPANY', 25], ['SOCIAL_ORG', 20]] as const);
        const memberCount = r.int(3, 12);
        teams.push({
          _id: teamId, name: `${label}居家养老服务队伍`, communityIds: [c.id], cityCodes: [c.cityCode], operatorType, operatorUscc: null,
          operatorName: operatorType === 'NEIGHBORHOOD' ? `${label}所在社区居委会` : operatorType === 'SOCIAL_ORG' ? `合成${r.int(1, 99)}号为老服务社` : null,
          memberCount, members: Array.from({ length: memberCount }, () => ({ name: name(r), phone: testPhone(r), role: 'MEMBER' })),
          keepsRegister: true, holidayVisits: r.chance(0.6), practice: null, ...synthetic, ...stamp,
        });
      }
      for (let i = 0; i < elders; i++) {
        const id = `el_${c.id}_${String(i + 1).padStart(4, '0')}`;
        const band = r.weighted(AGE_BANDS);
        const [lo, hi] = AGE_RANGE[band];
        const birthYear = cstYear(asOf) - r.int(lo, hi);
        const ageBand = ageBandOf(birthYear, asOf) ?? band;
        const livingArrangement = r.weighted([['LIVING_ALONE', 6], ['EMPTY_NEST', 12], ['LEFT_BEHIND', 1], ['WITH_FAMILY', 81]] as const);
        const flags = difficultyFlags(r, ageBand);
        const tier: RiskTier = deriveRiskTier({ ageBand, livingArrangement, difficultyFlags: flags });
        const interval = VISIT_INTERVAL_DAYS[tier];
        // The latest routine contact: on time for 92%, overdue by up to one interval otherwise.
        const onTime = r.chance(0.92);
        const last = new Date(asOf.getTime() - (onTime ? r.next() * interval : interval + 0.5 + r.next() * interval) * DAY_MS);
        const registeredAt = new Date(Math.min(asOf.getTime() - r.int(30, 1500) * DAY_MS, last.getTime() - DAY_MS));
        const outcome = r.weighted([['OK', 97], ['NEEDS_REFERRAL', 2], ['HOSPITALISED', 1]] as const);
        const contacts: { at: Date; outcome: string }[] = [{ at: last, outcome }];
        visits.push({
          _id: `hv_${id}_r`, elderId: id, teamId, ...area, visitedAt: last, mode: r.weighted(MODES), occasion: 'ROUTINE', outcome,
          findings: null, referralTicketId: null, clientKey: null, ...synthetic, ...stamp,
        });
        // Holiday visits (春节, 中秋, 重阳) to residents living alone or in the HIGH tier.
        if (livingArrangement === 'LIVING_ALONE' || tier === 'HIGH') {
          for (const h of holidays) {
            if (h <= registeredAt) continue;
            contacts.push({ at: h, outcome: 'OK' });
            visits.push({
              _id: `hv_${id}_h${cstDate(h)}`, elderId: id, teamId, ...area, visitedAt: h, mode: 'IN_PERSON', occasion: 'HOLIDAY',
              outcome: 'OK', findings: null, referralTicketId: null, clientKey: null, ...synthetic, ...stamp,
            });
          }
        }
        const latest = contacts.reduce((a, b) => (b.at > a.at ? b : a));
        const emergency = livingArrangement !== 'WITH_FAMILY';
        residents.push({
          _id: id, ...area, buildingRef: null, roomRef: `${r.int(1, 40)}-${r.int(1, 3)}0${r.int(1, 4)}`,
          name: name(r), phone: testPhone(r), idCardHash: createHash('sha256').update(`synthetic:${seed}:${id}`).digest('hex'),
          emergencyContact: emergency ? { name: name(r), relation: r.pick(RELATIONS), phone: testPhone(r) } : null,
          healthNotes: null, birthYear, gender: r.chance(0.54) ? 'FEMALE' : 'MALE', ageBand, livingArrangement, difficultyFlags: flags, hasDifficulty: flags.length > 0,
          derivedRiskTier: tier, riskTierOverride: null, riskTierOverrideReason: null, riskTier: tier, visitIntervalDays: interval,
          lastVisitedAt: latest.at, nextVisitDue: nextVisitDue(latest.at, tier, isMajorEvent(latest.outcome)),
          status: 'ACTIVE', registeredAt, consentRecordedAt: registeredAt, registeredByTeamId: teamId, clientKey: null, ...synthetic, ...stamp,
        });
      }

      // Meal programmes: hosted by 20% of old 小区, serving the host and up to 3 following old 小区 of the district.
      if (c.isOld && r.chance(0.2)) {
        const served = [c.id];
        const serves = r.int(1, 4);
        for (let j = idx + 1; j < chunk.length && served.length < serves; j++) {
          if (chunk[j].isOld && chunk[j].districtCode === c.districtCode) served.push(chunk[j].id);
        }
        const type = r.weighted([['ELDERLY_CANTEEN', 30], ['LOVE_TABLE', 25], ['MEAL_POINT', 30], ['HOME_DELIVERY', 15]] as const);
        const names = { ELDERLY_CANTEEN: '老年食堂', LOVE_TABLE: '爱心餐桌', MEAL_POINT: '助餐点', HOME_DELIVERY: '助餐送餐服务' };
        meals.push({
          _id: `mp_${c.id}_syn`, type, name: `${label}${names[type]}`, venue: null, operatorUscc: null,
          operatorName: r.chance(0.5) ? `${label}所在社区居委会` : `合成${r.int(1, 99)}号养老服务有限公司`,
          communityIds: served, cityCodes: [c.cityCode],
          eligibility: type === 'LOVE_TABLE' ? ['LIVING_ALONE_DIFFICULTY'] : r.chance(0.5) ? ['ALL_SENIORS'] : ['LIVING_ALONE_DIFFICULTY', 'ADVANCED_AGE'],
          beneficiaryCount: r.int(20, 80), mealsPerDay: r.int(1, 2), subsidyPolicyId: null,
          // in or next to the host 小区 (delivery-only programmes have no venue)
          ...(type === 'HOME_DELIVERY' ? {} : at(geo.next() * 300)), ...synthetic, ...stamp,
        });
      }
      // Service providers near the 小区.
      const providerTypes = [['HOME_CARE_CENTER', 0.25, '居家养老服务站'], ['HEALTH_CENTER', 0.15, '社区卫生服务站'], ['DAY_CARE', 0.08, '日间照料中心'], ['NURSING_HOME', 0.03, '养老院']] as const;
      for (const [type, p, suffix] of providerTypes) {
        if (!r.chance(p)) continue;
        const distanceM = r.int(100, 3000);
        providers.push({
          _id: `sp_${c.id}_${type.toLowerCase()}`, type, name: `${label}${suffix}`, distanceM, communityIds: [c.id], cityCodes: [c.cityCode],
          broughtInBy: null, broughtInByUscc: null, ...at(distanceM), ...synthetic, ...stamp,
        });
      }
    });

    written += await insertChunks(m.CommunityRef.collection, refs);
    written += await insertChunks(m.CareTeam.collection, teams);
    written += await insertChunks(m.Resident.collection, residents);
    written += await insertChunks(m.HomeVisit.collection, visits);
    written += await insertChunks(m.MealProgram.collection, meals);
    written += await insertChunks(m.ServiceProvider.collection, providers);
  }
  // The rows were written behind the write path: the statistics rollups are rebuilt from them.
  await rebuildStats(conn);
  return written;
}
