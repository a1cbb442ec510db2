/**
 * The soak's pure parts (`npm run soak`, test/bench/soak.ts): its command line, the fault schedule,
 * which requests fall into a restart window, the per-window figures and the verdict per target of
 * issue 13. No I/O here, so test/ops/soak-report.test.ts checks them without starting anything.
 */
import { parseArgs } from 'node:util';

export interface SoakOptions {
  minutes: number;
  communities: number;
  /** Kill -9 and restart one subgraph every this many seconds, round robin. */
  restartEverySeconds: number;
  /** Concurrent read clients (the dashboard load). */
  connections: number;
  /** Reads per second across the clients (0: as fast as answers come back). */
  readRate: number;
  /** One write (ticket, visit or spend, in turn) every this many milliseconds. */
  writeEveryMs: number;
  /** Seconds after a restarted service is ready again that still count as its restart window. */
  graceSeconds: number;
  /** Unmeasured read load before the soak starts (the stack's cold start is not the soak). */
  warmupSeconds: number;
  /** Kill -9 and restart the embedded engine once, mid-run. */
  engineKill: boolean;
  /** Engine data directory kept between runs (seeded once, reused when its size matches). */
  dataDir?: string;
  /** Re-seed even when the data directory holds a city of the same size. */
  reseed: boolean;
  seed: number;
  /** Upper bound on read requests (the run also stops at --minutes). */
  maxRequests: number;
  /** Extra gateway environment (KEY=VALUE), e.g. GATEWAY_SUBGRAPH_TIMEOUT_MS=5000. */
  gatewayEnv: Record<string, string>;
  /** Keep the temporary directory (logs, tokens' keys) after the run. */
  keep: boolean;
}

export const SOAK_USAGE = `usage: npm run soak -- --minutes N [options]
  --minutes N             length of the load phase (required; 1-600)
  --communities N         size of the synthetic city (default 400; 4000 for the issue's soak)
  --restart-every S       kill -9 and restart one subgraph every S seconds, round robin (default 120)
  --no-engine-kill        do not kill -9 the embedded engine mid-run
  --connections N         concurrent dashboard read clients (default 12)
  --read-rate N           at most N reads per second across the clients (default 0: each client sends
                          its next read when the last is answered)
  --write-every MS        one write every MS ms: ticket, home visit, renovation spend in turn (default 500)
  --warmup S              unmeasured read load before the soak, 4 clients (default 30)
  --grace S               seconds after a restarted service is ready that still count as its window (default 5)
  --data DIR              engine data directory to keep and reuse (seeded when empty or of another size)
  --reseed                seed again even when --data holds a city of this size
  --seed N                seed of the synthetic city and of the load's choices (default 42)
  --max-requests N        upper bound on read requests (default 2000000)
  --gateway-env K=V       extra gateway setting, repeatable (e.g. GATEWAY_SUBGRAPH_TIMEOUT_MS=5000)
  --keep                  keep the temporary directory (service logs) after the run`;

export class SoakArgsError extends Error {}

function int(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new SoakArgsError(`--${name}: expected a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new SoakArgsError(`--${name}: expected ${min}-${max}, got ${n}`);
  return n;
}

export function parseSoakArgs(argv: string[]): SoakOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        minutes: { type: 'string' },
        communities: { type: 'string' },
        'restart-every': { type: 'string' },
        'no-engine-kill': { type: 'boolean', default: false },
        connections: { type: 'string' },
        'read-rate': { type: 'string' },
        'write-every': { type: 'string' },
        grace: { type: 'string' },
        warmup: { type: 'string' },
        data: { type: 'string' },
        reseed: { type: 'boolean', default: false },
        seed: { type: 'string' },
        'max-requests': { type: 'string' },
        'gateway-env': { type: 'string', multiple: true },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      allowPositionals: false,
    }));
  } catch (e) {
    throw new SoakArgsError((e as Error).message);
  }
  if (values.help) throw new SoakArgsError('');
  if (values.minutes === undefined) throw new SoakArgsError('--minutes is required');
  const gatewayEnv: Record<string, string> = {};
  for (const kv of values['gateway-env'] ?? []) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(kv);
    if (!m) throw new SoakArgsError(`--gateway-env: expected KEY=VALUE with an upper-case key, got "${kv}"`);
    gatewayEnv[m[1]] = m[2];
  }
  return {
    minutes: int('minutes', values.minutes, 0, 1, 600),
    communities: int('communities', values.communities, 400, 0, 200000),
    restartEverySeconds: int('restart-every', values['restart-every'], 120, 10, 36000),
    connections: int('connections', values.connections, 12, 1, 256),
    readRate: int('read-rate', values['read-rate'], 0, 0, 100000),
    writeEveryMs: int('write-every', values['write-every'], 500, 20, 600000),
    graceSeconds: int('grace', values.grace, 5, 0, 600),
    warmupSeconds: int('warmup', values.warmup, 30, 0, 3600),
    engineKill: !values['no-engine-kill'],
    dataDir: values.data,
    reseed: values.reseed!,
    seed: int('seed', values.seed, 42, 0, 2 ** 31 - 1),
    maxRequests: int('max-requests', values['max-requests'], 2_000_000, 1, 1e9),
    gatewayEnv,
    keep: values.keep!,
  };
}

/** Length of a reporting window: 5 minutes, or 1 minute for runs shorter than 10 minutes. */
export function windowSecondsFor(minutes: number): number {
  return minutes < 10 ? 60 : 300;
}

export interface FaultEvent {
  kind: 'subgraph' | 'engine';
  /** Subgraph name, or `engine`. */
  service: string;
  /** Seconds after the load started. */
  atSeconds: number;
}

/**
 * Subgraph restarts every `restartEvery` seconds, round robin, and one engine kill halfway
 * between two subgraph restarts near the middle of the run (so the two never overlap). Events
 * closer than 15 s to the end are left out: their windows would outlast the load.
 */
export function faultSchedule(durationSeconds: number, restartEvery: number, subgraphs: string[], engineKill: boolean): FaultEvent[] {
  const last = durationSeconds - 15;
  const events: FaultEvent[] = [];
  for (let k = 1, i = 0; k * restartEvery <= last; k++, i++) {
    events.push({ kind: 'subgraph', service: subgraphs[i % subgraphs.length], atSeconds: k * restartEvery });
  }
  if (engineKill) {
    const middle = Math.max(1, Math.round(durationSeconds / 2 / restartEvery));
    const candidates = [(middle + 0.5) * restartEvery, (middle - 0.5) * restartEvery, durationSeconds / 2];
    const at = candidates.find((t) => t > 0 && t <= last);
    if (at !== undefined) events.push({ kind: 'engine', service: 'engine', atSeconds: Math.round(at) });
  }
  return events.sort((a, b) => a.atSeconds - b.atSeconds);
}

/** One answered (or failed) request of the load, as soak-load.ts records it. */
export interface RequestRecord {
  /** Start, epoch ms. */
  s: number;
  /** Duration, ms. */
  d: number;
  k: 'read' | 'write';
  op: string;
  /** ok: data and no errors; partial: data with errors; error: no data (or HTTP/network failure). */
  o: 'ok' | 'partial' | 'error';
  /** Error codes (extensions.code; HTTP_<status>; NETWORK_ERROR; CLIENT_TIMEOUT). */
  c?: string[];
  /** The first error's message, shortened (an example per code in the report). */
  m?: string;
}

/** A service's restart window, epoch ms: from its kill to `grace` after everything answered again. */
export interface RestartWindow {
  service: string;
  from: number;
  to: number;
}

/** A request belongs to a restart window when its lifetime overlaps the window. */
export function inRestartWindow(r: Pick<RequestRecord, 's' | 'd'>, windows: RestartWindow[]): boolean {
  const end = r.s + r.d;
  return windows.some((w) => r.s <= w.to && end >= w.from);
}

/** Nearest-rank percentile of ascending values (0 for none). */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return 0;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface RssSample {
  service: string;
  /** Epoch ms. */
  t: number;
  /** Resident set size, kB (VmRSS). */
  kb: number;
}

export interface WriteCheck {
  kind: string;
  acknowledged: number;
  present: number;
  /** Up to 20 ids (or project/clientKey pairs) that are missing. */
  missingSample: string[];
}

export interface SoakInput {
  /** Start and end of the load phase, epoch ms; answers arriving after the end count in the last window. */
  startedAt: number;
  endedAt: number;
  windowSeconds: number;
  records: RequestRecord[];
  windows: RestartWindow[];
  rss: RssSample[];
  services: string[];
  /** Restarts per service (planned kills and unexpected exits both count). */
  restarts: Record<string, number>;
  unexpectedExits: { service: string; at: number; code: number | null; signal: string | null }[];
  writes: WriteCheck[];
}

export interface WindowRow {
  index: number;
  fromSeconds: number;
  toSeconds: number;
  reads: number;
  readP50: number;
  readP99: number;
  writes: number;
  writeP50: number;
  writeP99: number;
  errorsOutside: number;
  errorsInside: number;
  /** Median VmRSS per service in this window, MB (null: no sample). */
  rssMb: Record<string, number | null>;
}

export interface OutcomeRow {
  kind: 'read' | 'write';
  outcome: RequestRecord['o'];
  code: string;
  inRestartWindow: boolean;
  count: number;
  /** One error message seen with this code. */
  example?: string;
}

export interface SoakSummary {
  durationSeconds: number;
  windowSeconds: number;
  totals: { reads: number; writes: number; readRps: number };
  outcomes: OutcomeRow[];
  windowRows: WindowRow[];
  windows: RestartWindow[];
  restarts: Record<string, number>;
  unexpectedExits: SoakInput['unexpectedExits'];
  writes: WriteCheck[];
  services: string[];
}

export function summarize(input: SoakInput): SoakSummary {
  const { startedAt, endedAt, windowSeconds, records, windows } = input;
  const durationSeconds = Math.max(1, Math.round((endedAt - startedAt) / 1000));
  const nWindows = Math.max(1, Math.ceil(durationSeconds / windowSeconds));
  const windowOf = (t: number) => Math.min(nWindows - 1, Math.max(0, Math.floor((t - startedAt) / 1000 / windowSeconds)));
  const outcomeCounts = new Map<string, OutcomeRow>();
  const perWindow = Array.from({ length: nWindows }, () => ({ reads: [] as number[], writes: [] as number[], errorsOutside: 0, errorsInside: 0 }));
  for (const r of records) {
    const inside = r.o !== 'ok' && inRestartWindow(r, windows);
    const codes = r.o === 'ok' ? ['-'] : r.c?.length ? [...new Set(r.c)] : ['(none)'];
    for (const code of codes) {
      const key = `${r.k}|${r.o}|${code}|${inside}`;
      const row = outcomeCounts.get(key) ?? { kind: r.k, outcome: r.o, code, inRestartWindow: inside, count: 0 };
      row.count++;
      if (!row.example && r.m) row.example = r.m;
      outcomeCounts.set(key, row);
    }
    // A request is placed in the window in which it ended.
    const w = perWindow[windowOf(r.s + r.d)];
    (r.k === 'read' ? w.reads : w.writes).push(r.d);
    if (r.o !== 'ok') {
      if (inside) w.errorsInside++;
      else w.errorsOutside++;
    }
  }
  const windowRows: WindowRow[] = perWindow.map((w, index) => {
    const reads = [...w.reads].sort((a, b) => a - b);
    const writes = [...w.writes].sort((a, b) => a - b);
    const from = startedAt + index * windowSeconds * 1000;
    const to = Math.min(endedAt, from + windowSeconds * 1000);
    const rssMb: Record<string, number | null> = {};
    for (const service of input.services) {
      const samples = input.rss.filter((x) => x.service === service && x.t >= from && (index === nWindows - 1 ? x.t <= endedAt + 60_000 : x.t < to)).map((x) => x.kb);
      rssMb[service] = samples.length ? Math.round(median(samples) / 102.4) / 10 : null;
    }
    return {
      index,
      fromSeconds: index * windowSeconds,
      toSeconds: Math.round((to - startedAt) / 1000),
      reads: reads.length,
      readP50: Math.round(percentile(reads, 50)),
      readP99: Math.round(percentile(reads, 99)),
      writes: writes.length,
      writeP50: Math.round(percentile(writes, 50)),
      writeP99: Math.round(percentile(writes, 99)),
      errorsOutside: w.errorsOutside,
      errorsInside: w.errorsInside,
      rssMb,
    };
  });
  const reads = records.filter((r) => r.k === 'read').length;
  return {
    durationSeconds,
    windowSeconds,
    totals: { reads, writes: records.length - reads, readRps: reads / durationSeconds },
    outcomes: [...outcomeCounts.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.outcome.localeCompare(b.outcome) || Number(a.inRestartWindow) - Number(b.inRestartWindow) || b.count - a.count),
    windowRows,
    windows,
    restarts: input.restarts,
    unexpectedExits: input.unexpectedExits,
    writes: input.writes,
    services: input.services,
  };
}

export interface Verdict {
  target: string;
  /** null: could not be judged (e.g. one window only); not a failure. */
  met: boolean | null;
  detail: string;
}

/** The targets of issue 13 ("The note gives one 30-minute soak"). */
export function verdicts(s: SoakSummary): Verdict[] {
  const out: Verdict[] = [];
  const outside = s.outcomes.filter((o) => o.outcome !== 'ok' && !o.inRestartWindow);
  const outsideCount = new Set<string>();
  let outsideRequests = 0;
  for (const w of s.windowRows) outsideRequests += w.errorsOutside;
  for (const o of outside) outsideCount.add(`${o.kind} ${o.code}`);
  out.push({
    target: '0 errors outside restart windows',
    met: outsideRequests === 0,
    detail: outsideRequests === 0 ? `none (${s.windowRows.reduce((a, w) => a + w.errorsInside, 0)} inside restart windows)` : `${outsideRequests} failed requests outside restart windows: ${[...outsideCount].join(', ')}`,
  });
  const first = s.windowRows[0];
  const last = s.windowRows[s.windowRows.length - 1];
  if (s.windowRows.length < 2 || !first.reads || !last.reads) {
    out.push({ target: 'read p99 of the last window <= 1.2x the first', met: null, detail: 'needs two windows with reads' });
  } else {
    const ratio = first.readP99 > 0 ? last.readP99 / first.readP99 : Number.POSITIVE_INFINITY;
    out.push({
      target: 'read p99 of the last window <= 1.2x the first',
      met: last.readP99 <= 1.2 * first.readP99,
      detail: `${last.readP99} ms vs ${first.readP99} ms = ${Number.isFinite(ratio) ? ratio.toFixed(2) : '∞'}x`,
    });
  }
  const growth: string[] = [];
  let rssMet: boolean | null = s.windowRows.length >= 2 ? true : null;
  if (s.windowRows.length >= 2) {
    for (const service of s.services) {
      const a = first.rssMb[service];
      const b = last.rssMb[service];
      if (a == null || b == null || a === 0) {
        growth.push(`${service} n/a`);
        continue;
      }
      const g = b / a - 1;
      if (g >= 0.1) rssMet = false;
      const restarted = s.restarts[service] ? `, restarted ${s.restarts[service]}x` : '';
      growth.push(`${service} ${g >= 0 ? '+' : ''}${(g * 100).toFixed(1)}% (${a} → ${b} MB${restarted})`);
    }
  }
  out.push({ target: 'RSS growth after warm-up (first window → last) < 10% per service', met: rssMet, detail: growth.length ? growth.join('; ') : 'needs two windows' });
  const acked = s.writes.reduce((a, w) => a + w.acknowledged, 0);
  const present = s.writes.reduce((a, w) => a + w.present, 0);
  out.push({
    target: '0 acknowledged writes missing',
    met: acked > 0 ? present === acked : null,
    detail: acked > 0 ? `${acked - present} missing of ${acked} acknowledged` + (present < acked ? ` (e.g. ${s.writes.flatMap((w) => w.missingSample.map((m) => `${w.kind} ${m}`)).slice(0, 5).join(', ')})` : '') : 'no write was acknowledged',
  });
  return out;
}

/** Exit code of the run: 1 when a target is missed. */
export function exitCodeFor(vs: Verdict[]): number {
  return vs.some((v) => v.met === false) ? 1 : 0;
}

function table(header: string[], rows: string[][], leftColumns: number | number[] = 1): string {
  const isLeft = (i: number) => (Array.isArray(leftColumns) ? leftColumns.includes(i) : i < leftColumns);
  const lines = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (l: string[]) => '| ' + l.map((c, i) => (isLeft(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  return [fmt(header), '|' + widths.map((w, i) => (isLeft(i) ? ':' + '-'.repeat(w + 1) : '-'.repeat(w + 1) + ':')).join('|') + '|', ...rows.map(fmt)].join('\n');
}

export function renderReport(s: SoakSummary, vs: Verdict[]): string {
  const parts: string[] = [];
  parts.push(
    `soak: ${s.durationSeconds} s of load; ${s.totals.reads} reads (${s.totals.readRps.toFixed(1)}/s), ${s.totals.writes} writes; ` +
      `${s.windows.length} restart windows (${s.windows.map((w) => `${w.service} ${((w.to - w.from) / 1000).toFixed(1)} s`).join(', ') || 'none'})`,
  );
  parts.push('\nrequests by outcome and error code:');
  parts.push(
    table(
      ['kind', 'outcome', 'code', 'where', 'requests', 'example'],
      s.outcomes.map((o) => [
        o.kind,
        o.outcome,
        o.code,
        o.outcome === 'ok' ? '' : o.inRestartWindow ? 'in restart window' : 'OUTSIDE restart windows',
        String(o.count),
        (o.example ?? '').replace(/\s+/g, ' ').slice(0, 110),
      ]),
      [0, 1, 2, 3, 5],
    ),
  );
  parts.push(`\nper ${s.windowSeconds === 60 ? 'minute' : `${s.windowSeconds / 60}-minute window`} (latency in ms; RSS in MB, median of the window's samples):`);
  parts.push(
    table(
      ['window', 'reads', 'read p50', 'read p99', 'writes', 'write p50', 'write p99', 'errors in / out of restart windows', ...s.services.map((x) => `RSS ${x}`)],
      s.windowRows.map((w) => [
        `${w.fromSeconds}-${w.toSeconds} s`,
        String(w.reads),
        String(w.readP50),
        String(w.readP99),
        String(w.writes),
        String(w.writeP50),
        String(w.writeP99),
        `${w.errorsInside} / ${w.errorsOutside}`,
        ...s.services.map((x) => (w.rssMb[x] == null ? '-' : w.rssMb[x]!.toFixed(1))),
      ]),
    ),
  );
  parts.push('\nacknowledged writes and how many are present afterwards:');
  parts.push(table(['kind', 'acknowledged', 'present', 'missing'], s.writes.map((w) => [w.kind, String(w.acknowledged), String(w.present), String(w.acknowledged - w.present)])));
  const restarts = Object.entries(s.restarts).filter(([, n]) => n > 0);
  parts.push(`\nrestarts: ${restarts.map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}` + (s.unexpectedExits.length ? `; UNEXPECTED exits: ${s.unexpectedExits.map((e) => `${e.service} (code ${e.code}, signal ${e.signal})`).join(', ')}` : '; no unexpected exits'));
  parts.push('');
  for (const v of vs) parts.push(`${v.met === null ? 'n/a ' : v.met ? 'MET ' : 'MISS'}  ${v.target}: ${v.detail}`);
  return parts.join('\n');
}
