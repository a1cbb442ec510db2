/**
 * Sign-in: paste a token (kept in sessionStorage, this tab only), or, in the embedded default only,
 * mint one for a local role with the gateway's development endpoint `/dashboard/dev-token` (the
 * gateway answers 404 there in production).
 */
import { h } from '../figures';
import { getToken, setToken, tokenClaims } from '../graphql';
import { t } from '../i18n';
import type { ViewContext } from './common';

interface DevRole {
  role: string;
  label: string;
  requiredClaims: string[];
}

const CLAIMS = ['district', 'street', 'community', 'team', 'company', 'partner'] as const;

export async function signinView(ctx: ViewContext): Promise<void> {
  const textarea = h('textarea', { id: 'token-input', rows: '4', spellcheck: 'false', placeholder: 'eyJhbGciOi…' }) as HTMLTextAreaElement;
  textarea.value = getToken() ?? '';
  const save = h('button', { type: 'submit', id: 'token-save' }, t('保存令牌'));
  const paste = h(
    'form',
    { class: 'card signin', id: 'token-form' },
    h('h3', null, t('粘贴令牌(JWT)')),
    textarea,
    h('p', { class: 'note' }, t('令牌只保存在本标签页'), ' ', t('只读令牌说明')),
    save,
  );
  paste.addEventListener('submit', (e) => {
    e.preventDefault();
    setToken(textarea.value || null);
    ctx.navigate('#/');
  });
  const nodes: Node[] = [h('h2', { class: 'view-title' }, t('登录')), current(), paste];
  const dev = await devRoles();
  if (dev) nodes.push(devForm(dev, ctx));
  ctx.mount(...nodes);
}

function current(): HTMLElement {
  const c = tokenClaims();
  return h('p', { class: 'note' }, `${t('当前身份')}: `, h('strong', { id: 'current-role' }, c ? String(c.role) : t('匿名公众')));
}

async function devRoles(): Promise<DevRole[] | null> {
  // Always 200: says whether this gateway mints development tokens (the embedded default only).
  const res = await fetch('/dashboard/config.json', { headers: { accept: 'application/json' } }).catch(() => null);
  if (!res || !res.ok) return null;
  const config = (await res.json()) as { devTokens: boolean; roles?: DevRole[] };
  return config.devTokens && config.roles ? config.roles : null;
}

function devForm(roles: DevRole[], ctx: ViewContext): HTMLElement {
  const select = h('select', { id: 'dev-role' }, ...roles.map((r) => h('option', { value: r.role }, `${r.role} · ${r.label}`))) as HTMLSelectElement;
  const inputs = Object.fromEntries(CLAIMS.map((k) => [k, h('input', { id: `dev-${k}`, name: k, autocomplete: 'off' }) as HTMLInputElement]));
  const fields = CLAIMS.map((k) => h('label', { class: 'claim', 'data-claim': k }, `${k} `, inputs[k]!));
  const refresh = () => {
    const needed = roles.find((r) => r.role === select.value)?.requiredClaims ?? [];
    for (const f of fields) f.querySelector('input')!.placeholder = needed.includes(f.dataset.claim!) ? '*' : t('可选');
  };
  select.addEventListener('change', refresh);
  refresh();
  const status = h('p', { class: 'note', id: 'dev-status' });
  const form = h(
    'form',
    { class: 'card signin dev', id: 'dev-form' },
    h('h3', null, t('开发环境: 选择本地角色')),
    h('label', null, `${t('角色')} `, select),
    h('div', { class: 'claims' }, ...fields),
    h('button', { type: 'submit', id: 'dev-mint' }, t('签发令牌')),
    status,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const body: Record<string, unknown> = { role: select.value };
    for (const k of CLAIMS) if (inputs[k]!.value.trim()) body[k] = inputs[k]!.value.trim();
    void fetch('/dashboard/dev-token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then(async (res) => {
        const json = (await res.json()) as { token?: string; error?: string };
        if (!res.ok || !json.token) {
          status.textContent = json.error ?? `HTTP ${res.status}`;
          return;
        }
        setToken(json.token);
        ctx.navigate('#/');
      })
      .catch((err: Error) => (status.textContent = err.message));
  });
  return form;
}
