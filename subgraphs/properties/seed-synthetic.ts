/**
 * Synthetic rows of the properties subgraph for the synthetic city (DOMAIN.md §5.3): districts,
 * streets and 社区, 小区, companies, contracts, 12 monthly fee periods and 4 quarterly surveys per
 * 小区. Deterministic for a seed. Re-running replaces the earlier synthetic rows (they carry
 * `synthetic: true`), so it never duplicates; the article's demo rows are left alone.
 */
import type { Connection } from 'mongoose';
import { registerModels } from './models';

export interface SyntheticArea {
  code: string;
  name: string;
  level: string;
  parentCode: string | null;
  cityCode: string;
}
export interface SyntheticCommunity {
  id: string;
  name: string;
  cityCode: string;
  districtCode: string;
  streetCode: string;
  neighborhoodCode: string;
  isOld: boolean;
  builtYear: number;
  housingType: string;
  managementMode: string;
  householdCount: number;
  residentCount: number;
  buildingCount: number;
  floorAreaM2: number;
  lat: number;
  lng: number;
}

/** mulberry32, local to this subgraph (subgraphs share no code but lib/). */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (m: number, sd: number) => m + sd * Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return { next, normal, int: (a: number, b: number) => a + Math.floor(next() * (b - a + 1)) };
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const CHUNK = 5000;
/** The synthetic data is "as of" this month, so runs are reproducible. */
export const SYNTHETIC_AS_OF = { year: 2026, month: 10 };

function monthsBack(n: number): string[] {
  const out: string[] = [];
  let { year, month } = SYNTHETIC_AS_OF;
  for (let i = 0; i < n; i++) {
    out.push(`${year}-${String(month).padStart(2, '0')}`);
    month -= 1;
    if (month === 0) {
      month = 12;
      year -= 1;
    }
  }
  return out;
}

async function insertChunks(model: { insertMany: (docs: unknown[], opts: object) => Promise<unknown> }, docs: unknown[]) {
  for (let i = 0; i < docs.length; i += CHUNK) await model.insertMany(docs.slice(i, i + CHUNK), { ordered: false, lean: true });
}

export async function seedSyntheticProperties(
  conn: Connection,
  city: { areas: SyntheticArea[]; communities: SyntheticCommunity[] },
  seed: number,
  months = 12,
): Promise<number> {
  const m = registerModels(conn);
  const r = rng(seed ^ 0x51);
  const synthetic = { synthetic: true };
  await Promise.all([
    m.Community.deleteMany(synthetic),
    m.Company.deleteMany(synthetic),
    m.Contract.deleteMany(synthetic),
    m.Fee.deleteMany(synthetic),
    m.Survey.deleteMany(synthetic),
  ]);
  // Areas: upserts (a few hundred rows); the article's demo districts keep their rows.
  await m.AdminArea.bulkWrite(
    city.areas.map((a) => ({
      updateOne: {
        filter: { _id: a.code },
        update: { $setOnInsert: { name: a.name, level: a.level, parentCode: a.parentCode, cityCode: a.cityCode, codeVerified: a.level === 'DISTRICT' } },
        upsert: true,
      },
    })) as never,
  );
  // One company per ~20 小区 of a city.
  const companiesByCity = new Map<string, string[]>();
  const companies: object[] = [];
  for (const cityCode of new Set(city.communities.map((c) => c.cityCode))) {
    const n = Math.max(1, Math.ceil(city.communities.filter((c) => c.cityCode === cityCode).length / 20));
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const uscc = `91${cityCode}SYN${String(i + 1).padStart(5, '0')}`.padEnd(18, '0');
      ids.push(uscc);
      companies.push({
        _id: uscc, name: `${cityCode === '320100' ? '南京' : '连云港'}合成${i + 1}号物业服务有限公司`, usccVerified: false,
        nature: r.next() < 0.15 ? 'STATE_OWNED' : 'PRIVATE', hasPartyOrganization: r.next() < 0.4, ...synthetic,
      });
    }
    companiesByCity.set(cityCode, ids);
  }
  await insertChunks(m.Company, companies);

  const periods = monthsBack(months);
  const communities: object[] = [];
  const contracts: object[] = [];
  let fees: object[] = [];
  let surveys: object[] = [];
  let written = companies.length;
  for (const c of city.communities) {
    const managed = c.managementMode !== 'NONE' && c.managementMode !== 'SELF_MANAGED';
    const pool = companiesByCity.get(c.cityCode)!;
    const uscc = managed ? pool[r.int(0, pool.length - 1)] : null;
    communities.push({
      _id: c.id, name: c.name, cityCode: c.cityCode, districtCode: c.districtCode, streetCode: c.streetCode,
      neighborhoodCode: c.neighborhoodCode, address: `${c.name} (synthetic)`, location: { lat: c.lat, lng: c.lng, datum: 'WGS84' },
      builtYear: c.builtYear, builtDecade: Math.floor(c.builtYear / 10) * 10, isOldCommunity: c.isOld, housingType: c.housingType,
      buildingCount: c.buildingCount, householdCount: c.householdCount, residentCount: c.residentCount, floorAreaM2: c.floorAreaM2,
      managementMode: c.managementMode, currentCompanyUscc: uscc, has24hServiceHotline: r.next() < 0.6, ...synthetic,
    });
    if (uscc) {
      const start = 2024 + r.int(-2, 1);
      contracts.push({
        _id: `ct_${c.id}`, communityId: c.id, companyUscc: uscc,
        selectionMethod: r.next() < 0.2 ? 'OWNERS_COMMITTEE_RECRUITMENT' : c.isOld ? 'STREET_CUSTODY' : 'PUBLIC_TENDER',
        startDate: new Date(Date.UTC(start, 0, 1)), endDate: new Date(Date.UTC(start + 3, 0, 1)),
        feeStandardFenPerM2Month: c.isOld ? r.int(40, 80) : r.int(150, 350), current: true, ...synthetic,
      });
      // Old compounds start low and ramp up after an intervention; new ones sit around 0.92.
      const base = c.isOld ? 0.2 + r.next() * 0.6 : clamp(r.normal(0.92, 0.04), 0.6, 1);
      const target = 0.9 + r.next() * 0.07;
      const rampAt = c.isOld && r.next() < 0.5 ? r.int(0, months - 1) : -1;
      const feeFen = c.isOld ? 60 : 250;
      periods.forEach((period, idx) => {
        const monthsSince = rampAt >= 0 ? rampAt - idx : -1;
        const rate = monthsSince >= 0 ? clamp(base + ((target - base) * Math.min(monthsSince + 1, 18)) / 18, 0, 1) : base;
        const receivable = Math.round(c.floorAreaM2 * feeFen);
        const hhRate = clamp(rate + r.normal(0, 0.015), 0, 1);
        const arrears = Math.round(receivable * (1 - rate) * 6);
        fees.push({
          _id: `fee_${c.id}_${period}`, communityId: c.id, cityCode: c.cityCode, districtCode: c.districtCode, period,
          chargeableHouseholds: c.householdCount, paidHouseholds: Math.round(c.householdCount * hhRate),
          receivableFen: receivable, receivedFen: Math.round(receivable * rate), historicalArrearsFen: arrears,
          arrearsRecoveredFen: Math.round(arrears * r.next() * 0.1), prepaidFen: 0, ...synthetic,
        });
      });
    }
    for (const period of periods.filter((p) => ['03', '06', '09', '12'].includes(p.slice(5)))) {
      surveys.push({
        _id: `sv_${c.id}_${period}`, communityId: c.id, cityCode: c.cityCode, districtCode: c.districtCode, period,
        method: 'QUESTIONNAIRE', sampleSize: Math.max(30, Math.round(c.householdCount * 0.1)),
        percent: +clamp(r.normal(70, 10), 20, 100).toFixed(1), ...synthetic,
      });
    }
    if (fees.length >= CHUNK * 4) {
      await insertChunks(m.Fee, fees);
      written += fees.length;
      fees = [];
    }
    if (surveys.length >= CHUNK * 4) {
      await insertChunks(m.Survey, surveys);
      written += surveys.length;
      surveys = [];
    }
  }
  await insertChunks(m.Community, communities);
  await insertChunks(m.Contract, contracts);
  await insertChunks(m.Fee, fees);
  await insertChunks(m.Survey, surveys);
  return written + communities.length + contracts.length + fees.length + surveys.length + city.areas.length;
}
