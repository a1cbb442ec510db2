/**
 * Open311 GeoReport v2 over REST (open311-rest.ts), with the specification's request and response
 * shapes: the service list and definition, requests with their filters, a POST (form-encoded and
 * JSON) followed by a GET of the new request, `api_key` carrying the project's bearer token, the
 * standard's error array, no reporter data in any answer, and the gateway's pass-through
 * (gateway/open311-proxy.ts).
 */
import express from 'express';
import { registerOpen311Proxy } from '../../../gateway/open311-proxy';
import { listen, type Listening } from '../../../lib/http';
import { startTestDatabase, type Engine } from '../../../test/helpers/subgraph';
import { authHeader } from '../../../test/helpers/tokens';
import { DEMO } from '../seed';
import { startGovernance, type GovernanceUnderTest } from './helpers';

let engine: Engine;
let gov: GovernanceUnderTest;
let base: string;
const T0 = '2026-03-10T02:00:00.000Z'; // a Tuesday, 10:00 CST

const key = async (role: Parameters<typeof authHeader>[0], claims: Record<string, unknown> = {}) =>
  (await authHeader(role, { subject: `open311-test:${role}`, ...claims })).authorization.replace(/^Bearer /, '');

async function call(method: string, path: string, opts: { form?: Record<string, string>; json?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined;
  if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  } else if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, body: JSON.parse(text) };
}

beforeAll(async () => {
  engine = await startTestDatabase();
  gov = await startGovernance(engine.uri, T0);
  base = gov.url.replace(/\/graphql$/, '') + '/open311/v2';
});
afterAll(async () => {
  await gov?.close();
  await engine?.stop();
});

const ERROR = [{ code: expect.any(Number), description: expect.any(String) }];

describe('GET services', () => {
  test('services.json lists the catalogue in GeoReport v2 shape', async () => {
    const r = await call('GET', '/services.json?jurisdiction_id=nanjing');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/application\/json/);
    expect(r.body.length).toBeGreaterThan(10);
    expect(r.body.find((s: any) => s.service_code === 'REPAIR')).toEqual({
      service_code: 'REPAIR', service_name: '房屋维修', description: expect.anything(), metadata: false, type: expect.stringMatching(/^(realtime|batch|blackbox)$/), keywords: '报修,维修', group: '物业管理',
    });
  });

  test('services/{code}.json gives the definition; an unknown code is a 404 error array', async () => {
    const ok = await call('GET', '/services/REPAIR.json');
    expect(ok).toMatchObject({ status: 200, body: { service_code: 'REPAIR', attributes: [] } });
    const missing = await call('GET', '/services/NO_SUCH.json');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual([{ code: 404, description: 'no service with service_code "NO_SUCH"' }]);
  });

  test('XML is not served: a 400 error array', async () => {
    const r = await call('GET', '/services.xml');
    expect(r.status).toBe(400);
    expect(r.body).toEqual([{ code: 400, description: 'format "xml" is not served; use .json' }]);
  });
});

describe('POST requests, then GET it', () => {
  let id: string;

  test('a form-encoded POST with api_key creates a request and answers its id and notice', async () => {
    const r = await call('POST', '/requests.json', {
      form: {
        api_key: await key('HOUSING_BUREAU'), jurisdiction_id: 'nanjing', service_code: 'REPAIR', address_id: DEMO.ruijin,
        description: '3号楼楼道灯坏了', lat: '32.0301', long: '118.7901', first_name: '小明', last_name: '张', phone: '13812345678', email: 'zm@example.org', client_key: 'open311-test-0001',
      },
    });
    expect(r.status).toBe(201);
    expect(r.body).toEqual([{ service_request_id: expect.any(String), service_notice: expect.stringMatching(/5个工作日/), account_id: null }]);
    id = r.body[0].service_request_id;
  });

  test('the new request is answered by GET requests/{id}.json, with its text for the bureau and no reporter data for anyone', async () => {
    const r = await call('GET', `/requests/${id}.json?jurisdiction_id=nanjing&api_key=${await key('HOUSING_BUREAU')}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual([
      expect.objectContaining({
        service_request_id: id, status: 'open', service_code: 'REPAIR', service_name: '房屋维修', description: '3号楼楼道灯坏了', address_id: DEMO.ruijin,
        requested_datetime: T0, expected_datetime: expect.any(String), lat: 32.0301, long: 118.7901,
      }),
    ]);
    for (const k of ['first_name', 'last_name', 'phone', 'email', 'reporter']) expect(r.body[0]).not.toHaveProperty(k);
    expect(r.text).not.toMatch(/13812345678|zm@example\.org|小明/);
  });

  test('an anonymous GET gets the public view: service, status, dates and the 小区, without personal fields', async () => {
    const r = await call('GET', `/requests/${id}.json?jurisdiction_id=nanjing`);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body[0]).sort()).toEqual(
      ['address_id', 'agency_responsible', 'expected_datetime', 'requested_datetime', 'service_code', 'service_name', 'service_notice', 'service_request_id', 'status', 'updated_datetime', 'zipcode'].sort(),
    );
    expect(r.text).not.toMatch(/楼道灯|13812345678|118\.79/);
  });

  test('the same client_key again (JSON body, bearer header) returns the same request', async () => {
    const r = await call('POST', '/requests.json', {
      json: { jurisdiction_id: 'nanjing', service_code: 'REPAIR', address_id: DEMO.ruijin, description: '3号楼楼道灯坏了', lat: 32.0301, long: 118.7901, first_name: '小明', last_name: '张', phone: '13812345678', email: 'zm@example.org', client_key: 'open311-test-0001' },
      headers: { authorization: `Bearer ${await key('HOUSING_BUREAU')}` },
    });
    expect(r.status).toBe(201);
    expect(r.body[0].service_request_id).toBe(id);
  });

  test('GET requests.json filters by service_request_id, service_code, status and dates', async () => {
    const k = await key('HOUSING_BUREAU');
    const ids = async (qs: string) => (await call('GET', `/requests.json?jurisdiction_id=nanjing&api_key=${k}&${qs}`)).body.map((x: any) => x.service_request_id);
    expect(await ids(`service_request_id=${id}`)).toEqual([id]);
    expect(await ids('service_code=REPAIR&status=open')).toContain(id);
    expect(await ids('service_code=WATER')).not.toContain(id);
    expect(await ids('status=closed')).not.toContain(id);
    expect(await ids('start_date=2026-03-11T00:00:00Z&end_date=2026-03-12T00:00:00Z')).not.toContain(id);
    expect(await ids('start_date=2026-03-09T00:00:00Z&end_date=2026-03-11T00:00:00Z')).toContain(id);
  });
});

describe('jurisdiction_id is optional (GeoReport v2)', () => {
  let nanjing: string;
  let lianyungang: string;

  test('a POST without jurisdiction_id takes the jurisdiction of its 小区', async () => {
    const k = await key('HOUSING_BUREAU');
    const a = await call('POST', '/requests.json', { form: { api_key: k, service_code: 'WATER', address_id: DEMO.ruijin, description: '停水了', client_key: 'open311-test-nj-1' } });
    const b = await call('POST', '/requests.json', { form: { api_key: k, service_code: 'NOISE', address_id: DEMO.dongfang, description: '夜间施工噪声', client_key: 'open311-test-lyg-1' } });
    expect([a.status, b.status]).toEqual([201, 201]);
    nanjing = a.body[0].service_request_id;
    lianyungang = b.body[0].service_request_id;
    const there = await call('GET', `/requests.json?jurisdiction_id=lianyungang&api_key=${k}&service_request_id=${lianyungang}`);
    expect(there.body.map((r: any) => r.service_request_id)).toEqual([lianyungang]);
    const notHere = await call('GET', `/requests.json?jurisdiction_id=nanjing&api_key=${k}&service_request_id=${lianyungang}`);
    expect(notHere.body).toEqual([]);
  });

  test('GET requests.json without jurisdiction_id answers the requests of every jurisdiction, in requested order', async () => {
    const k = await key('HOUSING_BUREAU');
    const all = await call('GET', `/requests.json?api_key=${k}`);
    expect(all.status).toBe(200);
    const ids = all.body.map((r: any) => r.service_request_id);
    expect(ids).toEqual(expect.arrayContaining([nanjing, lianyungang]));
    const nj = (await call('GET', `/requests.json?jurisdiction_id=nanjing&api_key=${k}`)).body.map((r: any) => r.service_request_id);
    const lyg = (await call('GET', `/requests.json?jurisdiction_id=lianyungang&api_key=${k}`)).body.map((r: any) => r.service_request_id);
    expect([...ids].sort()).toEqual([...nj, ...lyg].sort());
    const times = all.body.map((r: any) => r.requested_datetime);
    expect(times).toEqual([...times].sort());
    // Filters apply across jurisdictions too.
    const noise = await call('GET', `/requests.json?api_key=${k}&service_code=NOISE`);
    expect(noise.body.map((r: any) => r.service_request_id)).toContain(lianyungang);
    expect(noise.body.every((r: any) => r.service_code === 'NOISE')).toBe(true);
  });

  test('pages without jurisdiction_id are cut from the merged list; a page beyond the merge limit is a 400 in the standard array', async () => {
    const k = await key('HOUSING_BUREAU');
    const all = (await call('GET', `/requests.json?api_key=${k}`)).body.map((r: any) => r.service_request_id);
    expect(all.length).toBeGreaterThanOrEqual(2);
    const second = await call('GET', `/requests.json?api_key=${k}&page=2&page_size=1`);
    expect(second.body.map((r: any) => r.service_request_id)).toEqual([all[1]]);
    const deep = await call('GET', `/requests.json?api_key=${k}&page=11&page_size=100`);
    expect(deep.status).toBe(400);
    expect(deep.body).toEqual([{ code: 400, description: expect.stringMatching(/jurisdiction_id/) }]);
  });

  test('GET requests/{id}.json without jurisdiction_id finds a request of either city, public view for anonymous callers', async () => {
    const r = await call('GET', `/requests/${lianyungang}.json`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual([expect.objectContaining({ service_request_id: lianyungang, service_code: 'NOISE', address_id: DEMO.dongfang })]);
    expect(r.text).not.toMatch(/夜间施工/);
    const missing = await call('GET', '/requests/tk_nothing_here.json');
    expect(missing.status).toBe(404);
  });
});

describe('errors in the standard array', () => {
  test('a POST without api_key is a 401', async () => {
    const r = await call('POST', '/requests.json', { form: { jurisdiction_id: 'nanjing', service_code: 'REPAIR', address_id: DEMO.ruijin, description: 'x' } });
    expect(r.status).toBe(401);
    expect(r.body).toEqual([{ code: 401, description: 'api_key is required to submit a request' }]);
  });

  test('a tampered api_key is a 401', async () => {
    const r = await call('GET', `/requests.json?jurisdiction_id=nanjing&api_key=${(await key('HOUSING_BUREAU')).slice(0, -4)}AAAA`);
    expect(r.status).toBe(401);
    expect(r.body).toEqual(ERROR);
  });

  test('a caller without the write scope is a 403', async () => {
    const r = await call('POST', '/requests.json', { form: { api_key: await key('CIVIL_AFFAIRS'), jurisdiction_id: 'nanjing', service_code: 'REPAIR', address_id: DEMO.ruijin, description: '路灯坏了' } });
    expect(r.status).toBe(403);
    expect(r.body).toEqual(ERROR);
  });

  test('a missing parameter, an unknown service code or 小区 and a bad status are 400s naming the problem', async () => {
    const k = await key('HOUSING_BUREAU');
    const missing = await call('POST', '/requests.json', { form: { api_key: k, jurisdiction_id: 'nanjing', address_id: DEMO.ruijin, description: 'x' } });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual([{ code: 400, description: 'service_code is required' }]);
    const code = await call('POST', '/requests.json', { form: { api_key: k, jurisdiction_id: 'nanjing', service_code: 'NO_SUCH', address_id: DEMO.ruijin, description: 'x' } });
    expect(code.status).toBe(400);
    expect(code.body[0].description).toMatch(/NO_SUCH/);
    const place = await call('POST', '/requests.json', { form: { api_key: k, jurisdiction_id: 'nanjing', service_code: 'REPAIR', address_id: 'cm_320104_9999', description: 'x' } });
    expect([400, 404]).toContain(place.status);
    expect(place.body).toEqual([{ code: place.status, description: expect.stringMatching(/cm_320104_9999|community/) }]);
    const status = await call('GET', '/requests.json?jurisdiction_id=nanjing&status=pending');
    expect(status.body).toEqual([{ code: 400, description: 'status must be open or closed, got "pending"' }]);
    const jurisdiction = await call('GET', '/requests.json?jurisdiction_id=atlantis');
    expect(jurisdiction.status).toBe(400);
    expect(jurisdiction.body).toEqual([{ code: 400, description: expect.stringMatching(/atlantis/) }]);
  });

  test('an unknown request id is a 404', async () => {
    const r = await call('GET', '/requests/tk_nothing_here.json?jurisdiction_id=nanjing');
    expect(r.status).toBe(404);
    expect(r.body).toEqual([{ code: 404, description: 'no request with service_request_id "tk_nothing_here"' }]);
  });
});

describe('through the gateway pass-through', () => {
  let proxy: Listening;
  beforeAll(async () => {
    const app = express();
    registerOpen311Proxy(app, () => gov.url);
    proxy = await listen(require('node:http').createServer(app), 0, '127.0.0.1', '/');
  });
  afterAll(async () => {
    await proxy?.close();
  });

  test('GET and POST answer as the subgraph does', async () => {
    const via = proxy.url.replace(/\/$/, '') + '/open311/v2';
    const direct = await call('GET', '/services.json');
    const passed = await fetch(`${via}/services.json`);
    expect(passed.status).toBe(200);
    expect(await passed.json()).toEqual(direct.body);
    const post = await fetch(`${via}/requests.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ api_key: await key('HOUSING_BUREAU'), jurisdiction_id: 'nanjing', service_code: 'WATER', address_id: DEMO.ruijin, description: '停水了' }).toString(),
    });
    expect(post.status).toBe(201);
    const [created] = (await post.json()) as { service_request_id: string }[];
    const got = await fetch(`${via}/requests/${created!.service_request_id}.json?jurisdiction_id=nanjing`);
    expect(((await got.json()) as { service_code: string }[])[0]!.service_code).toBe('WATER');
  });
});
