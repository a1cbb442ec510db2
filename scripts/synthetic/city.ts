/**
 * The synthetic city skeleton (docs/domain.md, "The synthetic city"): districts weighted by
 * population, streets, 社区 and 小区 with sizes, build years, housing types and management modes.
 * Every bureau's synthetic rows are generated from this one skeleton, so keys agree across subgraphs
 * without any subgraph reading another's database. Deterministic for a given (communities, seed):
 * one lib/random.ts stream in a fixed draw order. The skeleton has no dates; each bureau dates its
 * rows relative to the product clock when it writes them.
 */
import { Rng } from '../../lib/random';
import type { SyntheticArea, SyntheticCity, SyntheticCommunity } from '../../lib/subgraph-module';

export type { SyntheticArea, SyntheticCity, SyntheticCommunity };

/** 南京 districts (GB/T 2260) with 常住 population in 万 [E], and core-district flag. */
const NANJING: [string, string, number, boolean][] = [
  ['320102', '玄武区', 53.7, true], ['320104', '秦淮区', 74.2, true], ['320105', '建邺区', 53.6, false],
  ['320106', '鼓楼区', 94.0, true], ['320111', '浦口区', 119.6, false], ['320113', '栖霞区', 99.1, false],
  ['320114', '雨花台区', 63.4, false], ['320115', '江宁区', 198.5, false], ['320116', '六合区', 95.3, false],
  ['320117', '溧水区', 50.1, false], ['320118', '高淳区', 43.1, false],
];
const LIANYUNGANG: [string, string, number, boolean][] = [
  ['320703', '连云区', 22.0, false], ['320706', '海州区', 100.0, true], ['320707', '赣榆区', 90.0, false],
  ['320722', '东海县', 90.0, false], ['320723', '灌云县', 70.0, false], ['320724', '灌南县', 60.0, false],
];
/** Rough district centres (WGS84) for jittered coordinates. */
const CENTRE: Record<string, [number, number]> = { '320100': [32.06, 118.79], '320700': [34.6, 119.22] };

const NAME_A = ['金', '银', '翠', '锦', '华', '福', '康', '宁', '安', '明', '新', '瑞', '和', '盛', '龙', '江', '湖', '梅', '兰', '竹', '松', '秀', '丽', '景', '阳', '光', '东', '南', '西', '北'];
const NAME_B = ['苑', '园', '村', '小区', '花园', '新村', '家园', '公寓', '雅居', '府', '城', '湾'];

export function generateCity(communities: number, seed: number): SyntheticCity {
  const rng = new Rng(seed);
  const areas: SyntheticArea[] = [];
  const out: SyntheticCommunity[] = [];
  const cities: [string, string, [string, string, number, boolean][], number][] = [
    ['320100', '南京市', NANJING, 0.85],
    ['320700', '连云港市', LIANYUNGANG, 0.15],
  ];
  const usedNames = new Set<string>();
  for (const [cityCode, , districts, share] of cities) {
    const cityN = Math.round(communities * share);
    const pop = districts.reduce((s, d) => s + d[2], 0);
    let assigned = 0;
    districts.forEach(([code, name, p, core], di) => {
      areas.push({ code, name, level: 'DISTRICT', parentCode: cityCode, cityCode });
      const k = di === districts.length - 1 ? cityN - assigned : Math.round((cityN * p) / pop);
      assigned += k;
      if (k <= 0) return;
      const neighborhoods = Math.max(1, Math.ceil(k / 3.5));
      const streets = Math.max(1, Math.ceil(neighborhoods / 11));
      const nbCodes: string[] = [];
      for (let s = 0; s < streets; s++) {
        const streetCode = `${code}${String(s + 1).padStart(3, '0')}`;
        areas.push({ code: streetCode, name: `${name.replace(/[区县]$/, '')}第${s + 1}街道`, level: 'STREET', parentCode: code, cityCode });
        const per = Math.ceil(neighborhoods / streets);
        for (let n = 0; n < per && nbCodes.length < neighborhoods; n++) {
          const nbCode = `${streetCode}${String(n + 1).padStart(3, '0')}`;
          areas.push({ code: nbCode, name: `${rng.pick(NAME_A)}${rng.pick(NAME_A)}社区`, level: 'NEIGHBORHOOD', parentCode: streetCode, cityCode });
          nbCodes.push(nbCode);
        }
      }
      for (let i = 0; i < k; i++) {
        const isOld = rng.chance(core ? 0.35 : 0.15);
        const housingType = isOld
          ? rng.weighted([['REFORM_HOUSING', 50], ['RESETTLEMENT', 20], ['COMMERCIAL', 30]] as const)
          : rng.weighted([['COMMERCIAL', 85], ['RESETTLEMENT', 10], ['AFFORDABLE', 5]] as const);
        const households = Math.max(
          40,
          Math.round(housingType === 'RESETTLEMENT' && !isOld ? rng.normal(1300, 250) : isOld ? rng.lognormal(350, 1200) : rng.lognormal(900, 3000)),
        );
        const perBuilding = isOld ? 42 : rng.int(60, 120);
        const managementMode = isOld
          ? rng.weighted([['MARKET', 55], ['CUSTODIAL_PUBLIC_WELFARE', 25], ['STREET_FALLBACK', 10], ['NONE', 10]] as const)
          : rng.weighted([['MARKET', 98], ['SELF_MANAGED', 2]] as const);
        // 30 x 30 x 12 = 10,800 base names: after a few tries, number the name (二期, 三期… style).
        let name = `${rng.pick(NAME_A)}${rng.pick(NAME_A)}${rng.pick(NAME_B)}`;
        for (let tries = 0; usedNames.has(name) && tries < 8; tries++) name = `${rng.pick(NAME_A)}${rng.pick(NAME_A)}${rng.pick(NAME_B)}`;
        for (let k = 2; usedNames.has(name); k++) name = name.replace(/\d+期$/, '') + `${k}期`;
        usedNames.add(name);
        const [lat, lng] = CENTRE[cityCode];
        out.push({
          id: `cm_${code}_s${String(i + 1).padStart(5, '0')}`,
          name,
          cityCode,
          districtCode: code,
          neighborhoodCode: nbCodes[i % nbCodes.length],
          streetCode: nbCodes[i % nbCodes.length].slice(0, 9),
          isOld,
          builtYear: isOld ? rng.int(1970, 2000) : rng.int(2001, 2022),
          housingType,
          managementMode,
          householdCount: households,
          residentCount: Math.round(households * 2.6),
          buildingCount: Math.max(1, Math.round(households / perBuilding)),
          floorAreaM2: households * 75,
          lat: +(lat + rng.normal(0, 0.08)).toFixed(5),
          lng: +(lng + rng.normal(0, 0.08)).toFixed(5),
        });
      }
    });
  }
  return { areas, communities: out };
}
