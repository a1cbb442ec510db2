/**
 * Cell values of a spreadsheet (exceljs values or CSV text) converted to the batch mutation's row
 * types, column by column (./kinds.ts). A cell that cannot be read as its column's type (text in a
 * number column, a malformed date) is the row's rejection here, in Chinese and English; everything
 * else (ranges, enumerations, known 小区, personal data) is left to the subgraph's write path.
 * Enumeration labels are mapped to the schema's values; an unknown label is passed on as written, so
 * the write path refuses it with the allowed values.
 */
import { CST_OFFSET_MS } from '../clock';
import { ITEM_CLASS_LABELS, type Column, type ImportKind } from './kinds';

export interface CellProblem {
  column: Column;
  message: string;
  messageZh: string;
}

/** The plain value of an exceljs cell (rich text, formulas, hyperlinks, errors unwrapped). */
export function plainCell(v: unknown): unknown {
  if (v == null) return null;
  // Line breaks inside a cell as Windows writes them (\r\n, \r) become \n: the subgraphs refuse
  // control characters other than newline and tab in text (lib/input-hygiene.ts).
  if (typeof v === 'string') return v.replace(/\r\n?/g, '\n');
  if (v instanceof Date || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  if (Array.isArray(o.richText)) return plainCell((o.richText as { text: string }[]).map((t) => t.text).join(''));
  if ('result' in o) return plainCell(o.result);
  if ('formula' in o || 'sharedFormula' in o) return null;
  if ('text' in o) return plainCell(o.text);
  if ('error' in o) return { error: String(o.error) };
  return String(v);
}

const isBlank = (v: unknown) => v == null || (typeof v === 'string' && v.trim() === '');

class Bad extends Error {
  constructor(readonly en: string, readonly zh: string) {
    super(en);
  }
}

function num(v: unknown, integer: boolean): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Bad('expected a number', '应为数字');
    if (integer && !Number.isInteger(v)) throw new Bad('expected a whole number', '应为整数');
    return v;
  }
  if (typeof v === 'string') {
    const t = v.trim().replace(/[,，]/g, '');
    if (integer ? /^[-+]?\d+$/.test(t) : /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  }
  throw new Bad(integer ? `expected a whole number, got "${String(v)}"` : `expected a number, got "${String(v)}"`, integer ? `应为整数，实际为 "${String(v)}"` : `应为数字，实际为 "${String(v)}"`);
}

/** A calendar date of the sheet is a China Standard Time date: its midnight in CST. */
const cstMidnight = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d) - CST_OFFSET_MS);

function date(v: unknown): Date {
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new Bad('not a valid date', '不是有效日期');
    // exceljs gives a date cell as that date at 00:00 UTC (time of day kept): read it as CST.
    return new Date(v.getTime() - CST_OFFSET_MS);
  }
  if (typeof v === 'number' && v > 0 && v < 200000) {
    // An Excel serial day number (1900 system).
    return new Date(Math.round((v - 25569) * 86400000) - CST_OFFSET_MS);
  }
  if (typeof v === 'string') {
    const t = v.trim();
    let m = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$/.exec(t);
    if (m) {
      const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
      const at = cstMidnight(y, mo, d);
      const back = new Date(at.getTime() + CST_OFFSET_MS);
      if (back.getUTCMonth() === mo - 1 && back.getUTCDate() === d) return at;
    }
    m = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.exec(t);
    if (m) return new Date(t);
  }
  throw new Bad(`expected a date (YYYY-MM-DD), got "${String(v)}"`, `应为日期（YYYY-MM-DD），实际为 "${String(v)}"`);
}

function bool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' && (v === 0 || v === 1)) return v === 1;
  const t = String(v).trim().toLowerCase();
  if (['是', 'y', 'yes', 'true', '1', '中共党员', '党员', '中共预备党员'].includes(t)) return true;
  if (['否', 'n', 'no', 'false', '0', '群众', '非党员'].includes(t)) return false;
  throw new Bad(`expected 是 or 否 (yes/no), got "${String(v)}"`, `应为 是 或 否，实际为 "${String(v)}"`);
}

function text(v: unknown): string {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) && Number.isInteger(v)) throw new Bad('a number this long has lost digits in the sheet; enter it as text', '数字过长，表格已丢失位数，请以文本格式填写');
    return String(v);
  }
  if (v instanceof Date) return new Date(v.getTime()).toISOString().slice(0, 10);
  if (typeof v === 'object' && v && 'error' in v) throw new Bad(`the cell holds an error (${(v as { error: string }).error})`, `单元格为错误值（${(v as { error: string }).error}）`);
  return String(v).trim();
}

const enumOf = (c: Column, v: string) => {
  const t = v.trim();
  if (c.values?.[t]) return c.values[t]!;
  const upper = t.toUpperCase();
  return Object.values(c.values ?? {}).includes(upper) ? upper : t;
};
const split = (v: string) => v.split(/[、,，;；\n]+/).map((x) => x.trim()).filter(Boolean);

function period(v: unknown): string {
  if (v instanceof Date) {
    const d = new Date(v.getTime());
    return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
  }
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  const t = String(v).trim();
  const m = /^(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*月?)?$/.exec(t);
  if (m) return m[2] ? `${m[1]}-${m[2].padStart(2, '0')}` : m[1]!;
  return t; // the write path says what is wrong with it
}

function items(v: unknown) {
  return split(text(v).replace(/、/g, ';')).map((part) => {
    const [cls, type, qty, unit, cost] = part.split(/[:：]/).map((x) => x.trim());
    if (!cls || !type) throw new Bad(`expected class:type:quantity:unit:cost(万元), got "${part}"`, `应为 类别:类型:数量:单位:金额(万元)，实际为 "${part}"`);
    return {
      class: ITEM_CLASS_LABELS[cls] ?? cls.toUpperCase(),
      itemType: type.toUpperCase(),
      quantity: qty ? num(qty, false) : null,
      unit: unit || null,
      costFen: cost ? Math.round(num(cost, false) * 1_000_000) : null,
    };
  });
}

/** One cell as its column's type; null for a blank cell. Throws a Bad for an unreadable one. */
function convert(c: Column, raw: unknown): unknown {
  const v = plainCell(raw);
  if (isBlank(v)) return null;
  switch (c.type) {
    case 'text':
      return text(v);
    case 'int':
      return num(v, true);
    case 'number':
      return num(v, false);
    case 'yuanToFen':
      return Math.round(num(v, false) * 100);
    case 'wanToFen':
      return Math.round(num(v, false) * 1_000_000);
    case 'rate': {
      if (typeof v === 'string' && v.trim().endsWith('%')) return num(v.trim().slice(0, -1), false) / 100;
      return num(v, false);
    }
    case 'date':
      return date(v);
    case 'boolean':
      return bool(v);
    case 'enum':
      return enumOf(c, text(v));
    case 'enumList':
      return split(text(v)).map((x) => enumOf(c, x));
    case 'list':
      return split(text(v));
    case 'period':
      return period(v);
    case 'items':
      return items(v);
  }
}

/** Maps a header row to columns: index → column (unknown headers are reported, not fatal). */
export function mapHeaders(kind: ImportKind, headers: unknown[]): { byIndex: Map<number, Column>; unknown: string[]; missing: Column[] } {
  const byIndex = new Map<number, Column>();
  const unknown: string[] = [];
  const norm = (s: string) => s.replace(/\s+/g, '').replace(/（/g, '(').replace(/）/g, ')').replace(/\*$/, '').toLowerCase();
  headers.forEach((h, i) => {
    const t = h == null ? '' : String(plainCell(h) ?? '').trim();
    if (!t) return;
    const n = norm(t);
    const col = kind.columns.find((c) => [c.zh, c.field, ...(c.aliases ?? [])].some((x) => norm(x) === n));
    if (col && ![...byIndex.values()].includes(col)) byIndex.set(i, col);
    else unknown.push(t);
  });
  const present = new Set(byIndex.values());
  return { byIndex, unknown, missing: kind.columns.filter((c) => c.required && !present.has(c)) };
}

/** The mutation's row from one sheet row, or the problems that keep it from being sent. */
export function rowFrom(kind: ImportKind, byIndex: Map<number, Column>, values: unknown[], rowNumber: number): { row: Record<string, unknown>; problems: CellProblem[] } {
  const cells: Record<string, unknown> = {};
  const problems: CellProblem[] = [];
  for (const [i, c] of byIndex) {
    try {
      cells[c.field] = convert(c, values[i]);
    } catch (e) {
      if (!(e instanceof Bad)) throw e;
      problems.push({ column: c, message: e.en, messageZh: e.zh });
      cells[c.field] = null;
    }
  }
  const row = kind.toRow ? kind.toRow(cells) : { ...cells };
  for (const k of Object.keys(row)) if (row[k] === null) delete row[k];
  return { row: { ...row, row: rowNumber }, problems };
}

/** True when a sheet row has no value at all (skipped, not counted). */
export const emptyRow = (values: unknown[]) => values.every((v) => isBlank(plainCell(v)));
