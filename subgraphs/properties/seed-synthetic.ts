/**
 * Synthetic rows of the properties subgraph for the synthetic city (docs/domain.md, "The synthetic
 * city"): districts, streets and 社区, 小区, companies, one current contract per managed 小区, monthly
 * fee-collection periods and quarterly satisfaction surveys.
 *
 * Dated relative to the product clock: the as-of instant is `now()` when the generator runs (or
 * `asOf`). Fee periods are the last `months` complete calendar months (CST) before the as-of month,
 * the newest being last month, so "last month", the last 3 or 12 months and the latest period
 * always hold figures; surveys are the quarter-end months (03, 06, 09, 12) among them (4 in 12
 * months); contracts started 1-35 months before the as-of month and run three years, so every one
 * is running.
 *
 * Deterministic for (seed, as-of month): the companies draw from one stream and each 小区 from its
 * own (lib/random.ts `streamFor(seed, id)`), so a 小区's rows do not depend on the other 小区 except
 * for which company serves it (the pool grows with the city). Re-running replaces the earlier
 * synthetic rows (they carry `synthetic: true`), so it never duplicates; the article's rows are
 * left alone and the article's 小区 never get synthetic rows. Ends with a full rebuild of the
 * statistics rollups (./stats); the returned count is of raw rows only.
 */
import type { Connection } from 'mongoose';
import { cstMonthStart, lastCompleteMonths, now } from '../../lib/clock';
import { Rng, streamFor, streamSeed } from '../../lib/random';
import type { SyntheticCity } from '../../lib/subgraph-module';
import { registerModels } from './models';
import { DEMO } from './seed';
import { rebuildStats } from './stats';

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const CHUNK = 5000;
/** The article's 小区: their facts come from the article only. */
const ARTICLE = new Set<string>(Object.values(DEMO));

/** The fee periods (`YYYY-MM`, CST) of a synthetic city as of `asOf`, newest first. */
export function syntheticPeriods(asOf: Date, months = 12): string[] {
  return lastCompleteMonths(asOf, months).map((w) => w.month).reverse();
}

async function insertChunks(model: { insertMany: (docs: unknown[], opts: object) => Promise<unknown> }, docs: unknown[]) {
  for (let i = 0; i < docs.length; i += CHUNK) await model.insertMany(docs.slice(i, i + CHUNK), { ordered: false, lean: true });
}

/**
 * Writes the synthetic city's properties rows: `months` monthly fee periods per managed 小区 (default
 * 12), as of `asOf` (default: the product clock's `now()`). Returns documents written.
 */
export async function seedSyntheticProperties(conn: Connection, city: SyntheticCity, seed: number, months = 12, asOf: Date = now()): Promise<number> {
  const m = registerModels(conn);
  const synthetic = { synthetic: true };
  await Promise.all([
    m.Community.deleteMany(synthetic),
    m.Company.deleteMany(synthetic),
    m.Contract.deleteMany(synthetic),
    m.Fee.deleteMany(synthetic),
    m.Survey.deleteMany(synthetic),
  ]);
  // Areas: upserts (a few hundred rows); the article's demo districts keep their rows.
  if (city.areas.length) {
    await m.AdminArea.bulkWrite(
      city.areas.map((a) => ({
        updateOne: {
          filter: { _id: a.code },
          update: { $setOnInsert: { name: a.name, level: a.level, parentCode: a.parentCode, cityCode: a.cityCode, codeVerified: a.level === 'DISTRICT' } },
          upsert: true,
        },
      })) as never,
    );
  }
  const rows = city.communities.filter((c) => !ARTICLE.has(c.id));
  // One company per ~20 小区 of a city.
  const companyRng = new Rng(streamSeed(seed, 'properties:companies'));
  const companiesByCity = new Map<string, string[]>();
  const companies: object[] = [];
  for (const cityCode of new Set(rows.map((c) => c.cityCode))) {
    const n = Math.max(1, Math.ceil(rows.filter((c) => c.cityCode === cityCode).length / 20));
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const uscc = `91${cityCode}SYN${String(i + 1).padStart(5, '0')}`.padEnd(18, '0');
      ids.push(uscc);
      companies.push({
        _id: uscc, name: `${cityCode === '320100' ? '南京' : '连云港'}合成${i + 1}号物业服务有限公司`, usccVerified: false,
        nature: companyRng.chance(0.15) ? 'STATE_OWNED' : 'PRIVATE', hasPartyOrganization: companyRng.chance(0.4), ...synthetic,
      });
    }
    companiesByCity.set(cityCode, ids);
  }
  await insertChunks(m.Company, companies);

  const periods = syntheticPeriods(asOf, months); // newest first
  const quarterEnds = periods.filter((p) => ['03', '06', '09', '12'].includes(p.slice(5)));
  const communities: object[] = [];
  const contracts: object[] = [];
  let fees: object[] = [];
  let surveys: object[] = [];
  let written = companies.length;
  for (const c of rows) {
    const r = streamFor(seed, `properties:${c.id}`);
    const managed = c.managementMode !== 'NONE' && c.managementMode !== 'SELF_MANAGED';
    const pool = companiesByCity.get(c.cityCode)!;
    const uscc = managed ? r.pick(pool) : null;
    communities.push({
      _id: c.id, name: c.name, cityCode: c.cityCode, districtCode: c.districtCode, streetCode: c.streetCode,
      neighborhoodCode: c.neighborhoodCode, address: `${c.name} (synthetic)`, location: { lat: c.lat, lng: c.lng, datum: 'WGS84' },
      builtYear: c.builtYear, builtDecade: Math.floor(c.builtYear / 10) * 10, isOldCommunity: c.isOld, housingType: c.housingType,
      buildingCount: c.buildingCount, householdCount: c.householdCount, residentCount: c.residentCount, floorAreaM2: c.floorAreaM2,
      managementMode: c.managementMode, currentCompanyUscc: uscc, has24hServiceHotline: r.chance(0.6), ...synthetic,
    });
    if (uscc) {
      // A three-year contract that started 1-35 months before the as-of month: running now.
      const startedMonthsAgo = r.int(1, 35);
      contracts.push({
        _id: `ct_${c.id}`, communityId: c.id, companyUscc: uscc,
        selectionMethod: r.chance(0.2) ? 'OWNERS_COMMITTEE_RECRUITMENT' : c.isOld ? 'STREET_CUSTODY' : 'PUBLIC_TENDER',
        startDate: cstMonthStart(asOf, -startedMonthsAgo), endDate: cstMonthStart(asOf, 36 - startedMonthsAgo),
        feeStandardFenPerM2Month: c.isOld ? r.int(40, 80) : r.int(150, 350), current: true, ...synthetic,
      });
      // Old compounds start low and ramp up after an intervention; new ones sit around 0.92.
      const base = c.isOld ? 0.2 + r.next() * 0.6 : clamp(r.normal(0.92, 0.04), 0.6, 1);
      const target = 0.9 + r.next() * 0.07;
      const rampAt = c.isOld && r.chance(0.5) ? r.int(0, Math.max(0, months - 1)) : -1;
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
    for (const period of quarterEnds) {
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
  await rebuildStats(conn);
  return written + communities.length + contracts.length + fees.length + surveys.length + city.areas.length;
}
