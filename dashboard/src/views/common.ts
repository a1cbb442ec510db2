/** Pieces shared by the views: figure lists, derived shares, error banners. */
import { figure, h, formatValue, type Kind } from '../figures';
import type { Answer, Path } from '../graphql';
import { t } from '../i18n';

export interface ViewContext {
  /** Replace the main area's content. */
  mount(...nodes: Node[]): void;
  /** Wait for these (charts) before the view counts as rendered. */
  waitFor(p: Promise<unknown>): void;
  navigate(hash: string): void;
}

/** `label: figure` rows of a card. */
export function figureList(answer: Answer, rows: [string, Path, Kind][]): HTMLElement {
  return h('dl', { class: 'figures' }, ...rows.flatMap(([label, path, kind]) => [h('dt', null, t(label)), h('dd', null, figure(answer, path, kind))]));
}

/**
 * A share computed in the browser from two answered figures (e.g. committee coverage). Annotated with
 * `data-derived` (its formula over answer paths) so the tests recompute it; — when either is missing
 * or refused.
 */
export function derivedShare(answer: Answer, label: string, numerator: Path | ((a: Answer) => number | null), denominator: Path, formula: string): [HTMLElement, HTMLElement] {
  const num = typeof numerator === 'function' ? numerator(answer) : (answer.refusal(numerator) ? null : (answer.get(numerator) as number | null));
  const den = answer.refusal(denominator) ? null : (answer.get(denominator) as number | null);
  const value = typeof num === 'number' && typeof den === 'number' && den > 0 ? num / den : null;
  const el = h('span', { class: `fig derived ${value === null ? 'fig-empty' : 'fig-ok'}` }, value === null ? '—' : formatValue(value, 'rate'));
  el.dataset.derived = formula;
  el.dataset.kind = 'rate';
  el.dataset.raw = JSON.stringify(value);
  return [h('dt', null, t(label)), h('dd', null, el)];
}

export function card(title: string, cls: string, ...children: (Node | null)[]): HTMLElement {
  return h('section', { class: `card ${cls}` }, h('h3', null, title), ...children.filter((c): c is Node => c !== null));
}

/** A banner for errors that are not per-field refusals (invalid token, unavailable subgraph). */
export function errorBanner(answer: Answer): HTMLElement | null {
  const errs = answer.otherErrors();
  if (!errs.length) return null;
  const refusedToken = answer.status === 401 || errs.some((e) => e.extensions?.code === 'UNAUTHENTICATED');
  const title = refusedToken ? t('令牌被拒绝') : t('部分数据不可用');
  const box = h('div', { class: 'banner error', role: 'alert' }, h('strong', null, title), h('ul', null, ...errs.slice(0, 5).map((e) => h('li', null, `${e.extensions?.code ?? 'ERROR'}: ${e.message}`))));
  if (refusedToken) {
    const link = h('a', { href: '#/signin' }, t('登录'));
    box.append(link);
  }
  return box;
}

export function loading(): HTMLElement {
  return h('p', { class: 'loading' }, `${t('加载中')}…`);
}

/** Sort key of a figure: its number, or null when refused/missing (sorted last). */
export function sortKey(answer: Answer, path: Path): number | null {
  if (answer.refusal(path)) return null;
  const v = answer.get(path);
  return typeof v === 'number' ? v : null;
}
