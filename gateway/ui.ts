/**
 * Web pages the gateway serves next to /graphql (README, "Exploring the graph"):
 *   /             a landing page linking the three and saying which needs the internet;
 *   /dashboard/   the bureau dashboard (dashboard/dist/dashboard, built by `npm run build:ui`);
 *   /explorer/    GraphiQL, bundled and served locally: works offline;
 *   /graphql      Apollo Sandbox (Apollo Server's landing page, loaded from Apollo's CDN) when
 *                 introspection is on.
 * `GATEWAY_UI` (lib/config.ts) turns the dashboard and the explorer on; by default both are on,
 * and off with NODE_ENV=production, like introspection. `POST /dashboard/dev-token` mints a local
 * token for a picked role in the embedded default only; anywhere else it answers 404.
 *
 * Every page is sent with a Content-Security-Policy that allows only this origin ('self'), plus
 * data: URLs for images and fonts (GraphiQL inlines its fonts); the explorer also allows inline
 * styles (GraphiQL's editor sets them), the dashboard does not (ECharts styles through the DOM API,
 * which CSP allows). Nothing on these pages loads from off the machine.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Express, type Request, type Response } from 'express';
import { loadConfig, type AuthSettings } from '../lib/config';
import { isRole, ROLE_NAMES, ROLES } from '../lib/auth/roles';
import { signLocalToken } from '../lib/auth/token';

export const UI_DIST_DIR = path.join(__dirname, '..', 'dashboard', 'dist');

export interface GatewayUiOptions {
  dashboard: boolean;
  explorer: boolean;
  /** Development-only token minting (the embedded default). */
  devTokens: boolean;
  /** Apollo Sandbox is served at /graphql (introspection on). */
  sandbox: boolean;
  auth: Pick<AuthSettings, 'mode' | 'issuer' | 'audience' | 'keyDir'>;
  distDir: string;
}

export function gatewayUiFromConfig(env?: NodeJS.ProcessEnv): Omit<GatewayUiOptions, 'sandbox'> {
  const cfg = loadConfig(env);
  return { ...cfg.gatewayUi, auth: cfg.auth, distDir: UI_DIST_DIR };
}

const LANDING_STYLE =
  'body{font-family:"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",system-ui,sans-serif;max-width:760px;margin:40px auto;padding:0 20px;color:#1f2933}' +
  'h1{font-size:22px}li{margin:14px 0}.off{color:#98a2b3}.tag{font-size:12px;border-radius:3px;padding:1px 6px;margin-left:6px}' +
  '.offline{background:#e3f5e8;color:#1b6b35}.online{background:#fff4d6;color:#8a5a00}code{background:#f3f5f8;padding:1px 4px}';

/**
 * The CSP of the pages: 'self' only. `inlineStyles` for GraphiQL, which sets inline styles
 * (CodeMirror); `styleHashes` for the landing page's one inline style sheet.
 */
export function contentSecurityPolicy(o: { inlineStyles?: boolean; styleHashes?: string[] } = {}): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src 'self'${o.inlineStyles ? " 'unsafe-inline'" : ''}${(o.styleHashes ?? []).map((h) => ` ${h}`).join('')}`,
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
  ].join('; ');
}

function pageHeaders(res: Response, csp = contentSecurityPolicy()): void {
  res.setHeader('Content-Security-Policy', csp);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-cache');
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function landingPage(o: GatewayUiOptions): string {
  const item = (on: boolean, href: string, title: string, what: string, net: 'offline' | 'online') =>
    on
      ? `<li><a href="${href}">${esc(title)}</a><span class="tag ${net}">${net === 'offline' ? '离线可用 works offline' : '需要互联网 needs the internet'}</span><br>${what}</li>`
      : `<li class="off">${esc(title)}: 本部署未开启 (off in this deployment)</li>`;
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>城市社区 GraphQL</title><link rel="icon" href="data:,"><style>${LANDING_STYLE}</style></head><body>
<h1>城市社区 GraphQL · City community graph</h1>
<ul>
${item(o.dashboard, '/dashboard/', '看板 Dashboard', '城市概览、区排名、小区画像，表格可下载 .xlsx。City overview, district ranking, 小区 profiles; every table downloads as .xlsx.', 'offline')}
${item(o.explorer, '/explorer/', 'GraphiQL 离线查询器 Explorer', 'GraphiQL served by this gateway: schema docs, token header, the dashboard’s operations as examples.', 'offline')}
${item(o.sandbox, '/graphql', 'Apollo Sandbox', 'Apollo’s explorer, loaded from Apollo’s CDN by your browser; the endpoint itself answers offline.', 'online')}
</ul>
<p>GraphQL endpoint: <code>POST /graphql</code>. Tokens: <code>npm run token -- --role CITY_ADMIN</code> (header <code>Authorization: Bearer …</code>); without one you are the anonymous public.</p>
</body></html>`;
}

/** Registers /, /dashboard and /explorer. */
export function registerUiRoutes(app: Express, o: GatewayUiOptions): void {
  const anyPage = o.dashboard || o.explorer || o.sandbox;
  const landing = landingPage(o);
  const landingHash = `'sha256-${createHash('sha256').update(LANDING_STYLE).digest('base64')}'`;
  app.get('/', (_req, res) => {
    if (!anyPage) return res.redirect('/graphql');
    // The landing page's only style is inline: allowed by its hash.
    pageHeaders(res, contentSecurityPolicy({ styleHashes: [landingHash] }));
    res.type('html').send(landing);
  });
  if (o.dashboard) {
    app.get('/dashboard/config.json', (_req, res) => {
      res.setHeader('Cache-Control', 'no-store');
      res.json({
        devTokens: o.devTokens,
        ...(o.devTokens ? { roles: ROLE_NAMES.filter((r) => r !== 'PUBLIC').map((r) => ({ role: r, label: ROLES[r].label, requiredClaims: ROLES[r].requiredClaims ?? [] })) } : {}),
      });
    });
  }
  if (o.devTokens) app.post('/dashboard/dev-token', express.json({ limit: '4kb' }), (req, res, next) => devToken(req, res, o).catch(next));
  else app.all('/dashboard/dev-token', (_req, res) => res.status(404).json({ error: 'development tokens are available only in the embedded default (not in production)' }));
  // After the routes above: the static pages end with a 404 for anything else under the prefix.
  mountPages(app, '/dashboard', path.join(o.distDir, 'dashboard'), o.dashboard, 'dashboard', contentSecurityPolicy());
  mountPages(app, '/explorer', path.join(o.distDir, 'explorer'), o.explorer, 'explorer', contentSecurityPolicy({ inlineStyles: true }));
}

function mountPages(app: Express, prefix: string, dir: string, on: boolean, name: string, csp: string): void {
  if (!on) {
    app.use(prefix, (_req, res) => res.status(404).type('text').send(`the ${name} is off in this deployment (GATEWAY_UI=${name} turns it on)\n`));
    return;
  }
  app.get(prefix, (req, res, next) => (req.path === prefix ? res.redirect(`${prefix}/`) : next()));
  app.use(prefix, (_req, res, next) => {
    if (!existsSync(path.join(dir, 'index.html'))) {
      return res.status(503).type('text').send(`the ${name} is not built: run \`npm run build:ui\`\n`);
    }
    next();
  });
  app.use(prefix, express.static(dir, { index: 'index.html', fallthrough: true, setHeaders: (res) => pageHeaders(res as Response, csp) }));
  app.use(prefix, (_req, res) => res.status(404).type('text').send('not found\n'));
}

/** Claims accepted from the development page (the formats lib/auth/verify.ts accepts). */
const CLAIM_FORMAT: Record<string, RegExp> = {
  district: /^\d{6}$/,
  street: /^\d{9}$/,
  neighborhood: /^\d{12}$/,
  community: /^[A-Za-z0-9_-]{1,100}$/,
  team: /^[A-Za-z0-9_-]{1,100}$/,
  company: /^[A-Za-z0-9]{1,40}$/,
  partner: /^[a-z][a-z0-9_-]{0,40}$/,
};

async function devToken(req: Request, res: Response, o: GatewayUiOptions): Promise<void> {
  const body = (req.body ?? {}) as Record<string, unknown>;
  if (!req.is('application/json')) {
    res.status(415).json({ error: 'send the role as JSON: {"role": "CIVIL_AFFAIRS"}' });
    return;
  }
  const role = typeof body.role === 'string' ? body.role.toUpperCase() : '';
  if (!isRole(role) || role === 'PUBLIC') {
    res.status(400).json({ error: `role must be one of ${ROLE_NAMES.filter((r) => r !== 'PUBLIC').join(', ')}` });
    return;
  }
  const claims: Record<string, string> = {};
  for (const [k, re] of Object.entries(CLAIM_FORMAT)) {
    const v = body[k];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string' || !re.test(v)) {
      res.status(400).json({ error: `claim "${k}" is malformed` });
      return;
    }
    claims[k] = v;
  }
  for (const needed of ROLES[role].requiredClaims ?? []) {
    if (!claims[needed]) {
      res.status(400).json({ error: `role ${role} needs the claim "${needed}"` });
      return;
    }
  }
  const token = await signLocalToken(o.auth, {
    role,
    district: claims.district,
    street: claims.street,
    neighborhood: claims.neighborhood,
    communities: claims.community ? [claims.community] : undefined,
    team: claims.team,
    company: claims.company,
    partner: claims.partner,
    ttl: '8h',
  });
  res.setHeader('Cache-Control', 'no-store');
  res.json({ token, role, expiresIn: '8h' });
}
