/** Random synthetic cities for the suppression tests (seeded: the same seed gives the same city). */
import { Rng } from '../../lib/random';
import type { AreaNode } from '../../lib/disclosure';

export interface City {
  areas: AreaNode[];
  leaves: Map<string, Record<string, number>>;
}

/** A random city: districts of streets of 小区 with small counts (many below the threshold, zeros included), areas in random order. */
export function randomCity(seed: number, areaCount: number): City {
  const rng = new Rng(seed);
  const areas: AreaNode[] = [{ id: 'CITY|1', parent: null }];
  const leaves = new Map<string, Record<string, number>>();
  const districts = 8;
  const streets = 4;
  for (let d = 0; d < districts; d++) {
    areas.push({ id: `DISTRICT|${d}`, parent: 'CITY|1' });
    for (let s = 0; s < streets; s++) areas.push({ id: `STREET|${d}.${s}`, parent: `DISTRICT|${d}` });
  }
  for (let i = 0; areas.length < areaCount; i++) {
    const id = `COMMUNITY|${String(rng.int(0, 999_999)).padStart(6, '0')}.${i}`;
    areas.push({ id, parent: `STREET|${rng.int(0, districts - 1)}.${rng.int(0, streets - 1)}` });
    const registered = rng.chance(0.3) ? rng.int(0, 6) : rng.int(0, 60);
    const part = () => rng.int(0, registered);
    const highRisk = part();
    leaves.set(id, {
      registered,
      livingAlone: part(),
      difficulty: part(),
      highRisk,
      keyRisk: rng.int(0, registered - highRisk),
      visitedLast30d: part(),
      overdueVisits: part(),
      visitedThisMonth: part(),
      holidayVisitsLast12m: rng.int(0, 12),
    });
  }
  for (let i = areas.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [areas[i], areas[j]] = [areas[j], areas[i]];
  }
  return { areas, leaves };
}
