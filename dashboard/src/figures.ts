/**
 * How a figure from the graph is shown. Every figure element carries `data-path` (its path in the
 * GraphQL answer), `data-kind` and `data-raw` (the answered value as JSON, or "denied"), which the
 * browser tests compare with the gateway's own answer.
 *
 *  - a path the caller may not read (FORBIDDEN / UNAUTHENTICATED error on it or an ancestor): 无权限;
 *  - a suppressed small count of people (null where the schema says counts of 1-4 are suppressed): <5;
 *  - any other null: —.
 */
import type { Answer, Path } from './graphql';
import { enumLabel, lang, t } from './i18n';

/**
 * count: an integer; people: a count of people the elderly subgraph suppresses below 5 (null = <5);
 * rate: a 0-1 share shown as a percentage; percent: a 0-100 value; wan: yuan shown in 万元;
 * score: one decimal; enum; text; date (CST day); bool.
 */
export type Kind = 'count' | 'people' | 'rate' | 'percent' | 'wan' | 'score' | 'enum' | 'text' | 'date' | 'bool';

const INT = new Intl.NumberFormat('zh-CN', { maximumFractionDigits: 0 });
const ONE = new Intl.NumberFormat('zh-CN', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const CST_DAY = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });

export const DENIED = '无权限';
export const SUPPRESSED = '<5';
export const EMPTY = '—';

/** The text of a value that is present (not null). */
export function formatValue(v: unknown, kind: Kind): string {
  switch (kind) {
    case 'count':
    case 'people':
      return INT.format(v as number);
    case 'rate':
      return `${ONE.format((v as number) * 100)}%`;
    case 'percent':
      return `${ONE.format(v as number)}%`;
    case 'wan':
      return ONE.format((v as number) / 10000);
    case 'score':
      return ONE.format(v as number);
    case 'enum':
      return enumLabel(String(v));
    case 'date':
      return CST_DAY.format(new Date(String(v)));
    case 'bool':
      return v ? t('是') : t('否');
    default:
      return String(v);
  }
}

export interface Shown {
  text: string;
  state: 'ok' | 'denied' | 'suppressed' | 'empty';
  raw: unknown;
  reason?: string;
}

export function show(answer: Answer, path: Path, kind: Kind): Shown {
  const refusal = answer.refusal(path);
  if (refusal) return { text: t(DENIED), state: 'denied', raw: undefined, reason: refusal.message };
  const v = answer.get(path);
  if (v === null || v === undefined) {
    if (kind === 'people') return { text: SUPPRESSED, state: 'suppressed', raw: null };
    return { text: EMPTY, state: 'empty', raw: v ?? null };
  }
  return { text: formatValue(v, kind), state: 'ok', raw: v };
}

/** A <span> with the figure, annotated for tests and the spreadsheet export. */
export function figure(answer: Answer, path: Path, kind: Kind): HTMLSpanElement {
  const s = show(answer, path, kind);
  const el = document.createElement('span');
  el.className = `fig fig-${s.state}`;
  el.textContent = s.text;
  el.dataset.path = path.join('.');
  el.dataset.kind = kind;
  el.dataset.raw = s.state === 'denied' ? 'denied' : JSON.stringify(s.raw ?? null);
  if (s.reason) el.title = s.reason;
  if (s.state === 'suppressed') el.title = lang() === 'en' ? 'fewer than 5 people: suppressed' : '少于5人，已抑制';
  return el;
}

/** Small DOM helper: h('div', { class: 'x' }, child, 'text'). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | undefined> | null = null,
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}
