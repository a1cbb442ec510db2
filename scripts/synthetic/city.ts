/**
 * The synthetic city skeleton (docs/domain.md, "The synthetic city"): districts weighted by
 * population, streets, 社区 and 小区 with sizes, build years, housing types and management modes.
 * Every bureau's synthetic rows are generated from this one skeleton, so keys agree across subgraphs
 * without any subgraph reading another's database. Deterministic for a given (communities, seed):
 * one lib/random.ts stream in a fixed draw order. The skeleton has no dates; each bureau dates its
 * rows relative to the product clock when it writes them.
 *
 * Each district has an outline (`districtOutline`): the cell of its approximate centre in a Voronoi
 * split of the city's bounding box, so the districts of a city tile it without overlapping. The
 * outlines are schematic (straight edges in longitude/latitude around real district centres), not
 * the legal boundaries. Every synthetic 小区 lies inside its district's outline: a normal draw
 * around the district's centre, redrawn while it falls outside (WGS84, never GCJ-02).
 */
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import { featureCollection, point } from '@turf/helpers';
import { voronoi } from '@turf/voronoi';
import { Rng, streamFor } from '../../lib/random';
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
/**
 * Bounding box of each city's area, [west, south, east, north] in degrees (WGS84), and approximate
 * centres [lng, lat] of its districts (WGS84, to a few kilometres; chosen so that the article's
 * real 小区 fall in their own district's cell).
 */
const CITY_BBOX: Record<string, [number, number, number, number]> = {
  '320100': [118.36, 31.23, 119.24, 32.62],
  '320700': [118.4, 33.95, 119.85, 35.1],
};
const DISTRICT_CENTRE: Record<string, [number, number]> = {
  '320102': [118.84, 32.055], // 玄武区
  '320104': [118.815, 32.02], // 秦淮区
  '320105': [118.72, 32.01], // 建邺区
  '320106': [118.76, 32.075], // 鼓楼区
  '320111': [118.63, 32.07], // 浦口区
  '320113': [118.88, 32.13], // 栖霞区
  '320114': [118.76, 31.97], // 雨花台区
  '320115': [118.84, 31.87], // 江宁区
  '320116': [118.83, 32.36], // 六合区
  '320117': [119.03, 31.65], // 溧水区
  '320118': [118.88, 31.33], // 高淳区
  '320703': [119.37, 34.73], // 连云区
  '320706': [119.17, 34.58], // 海州区
  '320707': [119.13, 34.84], // 赣榆区
  '320722': [118.77, 34.54], // 东海县
  '320723': [119.24, 34.28], // 灌云县
  '320724': [119.35, 34.09], // 灌南县
};

/** Cities of the skeleton, with their districts. */
const CITIES: [string, string, [string, string, number, boolean][], number][] = [
  ['320100', '南京市', NANJING, 0.85],
  ['320700', '连云港市', LIANYUNGANG, 0.15],
];

/** A GeoJSON Polygon (WGS84): one outer ring, closed, longitude first. */
export interface Polygon {
  type: 'Polygon';
  coordinates: number[][][];
}

let outlines: Map<string, Polygon> | null = null;

/** Every district's outline (GeoJSON Polygon, WGS84), by GB/T 2260 code: Voronoi cells per city. */
export function districtOutlines(): Map<string, Polygon> {
  if (outlines) return outlines;
  const out = new Map<string, Polygon>();
  for (const [cityCode, , districts] of CITIES) {
    const sites = featureCollection(districts.map(([code]) => point(DISTRICT_CENTRE[code], { code })));
    const cells = voronoi(sites, { bbox: CITY_BBOX[cityCode] });
    cells.features.forEach((cell, i) => {
      if (!cell?.geometry) throw new Error(`no Voronoi cell for district ${districts[i][0]}`);
      out.set(districts[i][0], cell.geometry);
    });
  }
  return (outlines = out);
}

/** The outline of one district of the synthetic city, or undefined for a code it does not have. */
export const districtOutline = (code: string): Polygon | undefined => districtOutlines().get(code);

/** The bounding box [west, south, east, north] of a city of the synthetic city. */
export const cityBbox = (cityCode: string): [number, number, number, number] | undefined => CITY_BBOX[cityCode];

/** Spread of the normal draw around a district's centre: a quarter of its cell's size. */
function spreadOf(outline: Polygon): [number, number] {
  const ring = outline.coordinates[0];
  const lngs = ring.map((p) => p[0]);
  const lats = ring.map((p) => p[1]);
  return [(Math.max(...lngs) - Math.min(...lngs)) / 4, (Math.max(...lats) - Math.min(...lats)) / 4];
}

/**
 * A point [lng, lat] inside the district's outline. The first try uses `dLat`, `dLng` (standard
 * normal draws of the skeleton's stream, in the skeleton's fixed order); later tries draw from the
 * 小区's own stream, so the rest of the skeleton does not depend on how many tries were needed.
 */
function placeInDistrict(code: string, id: string, seed: number, dLat: number, dLng: number): [number, number] {
  const outline = districtOutline(code)!;
  const [cLng, cLat] = DISTRICT_CENTRE[code];
  const [sLng, sLat] = spreadOf(outline);
  const round = (v: number) => +v.toFixed(5);
  let r: Rng | null = null;
  for (let tries = 0; tries < 64; tries++) {
    if (tries > 0) {
      r ??= streamFor(seed, `${id}:place`);
      dLat = r.normal();
      dLng = r.normal();
    }
    const p: [number, number] = [round(cLng + dLng * sLng), round(cLat + dLat * sLat)];
    if (booleanPointInPolygon(p, outline, { ignoreBoundary: true })) return p;
  }
  // Practically unreachable (each try lands inside with probability well over 1/2): the centre
  // itself lies inside its own Voronoi cell.
  return [cLng, cLat];
}

const NAME_A = ['金', '银', '翠', '锦', '华', '福', '康', '宁', '安', '明', '新', '瑞', '和', '盛', '龙', '江', '湖', '梅', '兰', '竹', '松', '秀', '丽', '景', '阳', '光', '东', '南', '西', '北'];
const NAME_B = ['苑', '园', '村', '小区', '花园', '新村', '家园', '公寓', '雅居', '府', '城', '湾'];

export function generateCity(communities: number, seed: number): SyntheticCity {
  const rng = new Rng(seed);
  const areas: SyntheticArea[] = [];
  const out: SyntheticCommunity[] = [];
  const usedNames = new Set<string>();
  for (const [cityCode, , districts, share] of CITIES) {
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
        const id = `cm_${code}_s${String(i + 1).padStart(5, '0')}`;
        const builtYear = isOld ? rng.int(1970, 2000) : rng.int(2001, 2022);
        // Then two normal draws of the skeleton's stream for the location, in the same order as ever.
        const dLat = rng.normal(0, 1);
        const dLng = rng.normal(0, 1);
        const [lng, lat] = placeInDistrict(code, id, seed, dLat, dLng);
        out.push({
          id,
          name,
          cityCode,
          districtCode: code,
          neighborhoodCode: nbCodes[i % nbCodes.length],
          streetCode: nbCodes[i % nbCodes.length].slice(0, 9),
          isOld,
          builtYear,
          housingType,
          managementMode,
          householdCount: households,
          residentCount: Math.round(households * 2.6),
          buildingCount: Math.max(1, Math.round(households / perBuilding)),
          floorAreaM2: households * 75,
          lat,
          lng,
        });
      }
    });
  }
  return { areas, communities: out };
}
