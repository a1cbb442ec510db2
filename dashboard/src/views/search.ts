/**
 * Search for a 小区 by name. The graph has no search-by-name field (CommunityFilter has no name),
 * so the names are loaded once per token (CommunitySearch, 500 a page) and matched in the browser,
 * on the name and the aliases, case-insensitively.
 */
import { h } from '../figures';
import { getToken, run } from '../graphql';
import { t } from '../i18n';
import { dataTable } from '../table';
import { errorBanner, type ViewContext } from './common';

interface Entry {
  id: string;
  name: string;
  aliases: string[];
  district: { code: string; name: string };
}

let index: { token: string | null; entries: Promise<Entry[]> } | null = null;

function entries(): Promise<Entry[]> {
  const token = getToken();
  if (!index || index.token !== token) {
    index = {
      token,
      entries: (async () => {
        const out: Entry[] = [];
        let after: string | null = null;
        for (let pages = 0; pages < 200; pages++) {
          const a = await run('CommunitySearch', { first: 500, after });
          const edges = (a.get(['communities', 'edges']) as { node: Entry }[] | null) ?? [];
          if (!edges.length && a.errors.length) throw new Error(a.errors.map((e) => e.message).join('; '));
          out.push(...edges.map((e) => e.node));
          const info = a.get(['communities', 'pageInfo']) as { hasNextPage: boolean; endCursor: string | null } | null;
          if (!info?.hasNextPage || !info.endCursor) break;
          after = info.endCursor;
        }
        return out;
      })(),
    };
    index.entries.catch(() => (index = null));
  }
  return index.entries;
}

export function matches(all: Entry[], query: string): Entry[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  return all.filter((e) => e.name.toLowerCase().includes(q) || e.aliases.some((a) => a.toLowerCase().includes(q)) || e.id.toLowerCase() === q);
}

export async function searchView(ctx: ViewContext, query: string): Promise<void> {
  let all: Entry[];
  try {
    all = await entries();
  } catch (e) {
    ctx.mount(h('div', { class: 'banner error', role: 'alert' }, (e as Error).message));
    return;
  }
  const found = matches(all, query);
  const shown = found.slice(0, 200);
  ctx.mount(
    h('h2', { class: 'view-title' }, `${t('搜索')}: “${query}” · ${found.length} ${t('结果')}`),
    found.length
      ? dataTable({
          id: 'search',
          title: t('搜索小区'),
          fileName: `搜索-${query}`,
          rows: shown,
          note: found.length > shown.length ? `${t('显示前')} ${shown.length} ${t('条')}` : undefined,
          columns: [
            { label: t('小区'), cell: (r) => h('a', { href: `#/community/${r.id}`, class: 'community-link' }, r.name), sort: (r) => r.name },
            { label: t('区'), cell: (r) => h('a', { href: `#/district/${r.district.code}` }, r.district.name), sort: (r) => r.district.name },
            { label: 'ID', cell: (r) => r.id, sort: (r) => r.id },
          ],
        })
      : h('p', { class: 'banner' }, t('没有匹配的小区')),
  );
}

export { errorBanner };
