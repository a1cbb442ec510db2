/**
 * The soak's pure parts (test/bench/soak-report.ts): its command line, its fault schedule, how a
 * request is placed in or out of a restart window, and the verdict per target of issue 13. The
 * soak itself (`npm run soak`) runs for minutes and is not part of `npm test`.
 */
import {
  exitCodeFor,
  faultSchedule,
  inRestartWindow,
  parseSoakArgs,
  percentile,
  renderReport,
  SoakArgsError,
  summarize,
  verdicts,
  windowSecondsFor,
  type RequestRecord,
  type RssSample,
  type SoakInput,
} from '../bench/soak-report';

const T0 = 1_800_000_000_000;
const SERVICES = ['gateway', 'properties'];

/** A run of `minutes` with one read per second, each taking `latency(i)` ms. */
function input(minutes: number, over: Partial<SoakInput> = {}, latency = (_i: number) => 100): SoakInput {
  const records: RequestRecord[] = Array.from({ length: minutes * 60 }, (_, i) => ({ s: T0 + i * 1000, d: latency(i), k: 'read', op: 'CommunityProfile', o: 'ok' }));
  const rss: RssSample[] = [];
  for (let t = 0; t < minutes * 60; t += 5) for (const service of SERVICES) rss.push({ service, t: T0 + t * 1000, kb: 100 * 1024 });
  return {
    startedAt: T0,
    endedAt: T0 + minutes * 60_000,
    windowSeconds: windowSecondsFor(minutes),
    records,
    windows: [],
    rss,
    services: SERVICES,
    restarts: {},
    unexpectedExits: [],
    writes: [{ kind: 'ticket', acknowledged: 10, present: 10, missingSample: [] }],
    ...over,
  };
}

const byTarget = (vs: ReturnType<typeof verdicts>, start: string) => vs.find((v) => v.target.startsWith(start))!;

describe('soak command line', () => {
  it('takes the minutes, the city size and the restart interval, with defaults for the rest', () => {
    const o = parseSoakArgs(['--minutes', '4', '--communities', '200', '--restart-every', '60', '--gateway-env', 'GATEWAY_SUBGRAPH_TIMEOUT_MS=5000']);
    expect(o).toMatchObject({ minutes: 4, communities: 200, restartEverySeconds: 60, connections: 12, engineKill: true, reseed: false, gatewayEnv: { GATEWAY_SUBGRAPH_TIMEOUT_MS: '5000' } });
    expect(o.dataDir).toBeUndefined();
    expect(parseSoakArgs(['--minutes', '30', '--data', '/tmp/city', '--no-engine-kill'])).toMatchObject({ communities: 400, restartEverySeconds: 120, dataDir: '/tmp/city', engineKill: false });
  });

  it('refuses a missing --minutes, a non-number, an out-of-range value and an unknown flag, saying which', () => {
    expect(() => parseSoakArgs([])).toThrow(new SoakArgsError('--minutes is required'));
    expect(() => parseSoakArgs(['--minutes', 'ten'])).toThrow('--minutes: expected a whole number, got "ten"');
    expect(() => parseSoakArgs(['--minutes', '5', '--restart-every', '2'])).toThrow('--restart-every: expected 10-36000, got 2');
    expect(() => parseSoakArgs(['--minutes', '5', '--gateway-env', 'oops'])).toThrow('--gateway-env: expected KEY=VALUE');
    expect(() => parseSoakArgs(['--minutes', '5', '--bogus'])).toThrow(SoakArgsError);
  });
});

describe('soak fault schedule', () => {
  it('restarts the subgraphs round robin and kills the engine once, between two subgraph restarts', () => {
    const events = faultSchedule(30 * 60, 120, ['a', 'b', 'c', 'd'], true);
    const subgraphs = events.filter((e) => e.kind === 'subgraph');
    expect(subgraphs.map((e) => e.service).slice(0, 5)).toEqual(['a', 'b', 'c', 'd', 'a']);
    expect(subgraphs.map((e) => e.atSeconds)).toEqual(Array.from({ length: 14 }, (_, i) => (i + 1) * 120));
    const engine = events.filter((e) => e.kind === 'engine');
    expect(engine).toHaveLength(1);
    expect(engine[0].atSeconds % 120).toBe(60);
    expect(Math.abs(engine[0].atSeconds - 900)).toBeLessThanOrEqual(120);
  });

  it('leaves out faults too close to the end, and the engine kill when asked', () => {
    const events = faultSchedule(240, 120, ['a', 'b'], true);
    expect(events).toEqual([
      { kind: 'subgraph', service: 'a', atSeconds: 120 },
      { kind: 'engine', service: 'engine', atSeconds: 180 },
    ]);
    expect(faultSchedule(240, 120, ['a'], false).some((e) => e.kind === 'engine')).toBe(false);
    expect(faultSchedule(60, 120, ['a'], false)).toEqual([]);
  });
});

describe('soak report', () => {
  it('places a request in a restart window when its lifetime overlaps it, not otherwise', () => {
    const w = [{ service: 'properties', from: 10_000, to: 20_000 }];
    expect(inRestartWindow({ s: 9_000, d: 1_500 }, w)).toBe(true);
    expect(inRestartWindow({ s: 19_999, d: 5 }, w)).toBe(true);
    expect(inRestartWindow({ s: 8_000, d: 1_000 }, w)).toBe(false);
    expect(inRestartWindow({ s: 20_001, d: 10 }, w)).toBe(false);
  });

  it('takes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 99)).toBe(0);
  });

  it('meets every target on a steady run, and uses one-minute windows under ten minutes', () => {
    const s = summarize(input(4));
    expect(s.windowRows).toHaveLength(4);
    const vs = verdicts(s);
    expect(vs.map((v) => v.met)).toEqual([true, true, true, true]);
    expect(exitCodeFor(vs)).toBe(0);
    expect(summarize(input(30)).windowRows).toHaveLength(6);
  });

  it('counts errors inside a restart window apart and fails the run on one outside', () => {
    const base = input(4);
    base.windows = [{ service: 'properties', from: T0 + 120_000, to: T0 + 140_000 }];
    base.records[125] = { ...base.records[125], o: 'error', c: ['SUBGRAPH_UNAVAILABLE'] };
    let vs = verdicts(summarize(base));
    expect(byTarget(vs, '0 errors outside').met).toBe(true);
    base.records[200] = { ...base.records[200], o: 'partial', c: ['SUBGRAPH_UNAVAILABLE'], m: 'subgraph "properties" is unavailable: it did not answer within 1500 ms' };
    const s = summarize(base);
    vs = verdicts(s);
    expect(byTarget(vs, '0 errors outside')).toMatchObject({ met: false });
    expect(byTarget(vs, '0 errors outside').detail).toContain('1 failed requests outside restart windows: read SUBGRAPH_UNAVAILABLE');
    expect(s.outcomes.filter((o) => o.code === 'SUBGRAPH_UNAVAILABLE').map((o) => [o.outcome, o.inRestartWindow, o.count])).toEqual(
      expect.arrayContaining([
        ['error', true, 1],
        ['partial', false, 1],
      ]),
    );
    expect(exitCodeFor(vs)).toBe(1);
    expect(renderReport(s, vs)).toContain('OUTSIDE restart windows');
    expect(renderReport(s, vs)).toContain('it did not answer within 1500 ms');
  });

  it('counts answers arriving after the load ended in the last window, not in a window of their own', () => {
    const base = input(4);
    base.records.push({ s: T0 + 239_000, d: 9_000, k: 'read', op: 'CityOverview', o: 'ok' });
    const s = summarize(base);
    expect(s.windowRows).toHaveLength(4);
    expect(s.windowRows[3]).toMatchObject({ reads: 61, readP99: 9000 });
  });

  it('fails when the last window p99 is more than 1.2x the first', () => {
    const slowAtEnd = (i: number) => (i >= 180 ? 130 : 100);
    expect(byTarget(verdicts(summarize(input(4, {}, slowAtEnd))), 'read p99').met).toBe(false);
    const slightlySlower = (i: number) => (i >= 180 ? 115 : 100);
    expect(byTarget(verdicts(summarize(input(4, {}, slightlySlower))), 'read p99').met).toBe(true);
  });

  it('fails when a service grows 10% or more in RSS after the first window', () => {
    const base = input(4);
    base.rss = base.rss.map((x) => (x.service === 'gateway' && x.t >= T0 + 180_000 ? { ...x, kb: 111 * 1024 } : x));
    const v = byTarget(verdicts(summarize(base)), 'RSS growth');
    expect(v.met).toBe(false);
    expect(v.detail).toContain('gateway +11.0%');
  });

  it('fails when an acknowledged write is missing afterwards, naming it', () => {
    const v = byTarget(verdicts(summarize(input(4, { writes: [{ kind: 'visit', acknowledged: 3, present: 2, missingSample: ['hv_1'] }] }))), '0 acknowledged');
    expect(v).toMatchObject({ met: false });
    expect(v.detail).toContain('1 missing of 3 acknowledged (e.g. visit hv_1)');
  });

  it('cannot judge latency or memory trends from one window, and does not fail the run for it', () => {
    const vs = verdicts(summarize(input(1)));
    expect(byTarget(vs, 'read p99').met).toBeNull();
    expect(byTarget(vs, 'RSS growth').met).toBeNull();
    expect(exitCodeFor(vs)).toBe(0);
  });
});
