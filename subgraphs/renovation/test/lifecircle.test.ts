/**
 * The facility inventory's 15-minute life circle (Community.facilitiesWithin) through a real gateway
 * (all four subgraphs on the embedded engine): the article's demo 小区 with hand-computed distances,
 * a small synthetic city whose answers are read back from the engine's own `$geoNear`, type
 * filters, the radius check, access to the facilities' personal-data notes, and upsertFacility's
 * location.
 */
import { startStack, type RunningStack } from '../../../scripts/stack';
import { now } from '../../../lib/clock';
import { pinClock } from '../../../test/helpers/clock';
import { generateCity } from '../../../scripts/synthetic/city';
import { seedSyntheticProperties } from '../../properties/seed-synthetic';
import { authHeader } from '../../../test/helpers/tokens';
import { gql } from '../../../test/helpers/subgraph';
import { registerModels, type Models } from '../models';
import { DEMO, DEMO_LOCATIONS, seedSynthetic } from '../seed';

const pinned = pinClock(now());
const city = generateCity(60, 11);
let stack: RunningStack;
let m: Models;

/** Great-circle distance by the haversine formula on MongoDB's sphere (radius 6378100 m). */
function haversineM([lng1, lat1]: number[], [lng2, lat2]: number[]): number {
  const rad = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * rad) / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lng2 - lng1) * rad) / 2) ** 2;
  return 2 * 6378100 * Math.asin(Math.sqrt(a));
}

beforeAll(async () => {
  stack = await startStack({
    seed: 'always',
    logLevel: 'silent',
    gatewayTuning: { subgraphTimeoutsMs: { properties: 15_000, governance: 15_000, elderly: 15_000, renovation: 15_000 } },
    beforeListen: async (conns) => {
      await seedSyntheticProperties(conns.get('properties')!, city, 11, 1);
      await seedSynthetic(conns.get('renovation')!, city.communities, 11, { asOf: now() });
    },
  });
  m = registerModels(stack.subgraphs.find((s) => s.name === 'renovation')!.conn);
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  pinned.restore();
});

const NEAR = `query($id: ID!, $metres: Int, $type: [FacilityType!]) { community(id: $id) { name
  facilitiesWithin(metres: $metres, type: $type) { distanceM facility { id type community { id name } location { longitude latitude } } } } }`;

describe('renovation life circle through the gateway', () => {
  it('新海花园: its own facilities within 100 m, nearest first, at the distances they were placed', async () => {
    const res = await gql(stack.gatewayUrl, NEAR, { id: DEMO.xinhai, metres: 100 });
    expect(res.errors).toBeUndefined();
    expect(res.data!.community.name).toBe('新海花园');
    const rows = res.data!.community.facilitiesWithin.map((r: any) => [r.facility.type, r.distanceM, r.facility.community.name]);
    expect(rows).toEqual([
      // Two rows at the 小区's point: ties by id.
      ['ROAD_SURFACE', 0, '新海花园'],
      ['STREETLIGHT', 0, '新海花园'],
      ['FITNESS_EQUIPMENT', 45, '新海花园'],
      ['RUBBER_TRACK', 60, '新海花园'],
      ['CHILDREN_PLAYGROUND', 70, '新海花园'],
      ['BASKETBALL_COURT', 90, '新海花园'],
    ]);
    const track = res.data!.community.facilitiesWithin[3].facility.location;
    // 60 m due north: same longitude, latitude larger by 60 / 6378100 rad.
    expect(track.longitude).toBeCloseTo(DEMO_LOCATIONS[DEMO.xinhai][0], 6);
    expect(track.latitude).toBeCloseTo(DEMO_LOCATIONS[DEMO.xinhai][1] + (60 / 6378100) * (180 / Math.PI), 6);
  });

  it('东方瑞园: within 2,000 m it also finds 新海花园’s facilities, at the haversine distance between the two 小区', async () => {
    const between = haversineM(DEMO_LOCATIONS[DEMO.dongfang], DEMO_LOCATIONS[DEMO.xinhai]);
    expect(between).toBeGreaterThan(1500);
    expect(between).toBeLessThan(2000);
    const res = await gql(stack.gatewayUrl, NEAR, { id: DEMO.dongfang, metres: 2000 });
    expect(res.errors).toBeUndefined();
    const rows = res.data!.community.facilitiesWithin;
    const own = rows.filter((r: any) => r.facility.community.id === DEMO.dongfang).map((r: any) => r.facility.type);
    expect(own).toEqual(['HEALTH_TRAIL', 'CHILDREN_PLAYGROUND']);
    // 新海花园's street lights sit at its point: exactly the distance between the two 小区.
    const light = rows.find((r: any) => r.facility.id === `fa_${DEMO.xinhai}_STREETLIGHT`);
    expect(light.distanceM).toBe(Math.round(between));
    expect(rows.map((r: any) => r.distanceM)).toEqual([...rows.map((r: any) => r.distanceM)].sort((a: number, b: number) => a - b));
    // 1,000 m is too short to reach 新海花园.
    const short = await gql(stack.gatewayUrl, NEAR, { id: DEMO.dongfang, metres: 1000 });
    expect(short.data!.community.facilitiesWithin.map((r: any) => r.facility.community.id)).toEqual([DEMO.dongfang, DEMO.dongfang]);
  });

  it('a type filter keeps only those types (here the two 小区’s playgrounds)', async () => {
    const res = await gql(stack.gatewayUrl, NEAR, { id: DEMO.dongfang, metres: 2000, type: ['CHILDREN_PLAYGROUND'] });
    expect(res.errors).toBeUndefined();
    expect(res.data!.community.facilitiesWithin.map((r: any) => r.facility.id)).toEqual([`fa_${DEMO.dongfang}_CHILDREN_PLAYGROUND`, `fa_${DEMO.xinhai}_CHILDREN_PLAYGROUND`]);
  });

  it('a synthetic 小区: the answer equals the engine’s own $geoNear over the facilities, and holds all its own rows', async () => {
    const c = city.communities.find((x) => x.isOld)!;
    const place = await m.CommunityPlace.findById(c.id).lean();
    // Recorded at the skeleton's location, inside its district.
    expect(place!.location.coordinates).toEqual([c.lng, c.lat]);
    const expected = await m.Facility.aggregate([
      { $geoNear: { near: place!.location as { type: 'Point'; coordinates: [number, number] }, distanceField: 'd', maxDistance: 1000, key: 'location' } },
      { $project: { d: 1 } },
    ]);
    const own = await m.Facility.find({ communityId: c.id }).lean();
    expect(own.length).toBeGreaterThanOrEqual(8);
    // Every synthetic facility lies 10-250 m from its own 小区's recorded location.
    const places = new Map((await m.CommunityPlace.find({ synthetic: true }).lean()).map((p) => [p._id, p.location.coordinates]));
    expect(places.size).toBe(city.communities.length);
    const synthetic = await m.Facility.find({ synthetic: true }).lean();
    expect(synthetic.length).toBeGreaterThan(city.communities.length * 8);
    const off = synthetic.filter((f) => {
      const d = haversineM(f.location!.coordinates, places.get(f.communityId)!);
      return !(d >= 9.5 && d <= 250.5);
    });
    expect(off.map((f) => f._id)).toEqual([]);
    const res = await gql(stack.gatewayUrl, NEAR, { id: c.id });
    expect(res.errors).toBeUndefined();
    const rows = res.data!.community.facilitiesWithin;
    expect(res.data!.community.name).toBe(c.name);
    expect(rows.map((r: any) => r.distanceM)).toEqual(expected.map((e) => Math.round(e.d)));
    expect(new Set(rows.map((r: any) => r.facility.id))).toEqual(new Set(expected.map((e) => e._id)));
    const ids = new Set(rows.map((r: any) => r.facility.id));
    for (const f of own) expect(ids.has(f._id)).toBe(true);
  });

  it('a 小区 whose location the renovation office does not know gets an empty list', async () => {
    await m.CommunityPlace.deleteOne({ _id: 'cm_320113_0001' });
    try {
      const r = await gql(stack.gatewayUrl, NEAR, { id: 'cm_320113_0001', metres: 5000 });
      expect(r.errors).toBeUndefined();
      expect(r.data!.community.facilitiesWithin).toEqual([]);
    } finally {
      await m.CommunityPlace.create({ _id: 'cm_320113_0001', cityCode: '320100', districtCode: '320113', location: { type: 'Point', coordinates: DEMO_LOCATIONS[DEMO.yijiang] } });
    }
  });

  it.each([0, 5001, -5])('a radius of %i m is BAD_USER_INPUT naming metres', async (metres) => {
    const res = await gql(stack.gatewayUrl, NEAR, { id: DEMO.xinhai, metres });
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toContain('metres');
    expect(res.errors?.[0].message).toContain('5000');
  });

  it('access as for the other facility fields: the notes are the renovation office’s, the rows are public', async () => {
    const q = `{ community(id: "${DEMO.xinhai}") { facilitiesWithin(metres: 100, type: [RUBBER_TRACK]) { distanceM facility { type note } } } }`;
    const anon = await gql(stack.gatewayUrl, q);
    expect(anon.data!.community.facilitiesWithin).toEqual([{ distanceM: 60, facility: { type: 'RUBBER_TRACK', note: null } }]);
    expect(anon.errors?.[0].extensions?.code).toMatch(/UNAUTHENTICATED|FORBIDDEN/);
    const office = await gql(stack.gatewayUrl, q, undefined, await authHeader('RENOVATION_OFFICE'));
    expect(office.errors).toBeUndefined();
    expect(office.data!.community.facilitiesWithin[0].facility.note).toContain('2019年增设');
  });

  it('upsertFacility records a location on the 小区’s grounds and refuses one 10 km away or out of range without writing', async () => {
    const set = `mutation($loc: Wgs84PointInput) { upsertFacility(input: { communityId: "${DEMO.ruijin}", type: EBIKE_CHARGER, districtCode: "320104", location: $loc }) { id location { longitude latitude } } }`;
    const office = await authHeader('RENOVATION_OFFICE');
    const [lng, lat] = DEMO_LOCATIONS[DEMO.ruijin];
    const ok = await gql(stack.gatewayUrl, set, { loc: { longitude: lng + 0.001, latitude: lat } }, office);
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.upsertFacility.location).toEqual({ longitude: lng + 0.001, latitude: lat });
    const expectedM = Math.round(haversineM([lng, lat], [lng + 0.001, lat]));
    const near = await gql(stack.gatewayUrl, NEAR, { id: DEMO.ruijin, type: ['EBIKE_CHARGER'] });
    expect(near.data!.community.facilitiesWithin).toMatchObject([{ distanceM: expectedM, facility: { id: `fa_${DEMO.ruijin}_EBIKE_CHARGER` } }]);

    const far = await gql(stack.gatewayUrl, set, { loc: { longitude: lng + 0.1, latitude: lat } }, office);
    expect(far.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(far.errors?.[0].message).toContain('input.location');
    const swapped = await gql(stack.gatewayUrl, set, { loc: { longitude: lat, latitude: lng } }, office);
    expect(swapped.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(swapped.errors?.[0].message).toContain('input.location.latitude');
    const row = await m.Facility.findById(`fa_${DEMO.ruijin}_EBIKE_CHARGER`).lean();
    expect(row!.location!.coordinates).toEqual([lng + 0.001, lat]);

    // null removes the location: the row leaves the life circle.
    const cleared = await gql(stack.gatewayUrl, set, { loc: null }, office);
    expect(cleared.errors).toBeUndefined();
    expect(cleared.data!.upsertFacility.location).toBeNull();
    const after = await gql(stack.gatewayUrl, NEAR, { id: DEMO.ruijin, type: ['EBIKE_CHARGER'] });
    expect(after.data!.community.facilitiesWithin).toEqual([]);
  });
});
