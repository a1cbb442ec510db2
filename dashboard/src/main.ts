/**
 * The bureau dashboard: a header (city picker, 小区 search, sign-in, language) and hash-routed views:
 *   #/city/<code>        city overview (four bureaus' headline figures, 12-month trends)
 *   #/ranking/<code>     district ranking table (sortable; rows link to the district)
 *   #/district/<code>    district view (figures, trends, its 小区)
 *   #/community/<id>     小区 profile and worklists
 *   #/search?q=<text>    小区 by name
 *   #/signin             token (pasted, or a local role in the embedded default)
 * `document.body.dataset.ready` is "true" once a view has drawn its figures, tables and charts (the
 * tests and the render benchmark wait for it; `window.__dashboardRenderedAt` is the first such
 * moment in ms since navigation start).
 */
import './styles.css';
import { disposeCharts } from './charts';
import { h } from './figures';
import { run, setToken, tokenClaims } from './graphql';
import { lang, setLang, t } from './i18n';
import { cityView, districtView, rankingView } from './views/area';
import { communityView } from './views/community';
import type { ViewContext } from './views/common';
import { searchView } from './views/search';
import { signinView } from './views/signin';

declare global {
  interface Window {
    __dashboardRenderedAt?: number;
  }
}

const CITY_KEY = 'city-dashboard.city';
let cities: { code: string; name: string }[] = [];
let generation = 0;

function currentCity(): string {
  return localStorage.getItem(CITY_KEY) ?? cities[0]?.code ?? '320100';
}

function header(): HTMLElement {
  const claims = tokenClaims();
  const citySelect = h('select', { id: 'city-select', 'aria-label': t('城市') }, ...cities.map((c) => h('option', { value: c.code }, c.name))) as HTMLSelectElement;
  citySelect.value = currentCity();
  citySelect.addEventListener('change', () => {
    localStorage.setItem(CITY_KEY, citySelect.value);
    location.hash = `#/city/${citySelect.value}`;
  });
  const search = h('input', { id: 'search-input', type: 'search', placeholder: t('输入小区名称'), 'aria-label': t('搜索小区') }) as HTMLInputElement;
  const form = h('form', { class: 'search', role: 'search' }, search, h('button', { type: 'submit' }, t('搜索')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (search.value.trim()) location.hash = `#/search?q=${encodeURIComponent(search.value.trim())}`;
  });
  const langButton = h('button', { type: 'button', id: 'lang-toggle', class: 'link' }, lang() === 'zh' ? 'EN' : '中文');
  langButton.addEventListener('click', () => {
    setLang(lang() === 'zh' ? 'en' : 'zh');
    void start();
  });
  const who = h('span', { class: 'who', id: 'who' }, `${t('当前身份')}: ${claims ? String(claims.role) : t('匿名公众')}`);
  const out = h('button', { type: 'button', class: 'link', id: 'sign-out' }, t('退出'));
  out.addEventListener('click', () => {
    setToken(null);
    void start();
  });
  return h(
    'header',
    { class: 'top' },
    h('h1', null, h('a', { href: '#/' }, t('城市社区治理看板'))),
    h('nav', null, citySelect, h('a', { href: `#/city/${currentCity()}` }, t('城市概览')), h('a', { href: `#/ranking/${currentCity()}` }, t('区排名'))),
    form,
    h('div', { class: 'session' }, who, claims ? out : h('a', { href: '#/signin', id: 'sign-in' }, t('登录')), langButton),
  );
}

async function route(): Promise<void> {
  const mine = ++generation;
  disposeCharts();
  document.body.dataset.ready = 'false';
  const main = document.getElementById('main')!;
  main.replaceChildren(h('p', { class: 'loading' }, `${t('加载中')}…`));
  const waits: Promise<unknown>[] = [];
  const ctx: ViewContext = {
    mount: (...nodes) => {
      if (mine === generation) main.replaceChildren(...nodes);
    },
    waitFor: (p) => waits.push(p),
    // After a sign-in: the header (identity) is drawn again too.
    navigate: (hash) => {
      history.pushState(null, '', hash);
      void start();
    },
  };
  const hash = location.hash.replace(/^#/, '') || '/';
  const [pathPart, queryPart] = hash.split('?');
  const parts = pathPart!.split('/').filter(Boolean).map(decodeURIComponent);
  const view = parts[0] ?? 'city';
  document.body.dataset.view = view;
  try {
    switch (view) {
      case 'ranking':
        await rankingView(ctx, parts[1] ?? currentCity());
        break;
      case 'district':
        await districtView(ctx, parts[1]!);
        break;
      case 'community':
        await communityView(ctx, parts[1]!);
        break;
      case 'search':
        await searchView(ctx, new URLSearchParams(queryPart ?? '').get('q') ?? '');
        break;
      case 'signin':
        await signinView(ctx);
        break;
      default: {
        const code = parts[1] ?? currentCity();
        localStorage.setItem(CITY_KEY, code);
        const select = document.getElementById('city-select') as HTMLSelectElement | null;
        if (select) select.value = code;
        await cityView(ctx, code);
      }
    }
    await Promise.all(waits);
  } catch (err) {
    ctx.mount(h('div', { class: 'banner error', role: 'alert' }, (err as Error).message));
  }
  if (mine !== generation) return;
  document.body.dataset.ready = 'true';
  window.__dashboardRenderedAt ??= performance.now();
}

async function start(): Promise<void> {
  document.documentElement.lang = lang() === 'en' ? 'en' : 'zh-CN';
  document.title = t('城市社区治理看板');
  if (!cities.length) {
    const a = await run('Cities');
    cities = (a.get(['cities']) as typeof cities | null) ?? [];
  }
  const app = document.getElementById('app')!;
  app.replaceChildren(header(), h('main', { id: 'main' }));
  await route();
}

window.addEventListener('hashchange', () => void route());
void start();
