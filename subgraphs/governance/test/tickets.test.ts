/**
 * Service tickets over HTTP: intake (Open311-compatible, idempotent), the 12345 closed loop with its
 * transition table, deadlines and the overdue flag, notes history, statistics computed by the
 * database, and the Open311 GeoReport v2 projection without reporter data.
 */
import { gql, startTestDatabase, type Engine } from '../../../test/helpers/subgraph';
import { authHeader } from '../../../test/helpers/tokens';
import { maskPersonalData } from '../services/open311';
import { DEMO, DEMO_COMPANIES } from '../seed';
import { startGovernance, TICKET_FIELDS, type GovernanceUnderTest } from './helpers';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestDatabase();
});
afterAll(async () => {
  await engine?.stop();
});

const CREATE = `mutation($input: CreateServiceTicketInput!) { createServiceTicket(input: $input) { ${TICKET_FIELDS} serviceName company { uscc } community { id } } }`;
const MOVE = `mutation($input: TransitionTicketInput!) { transitionTicket(input: $input) { ${TICKET_FIELDS} } }`;

const baseInput = (extra: Record<string, unknown> = {}) => ({
  communityId: DEMO.ruijin,
  channel: 'ONSITE_12345_DESK',
  serviceCode: 'EBIKE_CHARGING',
  description: '电动车充电桩不够用',
  ...extra,
});

/** Moves a ticket through the given statuses at the given times. */
async function walk(g: GovernanceUnderTest, id: string, steps: [string, string, Record<string, unknown>?][]) {
  let last: any;
  for (const [to, at, extra] of steps) last = (await g.q(MOVE, { input: { id, to, at, ...extra } })).transitionTicket;
  return last;
}

/** 派单 15 min and 办理 30 min after the request, then 回复/办结/回访/评价 at `resolvedAt`. */
const FULL_LOOP = (requestedAt: string, resolvedAt: string, satisfaction = 'SATISFIED'): [string, string, Record<string, unknown>?][] => {
  const plus = (min: number) => new Date(new Date(requestedAt).getTime() + min * 60_000).toISOString();
  return [
    ['DISPATCHED', plus(15), { assigneeOrg: '明商集团恒兆公司', actorOrg: '12345中心' }],
    ['IN_PROGRESS', plus(30)],
    ['REPLIED', resolvedAt, { note: '已增设充电桩' }],
    ['RESOLVED', resolvedAt],
    ['RETURN_VISITED', resolvedAt, { satisfaction }],
    ['EVALUATED', resolvedAt],
  ];
};

describe('ticket intake and the 12345 loop', () => {
  let g: GovernanceUnderTest;
  beforeAll(async () => {
    g = await startGovernance(engine.uri, '2026-03-02T02:00:00Z'); // Monday 10:00 in Beijing
  });
  afterAll(() => g?.close());

  it('accepts an Open311-style request as RECEIVED, due 5 working days later, attributed to the serving company', async () => {
    const { createServiceTicket: t } = await g.q(CREATE, { input: baseInput({ jurisdictionId: 'nanjing' }) });
    expect(t).toMatchObject({
      status: 'RECEIVED',
      open311Status: 'open',
      requestedAt: '2026-03-02T02:00:00.000Z',
      dueAt: '2026-03-09T15:59:59.999Z',
      isOverdue: false,
      resolvedAt: null,
      reopenCount: 0,
      serviceName: '电动车充电',
      company: { uscc: DEMO_COMPANIES.hengzhao },
      community: { id: DEMO.ruijin },
      allowedTransitions: ['DISPATCHED', 'REPLIED', 'CANCELLED'],
    });
    expect(t.id).toMatch(/^tk_[0-9a-f]{24}$/);
    expect(t.notes).toEqual([{ type: 'CREATED', from: null, to: 'RECEIVED', text: null, actorOrg: null, at: '2026-03-02T02:00:00.000Z' }]);
  });

  it('refuses input it cannot accept, naming the argument', async () => {
    const empty = await g.raw(CREATE, { input: baseInput({ description: '   ' }) });
    expect(empty.errors?.[0]).toMatchObject({ message: 'description: must not be empty', extensions: { code: 'BAD_USER_INPUT', field: 'description' } });
    const long = await g.raw(CREATE, { input: baseInput({ description: '长'.repeat(4001) }) });
    expect(long.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'description' });
    const wrongCity = await g.raw(CREATE, { input: baseInput({ jurisdictionId: 'lianyungang' }) });
    expect(wrongCity.errors?.[0].extensions?.field).toBe('jurisdictionId');
    const unknown = await g.raw(CREATE, { input: baseInput({ communityId: 'cm_nowhere' }) });
    expect(unknown.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const future = await g.raw(CREATE, { input: baseInput({ requestedAt: '2026-03-05T00:00:00Z' }) });
    expect(future.errors?.[0].extensions?.field).toBe('requestedAt');
    const badUrl = await g.raw(CREATE, { input: baseInput({ mediaUrls: ['javascript:alert(1)'] }) });
    expect(badUrl.errors?.[0].extensions?.field).toBe('mediaUrls');
  });

  it('is idempotent by clientKey: a replay returns the same ticket, a different input under the key is a CONFLICT', async () => {
    const input = baseInput({ clientKey: 'desk-0302-001', description: '楼道堆放杂物' });
    const a = (await g.q(CREATE, { input })).createServiceTicket;
    const b = (await g.q(CREATE, { input })).createServiceTicket;
    expect(b.id).toBe(a.id);
    const clash = await g.raw(CREATE, { input: { ...input, description: '别的问题' } });
    expect(clash.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', existingId: a.id });
    const count = await g.q(`{ tickets(filter: { communityId: "${DEMO.ruijin}" }) { totalCount } }`);
    expect(count.tickets.totalCount).toBe(2);
  });

  it('keeps 12345 numbers unique', async () => {
    await g.q(CREATE, { input: baseInput({ externalNo: '12345-2026-000001' }) });
    const dup = await g.raw(CREATE, { input: baseInput({ externalNo: '12345-2026-000001', description: 'x' }) });
    expect(dup.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(dup.errors?.[0].message).toMatch(/^externalNo 12345-2026-000001 already belongs to ticket tk_/);
    const found = await g.q(`{ serviceTicket(externalNo: "12345-2026-000001") { externalNo status } }`);
    expect(found.serviceTicket).toEqual({ externalNo: '12345-2026-000001', status: 'RECEIVED' });
  });

  it('takes a 12345 number only as a case number: free text (a name, a door, a phone) is BAD_USER_INPUT and nothing is written', async () => {
    const before = await g.conn.collection('service_tickets').countDocuments();
    for (const externalNo of ['住户王秀英家5栋2单元301室', '12345 138 1111 2222', '１２３４５-2026-000009']) {
      const res = await g.raw(CREATE, { input: baseInput({ externalNo }) });
      expect([externalNo, res.errors?.[0].extensions?.code, res.errors?.[0].extensions?.field]).toEqual([externalNo, 'BAD_USER_INPUT', 'externalNo']);
    }
    expect(await g.conn.collection('service_tickets').countDocuments()).toBe(before);
  });

  it('takes published organisation names without personal data: a phone or door number in assigneeOrg or actorOrg is BAD_USER_INPUT, the ticket unchanged', async () => {
    const { createServiceTicket: t } = await g.q(CREATE, { input: baseInput({ description: '路灯不亮' }) });
    const before = await g.conn.collection('service_tickets').findOne({ _id: t.id });
    const dispatch = await g.raw(MOVE, { input: { id: t.id, to: 'DISPATCHED', assigneeOrg: '维修工 １３７ ０００１ ２３４５' } });
    expect([dispatch.errors?.[0].extensions?.code, dispatch.errors?.[0].extensions?.field]).toEqual(['BAD_USER_INPUT', 'assigneeOrg']);
    const note = await g.raw(`mutation { addTicketNote(id: "${t.id}", text: "已联系", actorOrg: "5栋2单元301室住户") { id } }`);
    expect([note.errors?.[0].extensions?.code, note.errors?.[0].extensions?.field]).toEqual(['BAD_USER_INPUT', 'actorOrg']);
    expect(await g.conn.collection('service_tickets').findOne({ _id: t.id })).toEqual(before);
    const ok = await g.raw(MOVE, { input: { id: t.id, to: 'DISPATCHED', assigneeOrg: '南京谐扬物业管理有限公司' } });
    expect(ok.errors).toBeUndefined();
  });

  it('runs the whole loop 受理→派单→办理→回复→办结→回访→评价 and keeps every step in the notes', async () => {
    g.setNow('2026-03-06T10:00:00Z');
    const { createServiceTicket: t } = await g.q(CREATE, { input: baseInput({ requestedAt: '2026-03-02T02:00:00Z', description: '充电难' }) });
    const end = await walk(g, t.id, FULL_LOOP('2026-03-02T02:00:00Z', '2026-03-03T02:00:00Z'));
    expect(end).toMatchObject({
      status: 'EVALUATED',
      open311Status: 'closed',
      resolvedAt: '2026-03-03T02:00:00.000Z',
      hoursToResolve: 24,
      resolvedLate: false,
      satisfaction: 'SATISFIED',
      assigneeOrg: '明商集团恒兆公司',
      allowedTransitions: ['DISPATCHED'],
    });
    expect(end.notes.map((n: any) => n.to)).toEqual(['RECEIVED', 'DISPATCHED', 'IN_PROGRESS', 'REPLIED', 'RESOLVED', 'RETURN_VISITED', 'EVALUATED']);
    expect(end.notes[1]).toMatchObject({ type: 'STATUS_CHANGE', from: 'RECEIVED', to: 'DISPATCHED', actorOrg: '12345中心' });
    expect(end.notes[3].text).toBe('已增设充电桩');
    const again = await g.raw(MOVE, { input: { id: t.id, to: 'DISPATCHED', note: '再办', assigneeOrg: 'X' } });
    expect(again.errors?.[0].message).toMatch(/evaluated SATISFIED cannot be reopened/);
  });

  it('refuses an illegal transition with an error naming from and to, and leaves the ticket unchanged', async () => {
    const { createServiceTicket: t } = await g.q(CREATE, { input: baseInput({ description: '卫生差' }) });
    const res = await g.raw(MOVE, { input: { id: t.id, to: 'RESOLVED' } });
    expect(res.errors?.[0]).toMatchObject({
      message: 'to: illegal ticket transition from RECEIVED to RESOLVED; from RECEIVED a ticket may move to DISPATCHED, REPLIED, CANCELLED',
      extensions: { code: 'BAD_USER_INPUT', from: 'RECEIVED', to: 'RESOLVED', allowed: ['DISPATCHED', 'REPLIED', 'CANCELLED'] },
    });
    const after = await g.q(`query($id: ID!) { serviceTicket(id: $id) { status notes { to } } }`, { id: t.id });
    expect(after.serviceTicket).toEqual({ status: 'RECEIVED', notes: [{ to: 'RECEIVED' }] });
  });

  it('guards concurrent and back-dated moves', async () => {
    const { createServiceTicket: t } = await g.q(CREATE, { input: baseInput({ description: '杂物' }) });
    const stale = await g.raw(MOVE, { input: { id: t.id, to: 'DISPATCHED', assigneeOrg: '物业', expectedStatus: 'IN_PROGRESS' } });
    expect(stale.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', status: 'RECEIVED' });
    const early = await g.raw(MOVE, { input: { id: t.id, to: 'DISPATCHED', assigneeOrg: '物业', at: '2026-03-01T00:00:00Z' } });
    expect(early.errors?.[0].extensions?.field).toBe('at');
    const missing = await g.raw(MOVE, { input: { id: 'tk_nope', to: 'DISPATCHED', assigneeOrg: '物业' } });
    expect(missing.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('flags open tickets past their deadline as overdue and finds them for the backlog', async () => {
    g.setNow('2026-03-02T04:00:00Z');
    const { createServiceTicket: t } = await g.q(CREATE, {
      input: baseInput({ communityId: DEMO.yijiang, serviceCode: 'DOG', channel: 'HOTLINE_12345', description: '楼下有狗', requestedAt: '2026-03-02T02:00:00Z' }),
    });
    await walk(g, t.id, [['DISPATCHED', '2026-03-02T03:00:00Z', { assigneeOrg: '南京谐扬物业管理有限公司' }]]);
    g.setNow('2026-03-10T01:00:00Z'); // Tuesday after the deadline (Mon 9 Mar, end of day)
    const backlog = await g.q(`{ tickets(filter: { districtCode: "320113", status: [RECEIVED, DISPATCHED, IN_PROGRESS, SUPERVISING], overdue: true }) {
      totalCount edges { node { id isOverdue dueAt serviceCode community { id } } } } }`);
    expect(backlog.tickets.totalCount).toBe(1);
    expect(backlog.tickets.edges[0].node).toEqual({ id: t.id, isOverdue: true, dueAt: '2026-03-09T15:59:59.999Z', serviceCode: 'DOG', community: { id: DEMO.yijiang } });
    const notOverdue = await g.q(`{ tickets(filter: { districtCode: "320113", overdue: false }) { totalCount } }`);
    expect(notOverdue.tickets.totalCount).toBe(0);
    // 督办 then a deferral extends the deadline by working days.
    const deferred = await walk(g, t.id, [
      ['SUPERVISING', '2026-03-10T01:00:00Z', { note: '超期督办', actorOrg: '12345中心' }],
      ['IN_PROGRESS', '2026-03-10T01:00:00Z'],
      ['DEFERRED', '2026-03-10T01:00:00Z', { note: '需协调执法', deferWorkingDays: 5 }],
    ]);
    expect(deferred).toMatchObject({ status: 'DEFERRED', dueAt: '2026-03-16T15:59:59.999Z', isOverdue: false });
  });

  it('adds a comment without changing the status', async () => {
    const { createServiceTicket: t } = await g.q(CREATE, { input: baseInput({ description: '噪声' }) });
    const res = await g.q(`mutation($id: ID!) { addTicketNote(id: $id, text: "已电话联系", actorOrg: "街道物管办") { status statusNotes notes { type text } } }`, { id: t.id });
    expect(res.addTicketNote).toEqual({ status: 'RECEIVED', statusNotes: '已电话联系', notes: [{ type: 'CREATED', text: null }, { type: 'COMMENT', text: '已电话联系' }] });
  });

  it('pages through tickets newest first with a cursor', async () => {
    const first = await g.q(`{ tickets(first: 2) { totalCount edges { node { requestedAt } } pageInfo { hasNextPage endCursor } } }`);
    const total = first.tickets.totalCount;
    expect(total).toBeGreaterThan(3);
    const seen: string[] = first.tickets.edges.map((e: any) => e.node.requestedAt);
    let cursor = first.tickets.pageInfo.endCursor;
    while (cursor) {
      const next = await g.q(`query($a: String) { tickets(first: 2, after: $a) { edges { node { requestedAt } } pageInfo { endCursor hasNextPage } } }`, { a: cursor });
      seen.push(...next.tickets.edges.map((e: any) => e.node.requestedAt));
      cursor = next.tickets.pageInfo.hasNextPage ? next.tickets.pageInfo.endCursor : null;
    }
    expect(seen).toHaveLength(total);
    expect([...seen].sort().reverse()).toEqual(seen);
    const bad = await g.raw(`{ tickets(after: "garbage") { totalCount } }`);
    expect(bad.errors?.[0].extensions?.field).toBe('after');
  });

  it('publishes the transition table', async () => {
    const res = await g.q(`{ ticketTransitions { from to } }`);
    expect(res.ticketTransitions).toContainEqual({ from: 'REPLIED', to: ['SUPERVISING', 'RESOLVED'] });
    expect(res.ticketTransitions).toHaveLength(11);
  });
});

describe('ticket statistics (computed by the database)', () => {
  let g: GovernanceUnderTest;
  beforeAll(async () => {
    g = await startGovernance(engine.uri, '2026-03-20T02:00:00Z');
    // Five tickets at 东方瑞园 (连云港), resolved after 10 h, 20 h, 30 h, 40 h and 200 h; one is rated
    // 不满意 and reopened, one stays open past its deadline, one is a heating ticket still open.
    const hours = [10, 20, 30, 40, 200];
    const codes = ['SANITATION', 'SANITATION', 'FEE', 'FEE', 'SANITATION'];
    for (let i = 0; i < hours.length; i++) {
      const requested = new Date(Date.UTC(2026, 2, 2, 2) + i * 3600_000);
      const resolved = new Date(requested.getTime() + hours[i] * 3600_000).toISOString();
      const { createServiceTicket: t } = await g.q(CREATE, {
        input: { communityId: DEMO.dongfang, channel: 'HOTLINE_12345', serviceCode: codes[i], description: `诉求${i}`, requestedAt: requested.toISOString() },
      });
      await walk(g, t.id, FULL_LOOP(requested.toISOString(), resolved, i === 4 ? 'DISSATISFIED' : i === 3 ? 'BASICALLY_SATISFIED' : 'SATISFIED'));
      if (i === 4) await walk(g, t.id, [['DISPATCHED', resolved, { note: '不满意，重办' }], ['IN_PROGRESS', resolved], ['REPLIED', resolved], ['RESOLVED', resolved]]);
    }
    await g.q(CREATE, { input: { communityId: DEMO.dongfang, channel: 'WECHAT', serviceCode: 'HEATING', description: '暖气不热', requestedAt: '2026-03-03T02:00:00Z' } });
    await g.q(CREATE, { input: { communityId: DEMO.ruijin, channel: 'WECHAT', serviceCode: 'FEE', description: '收费疑问', requestedAt: '2026-03-19T02:00:00Z' } });
  });
  afterAll(() => g?.close());

  const STATS = `opened resolved backlog overdue medianHoursToResolve p90HoursToResolve onTimeRate satisfiedRate dissatisfiedRate reopenRate`;

  it('counts opened, resolved and backlog, with nearest-rank median and p90 hours, on City, District, Community and PropertyCompany', async () => {
    const res = await g.q(
      `query($r: [_Any!]!) { _entities(representations: $r) {
        ... on City { ticketStats(range: LAST_30D) { ${STATS} } }
        ... on District { ticketStats(range: LAST_30D) { opened backlog } }
        ... on Community { ticketStats(range: LAST_30D) { opened resolved } }
        ... on PropertyCompany { ticketStats(range: LAST_30D) { opened resolved } } } }`,
      {
        r: [
          { __typename: 'City', code: '320700' },
          { __typename: 'District', code: '320706' },
          { __typename: 'Community', id: DEMO.dongfang },
          { __typename: 'PropertyCompany', uscc: DEMO_COMPANIES.yanghui },
          { __typename: 'City', code: '320100' },
        ],
      },
    );
    const [city, district, community, company, nanjing] = res._entities;
    expect(city.ticketStats).toEqual({
      opened: 6,
      resolved: 5,
      backlog: 1,
      overdue: 1,
      medianHoursToResolve: 30,
      p90HoursToResolve: 200,
      onTimeRate: 1, // 200 h would be late, but the reopen (重办) restarted that ticket's deadline
      satisfiedRate: 0.8, // 满意 ×3 + 基本满意 ×1 of 5 first ratings
      dissatisfiedRate: 0.2, // the 不满意 still counts although the ticket was reopened
      reopenRate: 0.2,
    });
    expect(district.ticketStats).toEqual({ opened: 6, backlog: 1 });
    expect(community.ticketStats).toEqual({ opened: 6, resolved: 5 });
    expect(company.ticketStats).toEqual({ opened: 6, resolved: 5 });
    expect(nanjing.ticketStats).toMatchObject({ opened: 1, resolved: 0, backlog: 1, overdue: 0, medianHoursToResolve: null, satisfiedRate: null });
  });

  it('groups by service code with p50/p90 hours, reopen and dissatisfaction rates', async () => {
    const res = await g.q(`{ ticketStats(scope: { cityCode: "320700" }, range: LAST_30D, groupBy: SERVICE_CODE) {
      opened resolved medianHoursToResolve groups { key opened resolved backlog p50Hours p90Hours reopenRate dissatisfiedRate satisfiedRate } } }`);
    expect(res.ticketStats).toMatchObject({ opened: 6, resolved: 5, medianHoursToResolve: 30 });
    expect(res.ticketStats.groups).toEqual([
      { key: 'FEE', opened: 2, resolved: 2, backlog: 0, p50Hours: 30, p90Hours: 40, reopenRate: 0, dissatisfiedRate: 0, satisfiedRate: 1 },
      { key: 'HEATING', opened: 1, resolved: 0, backlog: 1, p50Hours: null, p90Hours: null, reopenRate: null, dissatisfiedRate: null, satisfiedRate: null },
      { key: 'SANITATION', opened: 3, resolved: 3, backlog: 0, p50Hours: 20, p90Hours: 200, reopenRate: 1 / 3, dissatisfiedRate: 1 / 3, satisfiedRate: 2 / 3 },
    ]);
  });

  it('takes ranges relative to now', async () => {
    g.setNow('2026-06-30T02:00:00Z');
    const res = await g.q(`{ a: ticketStats(scope: { cityCode: "320700" }, range: LAST_30D) { opened resolved backlog } b: ticketStats(scope: { cityCode: "320700" }, range: ALL) { opened } }`);
    expect(res.a).toEqual({ opened: 0, resolved: 0, backlog: 1 }); // backlog is "open now", whatever the range
    expect(res.b).toEqual({ opened: 6 });
    g.setNow('2026-03-20T02:00:00Z');
  });

  it('projects tickets to Open311 GeoReport v2 without reporter data; its content for holders of governance:cases only', async () => {
    const { createServiceTicket: t } = await g.q(CREATE, {
      input: {
        communityId: DEMO.dongfang, channel: 'APP', serviceCode: 'WATER', description: '停水了，回电13800001234',
        location: { lat: 34.5967, long: 119.2216, datum: 'GCJ02' }, addressString: '东方瑞园3幢', mediaUrls: ['https://img.example/a.jpg'],
        reporter: { firstName: '李', lastName: '四', phone: '13800001234', email: 'li4@example.cn' },
      },
    });
    const OPEN311 = `{ open311Requests(jurisdictionId: "lianyungang", serviceCode: [WATER]) {
      service_request_id status status_notes service_name service_code description agency_responsible service_notice
      requested_datetime updated_datetime expected_datetime address address_id zipcode lat long media_url } }`;
    const res = await gql(g.url, OPEN311, undefined, await authHeader('HOUSING_BUREAU'));
    expect(res.errors).toBeUndefined();
    expect((res.data as any).open311Requests).toHaveLength(1);
    const r = (res.data as any).open311Requests[0];
    expect(r).toMatchObject({
      service_request_id: t.id, status: 'open', service_code: 'WATER', service_name: '供水', description: '停水了，回电[手机号已隐去]',
      requested_datetime: '2026-03-20T02:00:00.000Z', expected_datetime: '2026-03-27T15:59:59.999Z', address: '东方瑞园3幢', media_url: 'https://img.example/a.jpg',
      address_id: DEMO.dongfang,
    });
    expect(Math.abs(r.lat - 34.5967)).toBeGreaterThan(1e-4); // converted to WGS84 from the GCJ-02 input
    expect(Math.abs(r.lat - 34.5967)).toBeLessThan(1e-2);
    expect(JSON.stringify(res)).not.toMatch(/13800001234|li4@|"李"|"四"/);
    // The public view: the 小区 as the location, no free text, address, spot or media.
    const anonymous = await g.raw(OPEN311);
    expect((anonymous.data as any).open311Requests[0]).toMatchObject({
      service_request_id: t.id, status: 'open', service_code: 'WATER', address_id: DEMO.dongfang,
      status_notes: null, description: null, address: null, lat: null, long: null, media_url: null,
    });
    expect(anonymous.errors?.map((e) => [e.path?.slice(2).join('.'), e.extensions?.code]).sort()).toEqual(
      ['address', 'description', 'lat', 'long', 'media_url', 'status_notes'].map((f) => [f, 'UNAUTHENTICATED']),
    );
    expect(JSON.stringify(anonymous)).not.toMatch(/停水|东方瑞园3幢|img\.example|34\.59/);
    const own = await gql(g.url, `query($id: ID!) { serviceTicket(id: $id) { text reporterAnonymous } }`, { id: t.id }, await authHeader('HOUSING_BUREAU'));
    expect(own.data!.serviceTicket).toEqual({ text: '停水了，回电[手机号已隐去]', reporterAnonymous: false });

    const closed = await g.q(`{ open311Requests(jurisdictionId: "320700", status: closed, pageSize: 2, page: 1) { service_request_id status updated_datetime } }`);
    expect(closed.open311Requests).toHaveLength(2);
    expect(closed.open311Requests.every((x: any) => x.status === 'closed')).toBe(true);
    const byId = await g.q(`query($ids: [ID!]) { open311Requests(jurisdictionId: "lianyungang", serviceRequestIds: $ids, status: closed) { service_request_id status } }`, { ids: [t.id] });
    expect(byId.open311Requests).toEqual([{ service_request_id: t.id, status: 'open' }]); // service_request_id overrides other arguments
    const nanjing = await g.q(`{ open311Requests(jurisdictionId: "nanjing") { service_code } }`);
    expect(nanjing.open311Requests).toEqual([{ service_code: 'FEE' }]);
    const unknown = await g.raw(`{ open311Requests(jurisdictionId: "atlantis") { service_code } }`);
    expect(unknown.errors?.[0].extensions?.field).toBe('jurisdictionId');
    const services = await g.q(`{ open311Services { service_code service_name metadata type group } }`);
    expect(services.open311Services).toContainEqual({ service_code: 'EBIKE_CHARGING', service_name: '电动车充电', metadata: false, type: 'realtime', group: '物业管理' });
  });
});

describe('the content of a ticket is personal data', () => {
  let g: GovernanceUnderTest;
  let id: string;
  const CONTENT = `query($id: ID!) { serviceTicket(id: $id) { id status serviceCode community { id } description mediaUrls
    text addressString location { lat lng } media statusNotes notes { type actorOrg text } open311 { service_code address_id description } } }`;
  beforeAll(async () => {
    g = await startGovernance(engine.uri, '2026-03-20T02:00:00Z');
    const { createServiceTicket: t } = await g.q(CREATE, {
      input: baseInput({
        description: '3栋2单元502 张建国 138 1234 5678',
        addressString: '瑞金新村3栋2单元502',
        location: { lat: 32.03, long: 118.81 },
        mediaUrls: ['https://img.example/door.jpg'],
      }),
    });
    id = t.id;
    await g.q(`mutation($id: ID!) { addTicketNote(id: $id, text: "已联系李女士 139-0000-1111", actorOrg: "街道物管办") { id } }`, { id });
  });
  afterAll(async () => g?.close());

  it('an anonymous caller gets the ticket’s status and 小区 but null with UNAUTHENTICATED for every content field, and the deprecated fields carry nothing', async () => {
    const res = await g.raw(CONTENT, { id });
    expect((res.data as any).serviceTicket).toMatchObject({
      id, status: 'RECEIVED', serviceCode: 'EBIKE_CHARGING', community: { id: DEMO.ruijin },
      description: '[已隐去：见 text 字段]', mediaUrls: [],
      text: null, addressString: null, location: null, media: null, statusNotes: null,
      notes: [{ type: 'CREATED', actorOrg: null, text: null }, { type: 'COMMENT', actorOrg: '街道物管办', text: null }],
      open311: { service_code: 'EBIKE_CHARGING', address_id: DEMO.ruijin, description: null },
    });
    const denied = res.errors!.map((e) => e.path!.slice(1).join('.')).sort();
    expect(denied).toEqual(['addressString', 'location', 'media', 'notes.0.text', 'notes.1.text', 'open311.description', 'statusNotes', 'text']);
    expect(new Set(res.errors!.map((e) => e.extensions?.code))).toEqual(new Set(['UNAUTHENTICATED']));
    // Ids are random hex (a ticket id may contain "502" or "1234"): leave them out of the search.
    expect(JSON.stringify(res).replace(/"(tk|cm)_[0-9a-z_]+"/g, '"<id>"')).not.toMatch(/张建国|1234|502|李女士|1111|door\.jpg|32\.03/);
  });

  it('a token without governance:cases (civil affairs) is refused the content with FORBIDDEN', async () => {
    const res = await gql(g.url, CONTENT, { id }, await authHeader('CIVIL_AFFAIRS'));
    expect(res.data!.serviceTicket).toMatchObject({ text: null, addressString: null, location: null, media: null, statusNotes: null });
    expect(new Set(res.errors!.map((e) => e.extensions?.code))).toEqual(new Set(['FORBIDDEN']));
    expect(JSON.stringify(res)).not.toMatch(/张建国|李女士|door\.jpg/);
  });

  it('the housing bureau reads the content with names and grouped phone numbers masked, and each read is audited under the ticket’s id', async () => {
    const res = await gql(g.url, CONTENT, { id }, { ...(await authHeader('HOUSING_BUREAU', { subject: 'test:housing' })), 'x-request-id': '0a1b2c3d-0000-4000-8000-000000000005' });
    expect(res.errors).toBeUndefined();
    expect(res.data!.serviceTicket).toMatchObject({
      text: '[门牌已隐去] [姓名已隐去] [手机号已隐去]', addressString: '瑞金新村3栋2单元502', location: { lat: 32.03, lng: 118.81 },
      media: ['https://img.example/door.jpg'], statusNotes: '已联系[姓名已隐去] [手机号已隐去]',
      notes: [{ type: 'CREATED', text: null }, { type: 'COMMENT', text: '已联系[姓名已隐去] [手机号已隐去]' }],
      open311: { description: '[门牌已隐去] [姓名已隐去] [手机号已隐去]' },
    });
    const audit = await g.conn.collection('audit_log').findOne({ requestId: '0a1b2c3d-0000-4000-8000-000000000005' });
    expect(audit).toMatchObject({ subject: 'test:housing', role: 'HOUSING_BUREAU' });
    const reads = Object.fromEntries((audit!.reads as { type: string; id: string; fields: string[] }[]).map((r) => [r.type, r]));
    expect(reads.ServiceTicket).toMatchObject({ id });
    expect([...reads.ServiceTicket.fields].sort()).toEqual(['addressString', 'location', 'media', 'statusNotes', 'text']);
    expect(reads.TicketNote).toEqual({ type: 'TicketNote', id, fields: ['text'] });
    expect(reads.Open311Request).toEqual({ type: 'Open311Request', id, fields: ['description'] });
  });

  it('a property company reads the content of the tickets of the 小区 it served, not of another company’s', async () => {
    const ticket = await g.conn.collection('service_tickets').findOne({ _id: id as never });
    const own = await gql(g.url, CONTENT, { id }, await authHeader('PROPERTY_COMPANY', { company: ticket!.companyUscc as string }));
    expect([own.errors, own.data!.serviceTicket.media]).toEqual([undefined, ['https://img.example/door.jpg']]);
    const other = await gql(g.url, CONTENT, { id }, await authHeader('PROPERTY_COMPANY', { company: '91320000OTHERCO000' }));
    expect(other.data!.serviceTicket).toMatchObject({ text: null, media: null, addressString: null });
    expect(new Set(other.errors!.map((e) => e.extensions?.code))).toEqual(new Set(['FORBIDDEN']));
  });
});

describe('masking free text', () => {
  it.each([
    ['3栋2单元502 张建国 138 1234 5678', '[门牌已隐去] [姓名已隐去] [手机号已隐去]'],
    ['回电 +86 139-0000-1111 或 025-8468 1234', '回电 [手机号已隐去] 或 [电话已隐去]'],
    ['联系人：欧阳娜娜', '联系人：[姓名已隐去]'],
    ['王阿姨家楼道灯坏了', '[姓名已隐去]家楼道灯坏了'],
    ['电梯故障，高层住户无法出行', '电梯故障，高层住户无法出行'],
    ['张家港路口积水', '张家港路口积水'],
  ])('masks “%s” as “%s”', (text, masked) => {
    expect(maskPersonalData(text)).toBe(masked);
  });
});
