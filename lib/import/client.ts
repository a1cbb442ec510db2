/**
 * The import client: streams a file (./reader.ts), converts each row by the kind's header map
 * (./kinds.ts, ./cells.ts) and sends batches to the owning subgraph's batch mutation (directly or
 * through the gateway) with the caller's bearer token. Rows of one group (a committee's members)
 * stay in one batch. The server validates every row with the write path's own rules and answers a
 * verdict per row; the client adds the rows it could not read and builds the report (./report.ts).
 * For kinds with a `finish` mutation the batches defer the statistics refresh and the client calls
 * `finish` once at the end (also after a failed batch, so what was written is counted), which
 * refreshes each touched area once instead of once per batch.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { emptyRow, mapHeaders, rowFrom, type CellProblem } from './cells';
import { columnOfField, kindOf, type Column, type ImportKind } from './kinds';
import { messageZh } from './messages';
import { readRows, ImportFileError } from './reader';

export interface ImportOptions {
  kind: string;
  file: string;
  sheet?: string;
  dryRun?: boolean;
  /** GraphQL endpoint: the owning subgraph's or the gateway's. */
  url: string;
  /** Bearer token with the bureau's write scope. */
  token: string;
  /** Rows per call (default 1,000; the server takes at most 2,000). */
  batchSize?: number;
  /** Batches in flight at once (default 2; committees 1, so a committee's rows are written in order). */
  concurrency?: number;
  /** Called after each batch with the rows read so far. */
  onProgress?: (rowsRead: number) => void;
  /** Refresh the statistics after every batch instead of once at the end (default false). */
  statisticsPerBatch?: boolean;
}

/** What the end-of-import call refreshed (kinds with deferred statistics). */
export interface StatisticsFinish {
  batches: number;
  records: number;
  areas: number;
  elapsedMs: number;
}

export interface Rejection {
  sheet: string;
  row: number;
  /** Column header (Chinese) and field; null when the problem is not one column's. */
  column: string | null;
  field: string | null;
  message: string;
  messageZh: string;
}

export interface ImportReport {
  kind: string;
  subgraph: string;
  file: string;
  sheet: string | null;
  dryRun: boolean;
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  rejections: Rejection[];
  /** Headers the kind does not know (their columns are ignored). */
  ignoredHeaders: string[];
  /** The end-of-import statistics refresh, when the kind defers it (null otherwise, and on a dry run). */
  statistics: StatisticsFinish | null;
  elapsedMs: number;
}

interface ServerVerdict {
  row: number;
  outcome: 'INSERTED' | 'UPDATED' | 'UNCHANGED' | 'REJECTED';
  field: string | null;
  message: string | null;
  messageZh: string | null;
}
interface ServerResult {
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  rows: ServerVerdict[];
}

export class ImportCallError extends Error {}

/** Whether batches of this import defer the statistics to one `finish` call. */
const defers = (kind: ImportKind, opts: ImportOptions) => !!kind.finish && !opts.dryRun && !opts.statisticsPerBatch;

/** Sends one batch; GraphQL or HTTP errors become an ImportCallError naming what went wrong. */
async function send(kind: ImportKind, opts: ImportOptions, rows: Record<string, unknown>[]): Promise<ServerResult> {
  const defer = defers(kind, opts);
  const query = `mutation Import${kind.rowType}($rows: [${kind.rowType}!]!, $dryRun: Boolean${defer ? ', $defer: Boolean' : ''}) { result: ${kind.mutation}(rows: $rows, dryRun: $dryRun${defer ? ', deferStatistics: $defer' : ''}) { read inserted updated unchanged rejected rows { row outcome field message messageZh } } }`;
  return call<ServerResult>(opts, query, { rows, dryRun: opts.dryRun ?? false, ...(defer ? { defer: true } : {}) }, `Import${kind.rowType}`);
}

/** The end of a deferred import: the subgraph refreshes what the batches touched, once. */
async function finish(kind: ImportKind, opts: ImportOptions): Promise<StatisticsFinish> {
  const started = performance.now();
  const done = await call<Omit<StatisticsFinish, 'elapsedMs'>>(opts, `mutation FinishImport { result: ${kind.finish} { batches records areas } }`, {}, 'FinishImport');
  return { ...done, elapsedMs: performance.now() - started };
}

async function call<T>(opts: ImportOptions, query: string, variables: Record<string, unknown>, operationName: string): Promise<T> {
  const res = await fetch(opts.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${opts.token}`, 'apollographql-client-name': 'import-cli' },
    body: JSON.stringify({ query, variables, operationName }),
  });
  const text = await res.text();
  let body: { data?: { result?: T } | null; errors?: { message: string; extensions?: { code?: string } }[] };
  try {
    body = JSON.parse(text);
  } catch {
    throw new ImportCallError(`${opts.url} answered HTTP ${res.status} without JSON`);
  }
  if (body.errors?.length) {
    const e = body.errors[0]!;
    throw new ImportCallError(`${e.extensions?.code ?? `HTTP ${res.status}`}: ${e.message}`);
  }
  if (!body.data?.result) throw new ImportCallError(`${opts.url} answered HTTP ${res.status} without a result`);
  return body.data.result;
}

const cellRejection = (sheet: string, row: number, p: CellProblem): Rejection => ({ sheet, row, column: p.column.zh, field: p.column.field, message: p.message, messageZh: p.messageZh });

export async function runImport(opts: ImportOptions): Promise<ImportReport> {
  const kind = kindOf(opts.kind);
  const started = performance.now();
  const report: ImportReport = {
    kind: kind.name, subgraph: kind.subgraph, file: opts.file, sheet: null, dryRun: opts.dryRun ?? false,
    read: 0, inserted: 0, updated: 0, unchanged: 0, rejected: 0, rejections: [], ignoredHeaders: [], statistics: null, elapsedMs: 0,
  };
  const batchSize = Math.max(1, Math.min(opts.batchSize ?? 1000, 2000));
  let header: ReturnType<typeof mapHeaders> | null = null;
  let batch: Record<string, unknown>[] = [];
  let batchSheet = '';
  let lastGroup: string | null = null;

  // Natural keys seen so far (a secret key, the ID-card number, only as a digest): a key repeated
  // anywhere in the file is refused here, so batches never race on one record.
  const seen = new Map<string, number>();
  const keyColumn = kind.columns.find((c) => c.field === kind.key.field)!;
  const inFlight = new Set<Promise<void>>();
  const concurrency = Math.max(1, opts.concurrency ?? (kind.groupKey ? 1 : 2));
  let failure: unknown = null;

  const flush = async () => {
    if (!batch.length) return;
    const sent = batch;
    const sheet = batchSheet;
    batch = [];
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (failure) throw failure;
    const p: Promise<void> = apply(sent, sheet)
      .catch((e) => {
        failure ??= e;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  let sentAny = false;
  const apply = async (sent: Record<string, unknown>[], sheet: string) => {
    sentAny = true;
    const result = await send(kind, opts, sent);
    report.inserted += result.inserted;
    report.updated += result.updated;
    report.unchanged += result.unchanged;
    report.rejected += result.rejected;
    for (const v of result.rows) {
      if (v.outcome !== 'REJECTED') continue;
      const col: Column | null = columnOfField(kind, v.field);
      report.rejections.push({ sheet, row: v.row, column: col?.zh ?? null, field: col?.field ?? v.field, message: v.message ?? '', messageZh: v.messageZh ?? '' });
    }
    opts.onProgress?.(report.read);
  };

  let error: unknown = null;
  try {
    await readAndSend();
  } catch (e) {
    error = e;
  }
  await Promise.allSettled(inFlight);
  error ??= failure;
  // Also after a failure: whatever the sent batches wrote gets its statistics (a client that dies
  // before this leaves the subgraph's pending records to the next import's finish).
  if (defers(kind, opts) && sentAny) {
    try {
      report.statistics = await finish(kind, opts);
    } catch (e) {
      error ??= e;
    }
  }
  if (error) throw error;
  report.rejections.sort((a, b) => a.row - b.row);
  report.elapsedMs = performance.now() - started;
  return report;

  async function readAndSend() {
    for await (const r of readRows(opts.file, { sheet: opts.sheet })) {
      if (emptyRow(r.values)) continue;
      if (!header) {
        header = mapHeaders(kind, r.values);
        report.sheet = r.sheet;
        report.ignoredHeaders = header.unknown;
        if (header.missing.length) {
          throw new ImportFileError(
            `sheet "${r.sheet}" row ${r.rowNumber}: missing required column(s) ${header.missing.map((c) => `${c.zh} (${c.field})`).join(', ')} / 缺少必填列：${header.missing.map((c) => c.zh).join('、')}`,
          );
        }
        continue;
      }
      report.read += 1;
      const { row, problems } = rowFrom(kind, header.byIndex, r.values, r.rowNumber);
      if (problems.length) {
        report.rejected += 1;
        for (const p of problems) report.rejections.push(cellRejection(r.sheet, r.rowNumber, p));
        continue;
      }
      const rawKey = kind.key.of(row);
      if (rawKey !== null) {
        const k = kind.key.secret ? createHash('sha256').update(rawKey).digest('base64') : rawKey;
        const first = seen.get(k);
        if (first !== undefined) {
          const message = `duplicated key "${kind.key.secret ? keyColumn.zh : rawKey}": also on row ${first}`;
          report.rejected += 1;
          report.rejections.push({ sheet: r.sheet, row: r.rowNumber, column: keyColumn.zh, field: keyColumn.field, message, messageZh: messageZh(message) });
          continue;
        }
        seen.set(k, r.rowNumber);
      }
      const group = kind.groupKey ? kind.groupKey(row) : null;
      if (batch.length >= batchSize && (group === null || group !== lastGroup)) await flush();
      lastGroup = group;
      batchSheet = r.sheet;
      batch.push(row);
    }
    if (!header) throw new ImportFileError('the file has no header row');
    await flush();
    await Promise.all(inFlight);
  }
}
