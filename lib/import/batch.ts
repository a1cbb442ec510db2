/**
 * The server side of spreadsheet imports, shared by every subgraph's batch mutation: per-row
 * verdicts from the write paths' own validation errors (BAD_USER_INPUT naming the field), duplicate
 * natural keys inside one call, the totals, and the audit record of the call (one per batch, with the
 * importing identity and the counts, through the request's audit collector, lib/auth/audit.ts).
 */
import { GraphQLError } from 'graphql';
import { badInput, ErrorCode } from '../errors';
import type { AuditCollector } from '../auth/audit';
import { messageZh } from './messages';

export type ImportOutcome = 'INSERTED' | 'UPDATED' | 'UNCHANGED' | 'REJECTED';

export interface RowVerdict {
  row: number;
  key: string | null;
  outcome: ImportOutcome;
  field: string | null;
  message: string | null;
  messageZh: string | null;
}

export interface ImportResult {
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  dryRun: boolean;
  rows: RowVerdict[];
}

/** Rows per call: a client sends batches (500 by default); more in one request is refused. */
export const MAX_IMPORT_ROWS = 2000;

/** Refuses an oversized batch or repeated row numbers with BAD_USER_INPUT (nothing is written). */
export function checkBatch(rows: readonly { row: number }[]): void {
  if (rows.length > MAX_IMPORT_ROWS) throw badInput('rows', `at most ${MAX_IMPORT_ROWS} rows per call; send batches`);
  const seen = new Set<number>();
  for (const r of rows) {
    if (!Number.isInteger(r.row) || r.row < 1) throw badInput('rows.row', 'must be the sheet row number (1 or more)');
    if (seen.has(r.row)) throw badInput('rows.row', `row ${r.row} is sent twice`);
    seen.add(r.row);
  }
}

/** The field a write path named, without its argument prefix (`input.period` → `period`). */
export const plainField = (field: string) => field.replace(/^(input|personal)\./, '').replace(/^input\./, '');

export function accepted(row: number, key: string | null, outcome: Exclude<ImportOutcome, 'REJECTED'>): RowVerdict {
  return { row, key, outcome, field: null, message: null, messageZh: null };
}

export function rejected(row: number, key: string | null, field: string, message: string): RowVerdict {
  return { row, key, outcome: 'REJECTED', field: plainField(field), message, messageZh: messageZh(message) };
}

/**
 * The verdict for a validation error thrown by a write path (`badInput(field, message)`); any other
 * error is not the row's fault and is thrown on (the whole call fails, masked as usual).
 */
export function rejectionOf(row: number, key: string | null, err: unknown): RowVerdict {
  if (err instanceof GraphQLError && (err.extensions?.code === ErrorCode.BAD_USER_INPUT || err.extensions?.code === ErrorCode.NOT_FOUND)) {
    const field = typeof err.extensions.field === 'string' ? err.extensions.field : '';
    const message = field && err.message.startsWith(`${field}: `) ? err.message.slice(field.length + 2) : err.message;
    return rejected(row, key, field, message);
  }
  throw err;
}

/** Runs a row's validation; a BAD_USER_INPUT becomes the row's rejection. */
export async function validateRow<T>(row: number, key: string | null, check: () => T | Promise<T>): Promise<{ ok: true; value: T } | { ok: false; verdict: RowVerdict }> {
  try {
    return { ok: true, value: await check() };
  } catch (e) {
    return { ok: false, verdict: rejectionOf(row, key, e) };
  }
}

/**
 * Rows whose natural key already appeared earlier in the call: a map from row number to its
 * rejection (the first occurrence is kept). Rows without a key are left to the validation.
 */
export function duplicateKeys<R extends { row: number }>(rows: readonly R[], keyOf: (r: R) => string | null, field: string): Map<number, RowVerdict> {
  const first = new Map<string, number>();
  const dup = new Map<number, RowVerdict>();
  for (const r of rows) {
    const k = keyOf(r);
    if (k == null) continue;
    const at = first.get(k);
    if (at === undefined) first.set(k, r.row);
    else dup.set(r.row, rejected(r.row, k, field, `duplicated key "${k}": also on row ${at}`));
  }
  return dup;
}

export function summarise(verdicts: RowVerdict[], dryRun: boolean): ImportResult {
  const rows = [...verdicts].sort((a, b) => a.row - b.row);
  const count = (o: ImportOutcome) => rows.filter((v) => v.outcome === o).length;
  return { read: rows.length, inserted: count('INSERTED'), updated: count('UPDATED'), unchanged: count('UNCHANGED'), rejected: count('REJECTED'), dryRun, rows };
}

/**
 * Records the call in the subgraph's audit log (one record per request, written by the access
 * layer when the response leaves): type `Import`, the kind as id, the counts as fields. The
 * identity (subject, role, token id) and the operation name come with the record.
 */
export function auditImport(ctx: object, kind: string, result: ImportResult): void {
  const audit = (ctx as { audit?: AuditCollector }).audit;
  if (!audit) throw new Error('import: no audit collector on the request context');
  for (const k of ['read', 'inserted', 'updated', 'unchanged', 'rejected'] as const) audit.record('Import', kind, `${k}=${result[k]}`);
  audit.record('Import', kind, `dryRun=${result.dryRun}`);
}

/** Records the end of a deferred import (type `ImportFinish`): the pending records served and what was refreshed. */
export function auditFinish(ctx: object, subgraph: string, done: { batches: number; records: number; areas: number }): void {
  const audit = (ctx as { audit?: AuditCollector }).audit;
  if (!audit) throw new Error('import: no audit collector on the request context');
  audit.record('ImportFinish', subgraph, `batches=${done.batches} records=${done.records} areas=${done.areas}`);
}

/** Equality of stored and imported values for the "unchanged" verdict (dates by instant). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) {
    const ta = a == null ? null : new Date(a as Date).getTime();
    const tb = b == null ? null : new Date(b as Date).getTime();
    return ta === tb;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    const xa = (a ?? []) as unknown[];
    const xb = (b ?? []) as unknown[];
    return xa.length === xb.length && xa.every((v, i) => sameValue(v, xb[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return (a ?? null) === (b ?? null);
}

/** The fields of `next` that differ from `stored` (only the keys of `next`). */
export function changedFields(stored: Record<string, unknown> | null | undefined, next: Record<string, unknown>): string[] {
  return Object.keys(next).filter((k) => !sameValue(stored?.[k], next[k]));
}
