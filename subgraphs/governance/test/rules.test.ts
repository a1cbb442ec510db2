/**
 * The governance rules as plain functions: the 12345 transition table and its guards, working-day
 * deadlines in China Standard Time, calendar months, Open311 coordinates and masking, the rubric.
 */
import { GraphQLError } from 'graphql';
import { allowedTransitions, isOpen, planTransition, TICKET_STATUSES, TRANSITIONS, type TicketState } from '../services/lifecycle';
import { bd09ToGcj02, gcj02ToWgs84, maskPersonalData, toOpen311, wgs84ToGcj02 } from '../services/open311';
import { DEFAULT_RUBRIC, evaluate, validateRubric, type Evidence } from '../services/rubric';
import { addWorkingDays, cstDate, lastCompleteMonths } from '../../../lib/clock';

const at = (iso: string) => new Date(iso);
const ticket = (status: string, extra: Partial<TicketState> = {}): TicketState => ({
  status,
  dueAt: at('2026-03-06T15:59:59.999Z'),
  requestedAt: at('2026-02-27T02:00:00Z'),
  lastTransitionAt: at('2026-02-27T02:00:00Z'),
  ...extra,
});

function errorOf(fn: () => unknown): GraphQLError {
  try {
    fn();
  } catch (e) {
    return e as GraphQLError;
  }
  throw new Error('expected an error');
}

describe('12345 transition table', () => {
  it('follows the closed loop 受理→派单→办理→回复→督办→办结→回访→评价', () => {
    const loop = ['RECEIVED', 'DISPATCHED', 'IN_PROGRESS', 'REPLIED', 'SUPERVISING', 'RESOLVED', 'RETURN_VISITED', 'EVALUATED'];
    for (let i = 0; i + 1 < loop.length; i++) expect(allowedTransitions(loop[i])).toContain(loop[i + 1]);
  });

  it('has a row for every status, and CANCELLED is terminal', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...TICKET_STATUSES].sort());
    expect(allowedTransitions('CANCELLED')).toEqual([]);
    for (const targets of Object.values(TRANSITIONS)) for (const t of targets) expect(TICKET_STATUSES).toContain(t);
  });

  it('allows every move in the table (with the arguments it needs) and refuses every other one of the 121 pairs', () => {
    const now = at('2026-03-01T00:00:00Z');
    let allowed = 0;
    let refused = 0;
    for (const from of TICKET_STATUSES) {
      for (const to of TICKET_STATUSES) {
        // The state and arguments a legal move needs: a 不满意 evaluation before a reopen, another
        // organisation after a 退单, a reason where one is required, a rating for an evaluation.
        const state = ticket(from, { assigneeOrg: '街道物业办', satisfaction: from === 'EVALUATED' ? 'DISSATISFIED' : from === 'RETURN_VISITED' ? 'SATISFIED' : null });
        const req = {
          to,
          note: '理由',
          assigneeOrg: to === 'DISPATCHED' ? '社区居委会' : null,
          satisfaction: to === 'RETURN_VISITED' || to === 'EVALUATED' ? ('SATISFIED' as const) : null,
        };
        if (TRANSITIONS[from].includes(to)) {
          const change = planTransition(state, req, now);
          expect(change.set).toMatchObject({ status: to, open: isOpen(to), lastTransitionAt: now });
          expect(change.note).toMatchObject({ from, to });
          allowed++;
        } else {
          const e = errorOf(() => planTransition(state, req, now));
          expect(e.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to', from, to, allowed: [...TRANSITIONS[from]] });
          refused++;
        }
      }
    }
    expect(allowed + refused).toBe(121);
    expect(allowed).toBe(Object.values(TRANSITIONS).reduce((n, t) => n + t.length, 0));
  });

  it('counts RESOLVED, RETURN_VISITED, EVALUATED and CANCELLED as closed (Open311), the rest as open', () => {
    expect(TICKET_STATUSES.filter((s) => !isOpen(s)).sort()).toEqual(['CANCELLED', 'EVALUATED', 'RESOLVED', 'RETURN_VISITED']);
  });

  it('refuses an illegal move with BAD_USER_INPUT naming from, to and what is allowed', () => {
    const e = errorOf(() => planTransition(ticket('RESOLVED'), { to: 'RECEIVED' }, at('2026-03-01T00:00:00Z')));
    expect(e.extensions).toMatchObject({ code: 'BAD_USER_INPUT', from: 'RESOLVED', to: 'RECEIVED', allowed: ['RETURN_VISITED', 'DISPATCHED'] });
    expect(e.message).toBe('to: illegal ticket transition from RESOLVED to RECEIVED; from RESOLVED a ticket may move to RETURN_VISITED, DISPATCHED');
  });

  it('refuses skipping the reply: IN_PROGRESS cannot go straight to RESOLVED', () => {
    expect(errorOf(() => planTransition(ticket('IN_PROGRESS'), { to: 'RESOLVED' }, at('2026-03-01T00:00:00Z'))).extensions?.from).toBe('IN_PROGRESS');
  });

  it('needs an assignee to dispatch, and a reason to return, cancel, defer or reopen', () => {
    const now = at('2026-03-01T00:00:00Z');
    expect(errorOf(() => planTransition(ticket('RECEIVED'), { to: 'DISPATCHED' }, now)).extensions?.field).toBe('assigneeOrg');
    expect(errorOf(() => planTransition(ticket('DISPATCHED'), { to: 'RETURNED' }, now)).extensions?.field).toBe('note');
    expect(errorOf(() => planTransition(ticket('RECEIVED'), { to: 'CANCELLED' }, now)).extensions?.field).toBe('note');
    expect(errorOf(() => planTransition(ticket('IN_PROGRESS'), { to: 'DEFERRED' }, now)).extensions?.field).toBe('note');
    expect(errorOf(() => planTransition(ticket('RESOLVED', { assigneeOrg: 'X' }), { to: 'DISPATCHED' }, now)).extensions?.field).toBe('note');
  });

  it('refuses to re-dispatch a returned ticket to the organisation that returned it', () => {
    const e = errorOf(() => planTransition(ticket('RETURNED', { assigneeOrg: '物业' }), { to: 'DISPATCHED', assigneeOrg: '物业' }, at('2026-03-01T00:00:00Z')));
    expect(e.extensions?.field).toBe('assigneeOrg');
  });

  it('records satisfaction only at the return visit or the evaluation, and an evaluation needs a real rating', () => {
    const now = at('2026-03-01T00:00:00Z');
    expect(errorOf(() => planTransition(ticket('REPLIED'), { to: 'RESOLVED', satisfaction: 'SATISFIED' }, now)).extensions?.field).toBe('satisfaction');
    expect(errorOf(() => planTransition(ticket('RETURN_VISITED', { satisfaction: 'UNREACHABLE' }), { to: 'EVALUATED' }, now)).extensions?.field).toBe('satisfaction');
    expect(planTransition(ticket('RETURN_VISITED', { satisfaction: 'BASICALLY_SATISFIED' }), { to: 'EVALUATED' }, now).set.satisfaction).toBe('BASICALLY_SATISFIED');
  });

  it('reopens (重办) only after a 不满意 evaluation, clearing the outcome and restarting the deadline', () => {
    const now = at('2026-03-02T02:00:00Z'); // Monday 10:00 CST
    expect(errorOf(() => planTransition(ticket('EVALUATED', { satisfaction: 'SATISFIED', assigneeOrg: 'X' }), { to: 'DISPATCHED', note: 'again' }, now)).extensions?.field).toBe('to');
    const change = planTransition(ticket('EVALUATED', { satisfaction: 'DISSATISFIED', assigneeOrg: '物业' }), { to: 'DISPATCHED', note: '居民不满意，重办' }, now);
    expect(change.reopen).toBe(true);
    expect(change.note.type).toBe('REOPENED');
    expect(change.set).toMatchObject({ assigneeOrg: '物业', resolvedAt: null, satisfaction: null, open: true });
    expect((change.set.dueAt as Date).toISOString()).toBe('2026-03-09T15:59:59.999Z'); // next Monday, end of day CST
  });

  it('extends the deadline by working days when deferring', () => {
    const change = planTransition(ticket('IN_PROGRESS'), { to: 'DEFERRED', note: '需采购配件', deferWorkingDays: 3 }, at('2026-03-02T00:00:00Z'));
    expect((change.set.dueAt as Date).toISOString()).toBe('2026-03-11T15:59:59.999Z'); // Fri 6 Mar + 3 working days = Wed 11 Mar
  });
});

describe('working days (China Standard Time)', () => {
  it('is due at the end of the 5th working day after the request day', () => {
    expect(addWorkingDays(at('2026-03-02T02:00:00Z'), 5).toISOString()).toBe('2026-03-09T15:59:59.999Z'); // Mon → next Mon
    expect(addWorkingDays(at('2026-03-06T09:00:00Z'), 5).toISOString()).toBe('2026-03-13T15:59:59.999Z'); // Fri → next Fri
    expect(addWorkingDays(at('2026-03-07T03:00:00Z'), 5).toISOString()).toBe('2026-03-13T15:59:59.999Z'); // Sat → Fri
  });

  it('reads the day in CST: 23:30 UTC on Sunday is already Monday in Beijing', () => {
    expect(cstDate(at('2026-03-01T23:30:00Z'))).toBe('2026-03-02');
    expect(addWorkingDays(at('2026-03-01T23:30:00Z'), 1).toISOString()).toBe('2026-03-03T15:59:59.999Z');
  });

  it('skips configured holidays and counts make-up workdays (调休)', () => {
    const cal = { holidays: ['2026-03-03', '2026-03-04'], workdays: ['2026-03-07'] };
    expect(addWorkingDays(at('2026-03-02T02:00:00Z'), 3, cal).toISOString()).toBe('2026-03-07T15:59:59.999Z'); // Thu, Fri, Sat(调休)
  });

  it('lists the last complete calendar months, oldest first, in CST', () => {
    const months = lastCompleteMonths(at('2026-03-01T00:30:00Z'), 3); // 08:30 on 1 March in Beijing
    expect(months.map((m) => m.month)).toEqual(['2025-12', '2026-01', '2026-02']);
    expect(months[0].start.toISOString()).toBe('2025-11-30T16:00:00.000Z');
    expect(months[2].end.toISOString()).toBe('2026-02-28T16:00:00.000Z');
  });
});

describe('Open311 projection', () => {
  it('converts GCJ-02 and BD-09 to WGS84 within a metre (round trip)', () => {
    const wgs = { lat: 32.0415, lng: 118.7781 }; // 南京
    const gcj = wgs84ToGcj02(wgs.lat, wgs.lng);
    expect(Math.abs(gcj.lat - wgs.lat) + Math.abs(gcj.lng - wgs.lng)).toBeGreaterThan(1e-3); // the offset is real
    const back = gcj02ToWgs84(gcj.lat, gcj.lng);
    expect(Math.abs(back.lat - wgs.lat)).toBeLessThan(1e-5);
    expect(Math.abs(back.lng - wgs.lng)).toBeLessThan(1e-5);
    const bd = bd09ToGcj02(gcj.lat + 0.006, gcj.lng + 0.0065);
    expect(Math.abs(bd.lat - gcj.lat)).toBeLessThan(1e-3);
  });

  it('masks phone, ID-card and e-mail in free text', () => {
    expect(maskPersonalData('电话13800001234，身份证32010219800101123X，座机025-12345678，a.b@example.cn')).toBe(
      '电话[手机号已隐去]，身份证[身份证号已隐去]，座机[电话已隐去]，[邮箱已隐去]',
    );
  });

  it('masks full-width and dotted phone numbers and door numbers, leaving Chinese punctuation as typed', () => {
    expect(maskPersonalData('住户家5栋2单元301室 电话１３８１１１１２２２２ 或 138.1111.2222，3号楼502漏水')).toBe(
      '住户家[门牌已隐去] 电话[手机号已隐去] 或 [手机号已隐去]，[门牌已隐去]漏水',
    );
    expect(maskPersonalData('南京谐扬物业管理有限公司 2号岗')).toBe('南京谐扬物业管理有限公司 2号岗');
  });

  it('builds the request from an allow-list, so reporter data never appears', () => {
    const view = toOpen311({
      _id: 'tk_1',
      status: 'RESOLVED',
      serviceCode: 'EBIKE_CHARGING',
      description: '楼下充电桩坏了，联系13900001111',
      requestedAt: at('2026-03-02T02:00:00Z'),
      dueAt: at('2026-03-09T15:59:59.999Z'),
      resolvedAt: at('2026-03-03T02:00:00Z'),
      lastTransitionAt: at('2026-03-03T02:00:00Z'),
      location: { lat: 32.05, lng: 118.79, datum: 'GCJ02' },
      mediaUrls: ['https://img.example/1.jpg'],
      reporter: { firstName: '张', lastName: '三', phone: '13900001111', email: 'z@example.cn', anonymous: false },
      notes: [],
    } as never);
    expect(view).toMatchObject({ status: 'closed', service_code: 'EBIKE_CHARGING', service_name: '电动车充电', media_url: 'https://img.example/1.jpg' });
    expect(view.updated_datetime.toISOString()).toBe('2026-03-03T02:00:00.000Z');
    expect(view.lat).not.toBe(32.05);
    const text = JSON.stringify(view);
    expect(text).not.toMatch(/13900001111|z@example\.cn|"张"|"三"|reporter/);
  });
});

describe('美好家园 rubric', () => {
  const none: Evidence = {
    hasPartyOrganization: false,
    hasAlliance: false,
    jointMeetingComplianceShare: null,
    committee: null,
    ticketSatisfiedRate: null,
    ticketOnTimeRate: null,
    hasPatrolTeam: false,
    activityCount: 0,
    patrolRectifiedWithin48hRate: null,
    coGovernanceTopics: [],
    feeAmountRate: null,
    satisfactionPercent: null,
    elderlyMonthlyVisitRate: null,
    renovationStatus: null,
  };

  it('keeps the two verified weights fixed at 20% and needs the weights to sum to 1', () => {
    const ok = validateRubric({
      id: 'rb_service',
      name: 'service heavy',
      weights: [
        { dimension: 'PARTY_LEADERSHIP', weight: 0.2 },
        { dimension: 'COMMITTEE_GOVERNANCE', weight: 0.2 },
        { dimension: 'SERVICE_QUALITY', weight: 0.4 },
        { dimension: 'RESIDENT_PARTICIPATION', weight: 0.1 },
        { dimension: 'ENVIRONMENT_SAFETY', weight: 0.1 },
      ],
    });
    expect(ok.weights.map((w) => w.weight)).toEqual([0.2, 0.2, 0.4, 0.1, 0.1]);
    const fixed = errorOf(() =>
      validateRubric({ id: 'x', name: 'x', weights: [{ dimension: 'PARTY_LEADERSHIP', weight: 0.3 }, { dimension: 'COMMITTEE_GOVERNANCE', weight: 0.2 }, { dimension: 'SERVICE_QUALITY', weight: 0.5 }] }),
    );
    expect(fixed.message).toMatch(/PARTY_LEADERSHIP has the verified fixed weight 0.2/);
    const sum = errorOf(() => validateRubric({ id: 'x', name: 'x', weights: [{ dimension: 'PARTY_LEADERSHIP', weight: 0.2 }, { dimension: 'COMMITTEE_GOVERNANCE', weight: 0.2 }] }));
    expect(sum.message).toMatch(/sum to 1; they sum to 0.4/);
    expect(errorOf(() => validateRubric({ ...ok, id: 'rb_default', weights: ok.weights })).extensions?.field).toBe('id');
  });

  it('leaves dimensions without evidence out, renormalises, and reports the coverage', () => {
    const e = evaluate(DEFAULT_RUBRIC, { ...none, feeAmountRate: 0.96, satisfactionPercent: 97 }, at('2026-03-01T00:00:00Z'));
    const byDim = Object.fromEntries(e.breakdown.map((d) => [d.dimension, d.score]));
    expect(byDim.SERVICE_QUALITY).toBe(96.5);
    expect(byDim.PARTY_LEADERSHIP).toBe(0); // evidence of absence: no party organisation or alliance on record
    expect(e.coverage).toBe(1);
    const sparse = evaluate(DEFAULT_RUBRIC, { ...none, coGovernanceTopics: [] }, at('2026-03-01T00:00:00Z'));
    expect(sparse.breakdown.find((d) => d.dimension === 'SERVICE_QUALITY')!.score).toBeNull();
    expect(sparse.coverage).toBe(0.8);
  });
});
