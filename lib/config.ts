/**
 * Configuration, parsed once with zod. This is the only module that reads `process.env`
 * (callers may pass another env object, e.g. in tests). Every invalid variable is reported.
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { clockFromSetting, parseInstant, setClock } from './clock';

const port = z.coerce.number().int().min(0).max(65535);
const mongoUri = z
  .string()
  .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URI');

// ---- CORS allowlist (gateway/security.ts, lib/subgraph-server.ts; README "Exploring the graph") ----
/** Apollo's hosted Sandbox and Explorer: the origin their requests come from (Apollo Router's default). */
export const APOLLO_STUDIO_ORIGIN = 'https://studio.apollographql.com';
/** In CORS_ORIGINS: the origin the service itself is reached at (pages it serves, e.g. a future /dashboard). */
export const SELF_ORIGIN = 'self';
/** Where the allowlist came from: set explicitly, or the default for the way the service is configured. */
export type CorsOriginsSource = 'CORS_ORIGINS' | 'embedded default' | 'deployment default';
const ORIGIN_SETTING = /^(self|https?:\/\/(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?)$/;

/** The entries of a CORS_ORIGINS value: trimmed, lower case, without a trailing slash. */
export function parseCorsOrigins(value: string): string[] {
  return value
    .split(',')
    .map((o) => o.trim().toLowerCase().replace(/\/$/, ''))
    .filter(Boolean);
}

/**
 * CORS_ORIGINS, when set (even to nothing), is the allowlist. Unset: the embedded default (NODE_ENV
 * is not production and none of MONGODB_URI, MONGODB_URI_<NAME>, JWKS_URL is set, i.e. a developer's
 * `npm start`) allows Apollo's hosted Sandbox and `self`; anything configured like a deployment
 * allows no browser origin.
 */
function corsAllowlist(base: BaseConfig, perSubgraph: Map<string, string>): { corsOrigins: string[]; corsOriginsSource: CorsOriginsSource } {
  if (base.CORS_ORIGINS !== undefined) return { corsOrigins: parseCorsOrigins(base.CORS_ORIGINS), corsOriginsSource: 'CORS_ORIGINS' };
  const embeddedDefault =
    base.NODE_ENV !== 'production' && !base.JWKS_URL && !base.MONGODB_URI && ![...perSubgraph.keys()].some((k) => k.startsWith('MONGODB_URI_'));
  return embeddedDefault
    ? { corsOrigins: [APOLLO_STUDIO_ORIGIN, SELF_ORIGIN], corsOriginsSource: 'embedded default' }
    : { corsOrigins: [], corsOriginsSource: 'deployment default' };
}

const BaseEnv = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(4000),
  DATA_DIR: z.string().min(1).default('.data'),
  MONGODB_URI: mongoUri.optional(),
  /** Domain time: start the clock at this ISO-8601 instant (demos, tests); unset = the real time. */
  CLOCK_NOW: z
    .string()
    .refine((v) => parseInstant(v) !== null, 'must be an ISO-8601 instant with a zone, e.g. 2027-02-28T16:30:00Z')
    .optional(),
  /** With CLOCK_NOW: keep the clock stopped at that instant instead of letting it run on. */
  CLOCK_FREEZE: z.enum(['true', 'false', '1', '0']).default('false'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SUPERGRAPH_FILE: z.string().min(1).optional(),
  /** Serve a contract (schema/contracts/<name>.supergraph.graphql) instead of the full API, e.g. `public`. */
  GATEWAY_CONTRACT: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a contract name such as public').optional(),
  // ---- access control (lib/auth, gateway/security.ts) ----
  /** Expected `iss` and `aud` of bearer tokens. */
  JWT_ISSUER: z.string().min(1).default('city-community-graph'),
  JWT_AUDIENCE: z.string().min(1).default('city-community-graph'),
  /** Production: verify tokens against this JWKS URL. Unset: a local key pair under JWT_KEY_DIR. */
  JWKS_URL: z.string().url().optional(),
  /** Local signing keys of the embedded default (default DATA_DIR/keys). */
  JWT_KEY_DIR: z.string().min(1).optional(),
  /**
   * Browser origins allowed by CORS at the gateway (and, outside production, at the subgraphs):
   * comma-separated `scheme://host[:port]` or `self`. Set (even empty) it is exactly the allowlist;
   * unset, see `corsAllowlist` above.
   */
  CORS_ORIGINS: z
    .string()
    .refine(
      (v) => parseCorsOrigins(v).every((o) => ORIGIN_SETTING.test(o)),
      'must be comma-separated origins such as https://dashboard.city.example (scheme://host[:port], no path) or self',
    )
    .optional(),
  /** Requests per minute per token (or per IP for anonymous callers) at the gateway. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /**
   * Where the gateway keeps its rate-limit counters: `memory` (per gateway replica, the default) or
   * `mongodb` (one budget shared by every replica, in RATE_LIMIT_MONGODB_URI; docs/deployment.md).
   */
  RATE_LIMIT_STORE: z.enum(['memory', 'mongodb']).default('memory'),
  /** With RATE_LIMIT_STORE=mongodb: the MongoDB holding the shared counters (default MONGODB_URI). */
  RATE_LIMIT_MONGODB_URI: mongoUri.optional(),
  // ---- client addresses behind a load balancer (gateway/server.ts; docs/deployment.md) ----
  /**
   * The proxies in front of the gateway trusted to name the client (X-Forwarded-For), so per-IP
   * limits see the client and not the load balancer: a hop count (1 = the nearest proxy only),
   * `loopback` / `linklocal` / `uniquelocal`, or IP addresses and CIDRs, comma-separated (express's
   * `trust proxy`). Default: none, the connection's own address.
   */
  GATEWAY_TRUST_PROXY: z
    .string()
    .refine((v) => parseTrustProxy(v) !== null, 'must be a hop count, loopback, linklocal, uniquelocal or comma-separated IP addresses/CIDRs such as 10.0.0.0/8 (true, trusting any client, is refused)')
    .optional(),
  /** Introspection and the Sandbox page at the gateway: default on, off when NODE_ENV=production. */
  INTROSPECTION: z.enum(['true', 'false', '1', '0']).optional(),
  MAX_QUERY_DEPTH: z.coerce.number().int().min(1).default(12),
  MAX_QUERY_ALIASES: z.coerce.number().int().min(1).default(30),
  MAX_QUERY_TOKENS: z.coerce.number().int().min(10).default(5000),
  MAX_QUERY_COST: z.coerce.number().int().min(1).default(20000),
  /** Largest accepted request body at the gateway, e.g. 1mb. */
  BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'must look like 512kb or 1mb').default('1mb'),
  // ---- fair use at the gateway (gateway/security.ts `createFairUse`; docs/access.md, "Fair use") ----
  /**
   * Per-caller budgets of query cost per second and of operations in flight (`false` turns both
   * off, e.g. for a load test from one address). Cost is GraphQL Armor's, as MAX_QUERY_COST counts it.
   */
  FAIR_USE: z.enum(['true', 'false', '1', '0']).default('true'),
  /** Query cost per second of one authenticated caller (token subject). */
  FAIR_USE_COST_PER_SECOND: z.coerce.number().int().min(1).default(50000),
  /** Operations in flight at once of one authenticated caller. */
  FAIR_USE_CONCURRENT: z.coerce.number().int().min(1).default(32),
  /** Query cost per second of one anonymous caller (client IP address). */
  FAIR_USE_ANONYMOUS_COST_PER_SECOND: z.coerce.number().int().min(1).default(40000),
  /** Operations in flight at once of one anonymous caller (client IP address). */
  FAIR_USE_ANONYMOUS_CONCURRENT: z.coerce.number().int().min(1).default(24),
  /** Query cost per second of all anonymous callers together (address rotation cannot multiply it). */
  FAIR_USE_ANONYMOUS_POOL_COST_PER_SECOND: z.coerce.number().int().min(1).default(50000),
  /** Operations in flight at once of all anonymous callers together. */
  FAIR_USE_ANONYMOUS_POOL_CONCURRENT: z.coerce.number().int().min(1).default(64),
  // ---- gateway performance and resilience (gateway/tuning.ts) ----
  /** Deadline of one subgraph call, retry included. */
  GATEWAY_SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(50).max(120000).default(1500),
  /** Per-subgraph deadlines overriding the above, e.g. `elderly=3000,renovation=2500`. */
  GATEWAY_SUBGRAPH_TIMEOUTS: z.string().regex(/^([a-z0-9_-]+=\d+)(,[a-z0-9_-]+=\d+)*$/i, 'must look like name=ms,name=ms').optional(),
  /** Retries may add at most this percentage of subgraph requests over a 10 s window. */
  GATEWAY_RETRY_BUDGET_PERCENT: z.coerce.number().min(0).max(100).default(10),
  /** Representation dedup and in-flight merging of identical subgraph calls. */
  GATEWAY_DEDUP: z.enum(['true', 'false', '1', '0']).default('true'),
  /** Approximate size of the query plan cache. */
  GATEWAY_QUERY_PLAN_CACHE_MIB: z.coerce.number().int().min(1).max(4096).default(30),
  /** Longest life of a cached response (0 turns the response cache off). */
  GATEWAY_RESPONSE_CACHE_MAX_TTL_S: z.coerce.number().int().min(0).max(3600).default(10),
  /** Safelist mode: only operations in this manifest file are accepted. */
  GATEWAY_SAFELIST_FILE: z.string().min(1).optional(),
  /**
   * Web pages the gateway serves next to /graphql (gateway/ui.ts): `dashboard` (/dashboard),
   * `explorer` (/explorer, offline GraphiQL), comma-separated, or `none`. Default: both, none when
   * NODE_ENV=production (as introspection).
   */
  GATEWAY_UI: z
    .string()
    .refine((v) => v.trim() === 'none' || parseUiPages(v).every((p) => UI_PAGES.includes(p as UiPage)), 'must be none or a comma-separated list of dashboard, explorer')
    .optional(),
  // ---- subgraphs (lib/subgraph-server.ts) ----
  /**
   * Federated tracing (ftv1) at every subgraph: answered to callers that send
   * `apollo-federation-include-trace: ftv1`. Unset: on in the embedded default, off otherwise.
   */
  SUBGRAPH_FTV1: z.enum(['true', 'false', '1', '0']).optional(),
  // ---- subgraphs answer only the gateway (lib/auth/gateway-secret.ts; docs/access.md) ----
  /**
   * Shared secret the gateway sends to every subgraph (`x-gateway-secret`); a subgraph where it is set
   * refuses any other request (401) before parsing it. Required by a subgraph with NODE_ENV=production.
   * Unset in the embedded default (no check).
   */
  GATEWAY_SECRET: z.string().min(32, 'must be at least 32 characters (e.g. openssl rand -base64 48)').regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces').optional(),
  /** During a rotation: the previous secret, still accepted by the subgraphs (the gateway sends GATEWAY_SECRET). */
  GATEWAY_SECRET_PREVIOUS: z.string().min(32, 'must be at least 32 characters').regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces').optional(),
  // ---- MongoDB topology (lib/db.ts; docs/deployment.md) ----
  /** Read preference of every subgraph's connection; unset: the URI's, else `primary`. */
  MONGODB_READ_PREFERENCE: z.enum(['primary', 'primaryPreferred', 'secondary', 'secondaryPreferred', 'nearest']).optional(),
  /** Write concern `w` of every subgraph's connection: `majority` or a number of members; unset: the URI's, else the server's default. */
  MONGODB_WRITE_CONCERN: z.string().regex(/^(majority|\d{1,2})$/, 'must be majority or a number of members such as 1').optional(),
  /** Retryable writes (replica sets and sharded clusters); unset: the URI's, else on (the driver's default). */
  MONGODB_RETRY_WRITES: z.enum(['true', 'false', '1', '0']).optional(),
  // ---- demo data (npm start) ----
  /** Size of the synthetic city `npm start` loads into an empty store next to the article's four 小区 (0: none; a store keeps the size it was seeded with). */
  DEMO_COMMUNITIES: z.coerce.number().int().min(0).max(200000).default(400),
  // ---- metrics and traces (lib/metrics.ts, lib/tracing.ts; README "Operations") ----
  /** Prometheus `/metrics` on the gateway and on every subgraph (default on). */
  METRICS_ENABLED: z.enum(['true', 'false', '1', '0']).default('true'),
  /** When set, `/metrics` answers only `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise). */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces').optional(),
  /** OTLP/HTTP collector base URL (spans go to <url>/v1/traces); unset: no span leaves the process. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  /** OTLP/HTTP traces URL, used as it is (overrides OTEL_EXPORTER_OTLP_ENDPOINT for traces). */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().url().optional(),
  /** `service.name` of exported spans (default city-community-graph). */
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  // ---- fault behaviour (lib/db.ts, lib/http.ts, entry points; README "Operations") ----
  /** How long a database operation waits for a usable server before it fails (driver's serverSelectionTimeoutMS). */
  MONGODB_SERVER_SELECTION_TIMEOUT_MS: z.coerce.number().int().min(100).max(120000).default(5000),
  /** How long opening a connection to the database, or a heartbeat on one, may take (driver's connectTimeoutMS; its own default is 30 s). */
  MONGODB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120000).default(5000),
  /** A client must have sent all request headers within this time, or gets 408 and is disconnected (Node's server.headersTimeout). */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600000).default(10000),
  /** A client must have sent the whole request (headers and body) within this time (Node's server.requestTimeout). */
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600000).default(30000),
  /** On SIGTERM/SIGINT: how long requests in flight may take to complete before they are cut and the process exits. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600000).default(10000),
});

export type BaseConfig = z.infer<typeof BaseEnv>;

// ---- web pages served by the gateway (gateway/ui.ts) ----
export const UI_PAGES = ['dashboard', 'explorer'] as const;
export type UiPage = (typeof UI_PAGES)[number];
function parseUiPages(value: string): string[] {
  return value.split(',').map((p) => p.trim().toLowerCase()).filter(Boolean);
}

/** Which pages the gateway serves, and whether the development-only token page is on. */
export interface GatewayUiSettings {
  dashboard: boolean;
  explorer: boolean;
  /**
   * `POST /dashboard/dev-token` mints local tokens for a picked role: only in the embedded default
   * (NODE_ENV is not production, local keys, no MONGODB_URI / MONGODB_URI_<NAME>), never in production.
   */
  devTokens: boolean;
}

function gatewayUi(base: BaseConfig, embeddedDefault: boolean): GatewayUiSettings {
  const pages = base.GATEWAY_UI === undefined ? (base.NODE_ENV === 'production' ? [] : [...UI_PAGES]) : base.GATEWAY_UI.trim() === 'none' ? [] : parseUiPages(base.GATEWAY_UI);
  const dashboard = pages.includes('dashboard');
  return { dashboard, explorer: pages.includes('explorer'), devTokens: dashboard && embeddedDefault };
}

export interface Config extends BaseConfig {
  /** Absolute data directory. */
  dataDir: string;
  /** Per-subgraph MongoDB URI (`MONGODB_URI_<NAME>`), falling back to `MONGODB_URI`. */
  mongoUriFor(subgraph: string): string | undefined;
  /** Port of a subgraph (`<NAME>_PORT`), falling back to the given default. */
  subgraphPort(subgraph: string, fallback: number): number;
  /** Routing URL override for the gateway (`<NAME>_URL`), if set. */
  subgraphUrl(subgraph: string): string | undefined;
  /** True when no MongoDB URI is configured at all: the embedded engine is used. */
  usesEmbeddedEngine: boolean;
  /** Token verification settings shared by the gateway and every subgraph. */
  auth: AuthSettings;
  /** Gateway abuse limits. */
  gatewaySecurity: GatewaySecuritySettings;
  /** Proxies trusted for the client address (GATEWAY_TRUST_PROXY); `false`: none. */
  gatewayTrustProxy: TrustProxySetting;
  /** Subgraphs answer federated traces (SUBGRAPH_FTV1; unset: on in the embedded default only). */
  subgraphFtv1: boolean;
  /** Dashboard and explorer pages (GATEWAY_UI). */
  gatewayUi: GatewayUiSettings;
}

export interface AuthSettings {
  /** `jwks`: production keys from JWKS_URL; `local`: the embedded default's key pair in keyDir. */
  mode: 'jwks' | 'local';
  issuer: string;
  audience: string;
  jwksUrl?: string;
  keyDir: string;
}

export interface GatewaySecuritySettings {
  introspection: boolean;
  /** Browser origins allowed by CORS; `self` = the origin the service is reached at. */
  corsOrigins: string[];
  /** Why these origins (logged at start-up). */
  corsOriginsSource?: CorsOriginsSource;
  rateLimitPerMinute: number;
  /** Rate-limit counters per replica (`memory`, default) or shared by every replica (`mongodb`). */
  rateLimitStore?: 'memory' | 'mongodb';
  /** With `mongodb`: where the shared counters live. */
  rateLimitMongoUri?: string;
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxCost: number;
  bodyLimit: string;
  /** Per-caller budgets of cost and concurrency (FAIR_USE*); `false`: off. Unset: off. */
  fairUse?: FairUseSettings | false;
}

/** One fair-use budget: query cost per second and operations in flight at once. */
export interface FairUseBudget {
  costPerSecond: number;
  concurrent: number;
}

/** Fair-use budgets at the gateway (gateway/security.ts `createFairUse`). */
export interface FairUseSettings {
  /** Each authenticated caller (token subject). */
  authenticated: FairUseBudget;
  /** Each anonymous caller (client IP address). */
  anonymous: FairUseBudget;
  /** All anonymous callers together. */
  anonymousPool: FairUseBudget;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const envKey = (subgraph: string) => subgraph.toUpperCase().replace(/[^A-Z0-9]/g, '_');

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const parsed = BaseEnv.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  // Per-subgraph variables are open-ended (partners add subgraphs): validate them by pattern.
  const perSubgraph = new Map<string, string>();
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (/^MONGODB_URI_[A-Z0-9_]+$/.test(key)) {
      const r = mongoUri.safeParse(value);
      if (!r.success) problems.push(`${key}: must be a mongodb:// or mongodb+srv:// URI`);
      else perSubgraph.set(key, value);
    } else if (/^[A-Z0-9_]+_PORT$/.test(key) && key !== 'PORT') {
      const r = port.safeParse(value);
      if (!r.success) problems.push(`${key}: must be a port number 0-65535`);
      else perSubgraph.set(key, String(r.data));
    } else if (/^[A-Z0-9_]+_URL$/.test(key)) {
      perSubgraph.set(key, value);
    }
  }
  if (parsed.success && parsed.data.NODE_ENV === 'production' && !parsed.data.JWKS_URL) {
    problems.push('JWKS_URL: required when NODE_ENV=production (tokens are verified against the identity provider)');
  }
  if (parsed.success && parsed.data.RATE_LIMIT_STORE === 'mongodb' && !parsed.data.RATE_LIMIT_MONGODB_URI && !parsed.data.MONGODB_URI) {
    problems.push('RATE_LIMIT_MONGODB_URI: required when RATE_LIMIT_STORE=mongodb (the MongoDB holding the shared rate-limit counters)');
  }
  if (problems.length || !parsed.success) throw new ConfigError(problems);
  const base = parsed.data;
  const dataDir = path.resolve(base.DATA_DIR);
  return {
    ...base,
    dataDir,
    auth: {
      mode: base.JWKS_URL ? 'jwks' : 'local',
      issuer: base.JWT_ISSUER,
      audience: base.JWT_AUDIENCE,
      jwksUrl: base.JWKS_URL,
      keyDir: path.resolve(base.JWT_KEY_DIR ?? path.join(dataDir, 'keys')),
    },
    gatewayTrustProxy: parseTrustProxy(base.GATEWAY_TRUST_PROXY) ?? false,
    gatewaySecurity: {
      introspection: base.INTROSPECTION ? base.INTROSPECTION === 'true' || base.INTROSPECTION === '1' : base.NODE_ENV !== 'production',
      ...corsAllowlist(base, perSubgraph),
      rateLimitPerMinute: base.RATE_LIMIT_PER_MINUTE,
      rateLimitStore: base.RATE_LIMIT_STORE,
      rateLimitMongoUri: base.RATE_LIMIT_MONGODB_URI ?? base.MONGODB_URI,
      maxDepth: base.MAX_QUERY_DEPTH,
      maxAliases: base.MAX_QUERY_ALIASES,
      maxTokens: base.MAX_QUERY_TOKENS,
      maxCost: base.MAX_QUERY_COST,
      bodyLimit: base.BODY_LIMIT,
      fairUse:
        base.FAIR_USE === 'true' || base.FAIR_USE === '1'
          ? {
              authenticated: { costPerSecond: base.FAIR_USE_COST_PER_SECOND, concurrent: base.FAIR_USE_CONCURRENT },
              anonymous: { costPerSecond: base.FAIR_USE_ANONYMOUS_COST_PER_SECOND, concurrent: base.FAIR_USE_ANONYMOUS_CONCURRENT },
              anonymousPool: { costPerSecond: base.FAIR_USE_ANONYMOUS_POOL_COST_PER_SECOND, concurrent: base.FAIR_USE_ANONYMOUS_POOL_CONCURRENT },
            }
          : false,
    },
    gatewayUi: gatewayUi(base, base.NODE_ENV !== 'production' && !base.JWKS_URL && !base.MONGODB_URI && ![...perSubgraph.keys()].some((k) => k.startsWith('MONGODB_URI_'))),
    usesEmbeddedEngine: !base.MONGODB_URI && ![...perSubgraph.keys()].some((k) => k.startsWith('MONGODB_URI_')),
    // Unset: on in the embedded default (not production; no JWKS_URL, MONGODB_URI or MONGODB_URI_<NAME>).
    subgraphFtv1:
      base.SUBGRAPH_FTV1 !== undefined
        ? base.SUBGRAPH_FTV1 === 'true' || base.SUBGRAPH_FTV1 === '1'
        : base.NODE_ENV !== 'production' && !base.JWKS_URL && !base.MONGODB_URI && ![...perSubgraph.keys()].some((k) => k.startsWith('MONGODB_URI_')),
    mongoUriFor: (s) => perSubgraph.get(`MONGODB_URI_${envKey(s)}`) ?? base.MONGODB_URI,
    subgraphPort: (s, fallback) => {
      const v = perSubgraph.get(`${envKey(s)}_PORT`);
      return v === undefined ? fallback : Number(v);
    },
    subgraphUrl: (s) => perSubgraph.get(`${envKey(s)}_URL`),
  };
}

/** Connection settings for a replica set or sharded cluster (lib/db.ts `connectDatabase`). */
export interface MongoTopologySettings {
  readPreference?: 'primary' | 'primaryPreferred' | 'secondary' | 'secondaryPreferred' | 'nearest';
  /** Write concern `w`. */
  writeConcern?: 'majority' | number;
  retryWrites?: boolean;
}

/**
 * MONGODB_READ_PREFERENCE, MONGODB_WRITE_CONCERN and MONGODB_RETRY_WRITES alone (unset ones stay
 * undefined, so the URI's options or the driver's defaults apply). Invalid values throw ConfigError.
 */
export function mongoTopologyFromEnv(env: NodeJS.ProcessEnv = process.env): MongoTopologySettings {
  const parsed = BaseEnv.pick({ MONGODB_READ_PREFERENCE: true, MONGODB_WRITE_CONCERN: true, MONGODB_RETRY_WRITES: true }).safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  const { MONGODB_READ_PREFERENCE: rp, MONGODB_WRITE_CONCERN: w, MONGODB_RETRY_WRITES: retry } = parsed.data;
  return {
    ...(rp ? { readPreference: rp } : {}),
    ...(w ? { writeConcern: w === 'majority' ? 'majority' : Number(w) } : {}),
    ...(retry ? { retryWrites: retry === 'true' || retry === '1' } : {}),
  };
}

/**
 * Usage-reporting credentials of other gateway engines set in `env` (Hive Gateway reads them from
 * the environment): gateway/hive/gateway.config.ts refuses to start with any of them, so nothing is
 * reported off the machine by default.
 */
export function reportingCredentialsIn(env: NodeJS.ProcessEnv = process.env): string[] {
  return ['HIVE_REGISTRY_TOKEN', 'HIVE_USAGE_ACCESS_TOKEN', 'HIVE_TRACE_ACCESS_TOKEN', 'HIVE_CDN_KEY', 'APOLLO_KEY', 'APOLLO_GRAPH_REF'].filter((k) => env[k]);
}

/** Every fixed variable name the configuration knows (deployment manifests are checked against it). */
export const KNOWN_VARIABLES: readonly string[] = Object.keys(BaseEnv.shape);

/**
 * True for a variable this configuration reads: a fixed one, or a per-subgraph one
 * (`MONGODB_URI_<NAME>`, `<NAME>_PORT`, `<NAME>_URL`).
 */
export function isKnownVariable(name: string): boolean {
  return KNOWN_VARIABLES.includes(name) || /^MONGODB_URI_[A-Z0-9_]+$/.test(name) || /^[A-Z0-9_]+_PORT$/.test(name) || /^[A-Z0-9_]+_URL$/.test(name);
}

/** The programs that read this configuration; each honours only some of the variables. */
export type EntryPoint = 'start' | 'start:gateway' | 'start:subgraph' | 'seed';

/** Variables only a gateway honours. */
const GATEWAY_ONLY = [
  'PORT', 'SUPERGRAPH_FILE', 'GATEWAY_CONTRACT', 'RATE_LIMIT_PER_MINUTE', 'MAX_QUERY_DEPTH', 'MAX_QUERY_ALIASES',
  'MAX_QUERY_TOKENS', 'MAX_QUERY_COST', 'BODY_LIMIT', 'GATEWAY_SUBGRAPH_TIMEOUT_MS', 'GATEWAY_SUBGRAPH_TIMEOUTS',
  'GATEWAY_RETRY_BUDGET_PERCENT', 'GATEWAY_DEDUP', 'GATEWAY_QUERY_PLAN_CACHE_MIB', 'GATEWAY_RESPONSE_CACHE_MAX_TTL_S',
  'GATEWAY_SAFELIST_FILE', 'GATEWAY_UI', 'RATE_LIMIT_STORE', 'RATE_LIMIT_MONGODB_URI', 'GATEWAY_TRUST_PROXY',
  // fair use (gateway/security.ts)
  'FAIR_USE', 'FAIR_USE_COST_PER_SECOND', 'FAIR_USE_CONCURRENT', 'FAIR_USE_ANONYMOUS_COST_PER_SECOND',
  'FAIR_USE_ANONYMOUS_CONCURRENT', 'FAIR_USE_ANONYMOUS_POOL_COST_PER_SECOND', 'FAIR_USE_ANONYMOUS_POOL_CONCURRENT',
];
/** Gateway settings a subgraph honours too: the same query limits apply at every subgraph. */
const QUERY_LIMITS = ['MAX_QUERY_DEPTH', 'MAX_QUERY_ALIASES', 'MAX_QUERY_TOKENS', 'MAX_QUERY_COST'];
/** Variables only a process holding domain data (a subgraph, the seeds) honours. */
const DATA_ONLY = ['MONGODB_URI', 'CLOCK_NOW', 'CLOCK_FREEZE', 'MONGODB_READ_PREFERENCE', 'MONGODB_WRITE_CONCERN', 'MONGODB_RETRY_WRITES', 'MONGODB_SERVER_SELECTION_TIMEOUT_MS', 'MONGODB_CONNECT_TIMEOUT_MS'];
/** Variables only a process serving HTTP honours (not `npm run seed`). */
const SERVING_ONLY = ['HTTP_HEADERS_TIMEOUT_MS', 'HTTP_REQUEST_TIMEOUT_MS', 'SHUTDOWN_GRACE_MS'];
const RESERVED_URL = new Set(['JWKS_URL']);

/**
 * The variables set in `env` that `entry` cannot honour, each with the reason: start-up refuses
 * them rather than ignoring them silently. Per-subgraph variables of other subgraphs
 * (`MONGODB_URI_ELDERLY` when starting properties) are accepted, so one env file can serve a
 * whole deployment.
 */
export function unhonouredVariables(env: NodeJS.ProcessEnv, entry: EntryPoint): string[] {
  const set = (k: string) => env[k] !== undefined && env[k] !== '';
  const out: string[] = [];
  const perSubgraphUrl = Object.keys(env).filter((k) => /^[A-Z0-9_]+_URL$/.test(k) && !RESERVED_URL.has(k) && set(k));
  const perSubgraphPort = Object.keys(env).filter((k) => /^[A-Z0-9_]+_PORT$/.test(k) && k !== 'PORT' && set(k));
  const perSubgraphUri = Object.keys(env).filter((k) => /^MONGODB_URI_[A-Z0-9_]+$/.test(k) && set(k));
  switch (entry) {
    case 'start':
      for (const k of perSubgraphUrl) out.push(`${k}: npm start routes the gateway to the subgraphs it starts itself; routing URLs apply to npm run start:gateway`);
      break;
    case 'start:gateway':
      for (const k of [...DATA_ONLY, ...perSubgraphUri]) if (set(k)) out.push(`${k}: the gateway holds no data; set it where the subgraphs run (npm run start:subgraph)`);
      for (const k of perSubgraphPort) out.push(`${k}: the gateway does not start subgraphs; point it at them with <NAME>_URL`);
      if (set('DEMO_COMMUNITIES')) out.push('DEMO_COMMUNITIES: the gateway loads no data; npm start and npm run seed do');
      if (set('SUBGRAPH_FTV1')) out.push('SUBGRAPH_FTV1: a subgraph setting; set it where the subgraphs run (npm run start:subgraph)');
      break;
    case 'start:subgraph':
      // The query limits (MAX_QUERY_*) apply at every subgraph as well (lib/limits.ts).
      for (const k of GATEWAY_ONLY) if (set(k) && !QUERY_LIMITS.includes(k)) out.push(`${k}: a gateway setting; a subgraph alone listens on <NAME>_PORT`);
      for (const k of perSubgraphUrl) out.push(`${k}: a gateway routing URL; a subgraph alone does not route`);
      if (set('DEMO_COMMUNITIES')) out.push('DEMO_COMMUNITIES: a subgraph alone loads the article\'s four 小区 when its store is empty; load a synthetic city with npm run seed -- --communities N');
      break;
    case 'seed':
      for (const k of GATEWAY_ONLY) if (set(k)) out.push(`${k}: a gateway setting; npm run seed starts no gateway`);
      for (const k of perSubgraphUrl) out.push(`${k}: a gateway routing URL; npm run seed starts no gateway`);
      if (set('DEMO_COMMUNITIES')) out.push('DEMO_COMMUNITIES: npm run seed takes the size as --communities N');
      if (set('SUBGRAPH_FTV1')) out.push('SUBGRAPH_FTV1: a subgraph setting; npm run seed serves no subgraph');
      for (const k of SERVING_ONLY) if (set(k)) out.push(`${k}: a server setting; npm run seed serves no requests`);
      break;
  }
  return out;
}

/** Installs the configured clock (CLOCK_NOW / CLOCK_FREEZE) for the whole process; no-op when unset. */
export function applyClockConfig(config: Pick<BaseConfig, 'CLOCK_NOW' | 'CLOCK_FREEZE'>): void {
  const c = clockFromSetting(config.CLOCK_NOW, config.CLOCK_FREEZE === 'true' || config.CLOCK_FREEZE === '1');
  if (c) setClock(c);
}

/**
 * Loads the config or prints every problem and exits non-zero (for entry points). Also installs
 * the configured clock, so every entry point honours CLOCK_NOW.
 */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env, entry?: EntryPoint): Config {
  try {
    const config = loadConfig(env);
    const unhonoured = entry ? unhonouredVariables(env, entry) : [];
    if (unhonoured.length) throw new ConfigError(unhonoured.map((p) => `${p} (not honoured by npm ${entry === 'start' ? 'start' : `run ${entry}`})`));
    applyClockConfig(config);
    return config;
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(1);
    }
    throw e;
  }
}

/**
 * `@apollo/gateway` >= 2.14 exports usage metrics to Apollo and probes cloud metadata endpoints
 * unless this is set. The project sets it itself for every gateway it starts.
 */
export function disableApolloTelemetry(env: NodeJS.ProcessEnv = process.env): void {
  env.APOLLO_TELEMETRY_DISABLED = '1';
}

// ---- metrics and traces (lib/metrics.ts, lib/tracing.ts) ----
export interface MetricsSettings {
  enabled: boolean;
  /** Bearer token `/metrics` requires (undefined: none). */
  token?: string;
}

export interface TracingSettings {
  /** Where spans are exported (OTLP over HTTP); undefined: nowhere. */
  otlpTracesUrl?: string;
  serviceName: string;
}

const ObservabilityEnv = BaseEnv.pick({ METRICS_ENABLED: true, METRICS_TOKEN: true, OTEL_EXPORTER_OTLP_ENDPOINT: true, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: true, OTEL_SERVICE_NAME: true });

function observabilityEnv(env: NodeJS.ProcessEnv) {
  const parsed = ObservabilityEnv.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  return parsed.data;
}

/** METRICS_ENABLED and METRICS_TOKEN alone. Invalid values throw ConfigError. */
export function metricsFromEnv(env: NodeJS.ProcessEnv = process.env): MetricsSettings {
  const e = observabilityEnv(env);
  return { enabled: e.METRICS_ENABLED === 'true' || e.METRICS_ENABLED === '1', ...(e.METRICS_TOKEN ? { token: e.METRICS_TOKEN } : {}) };
}

/** The OTLP traces URL (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces) and service name. */
export function tracingFromEnv(env: NodeJS.ProcessEnv = process.env): TracingSettings {
  const e = observabilityEnv(env);
  const url = e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (e.OTEL_EXPORTER_OTLP_ENDPOINT ? `${e.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : undefined);
  return { ...(url ? { otlpTracesUrl: url } : {}), serviceName: e.OTEL_SERVICE_NAME ?? 'city-community-graph' };
}

/** Express's `trust proxy` as GATEWAY_TRUST_PROXY sets it: off, a hop count, or named ranges / IPs / CIDRs. */
export type TrustProxySetting = false | number | string[];

const TRUST_PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
/** GATEWAY_TRUST_PROXY read (unset, empty, `false`, `off`, `0`: off); null when it is not valid. */
export function parseTrustProxy(value: string | undefined): TrustProxySetting | null {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'false' || v === 'off' || v === '0') return false;
  if (/^\d+$/.test(v)) return Number(v) <= 64 ? Number(v) : null;
  const entries = v.split(',').map((e) => e.trim());
  const valid = (e: string) => {
    if (TRUST_PROXY_NAMES.has(e)) return true;
    const [ip, prefix, ...rest] = e.split('/');
    const family = isIP(ip ?? '');
    if (!family || rest.length) return false;
    return prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
  };
  return entries.every(valid) ? entries : null;
}


// ---- fault behaviour (lib/db.ts, lib/http.ts, scripts/start*.ts; README "Operations") ----
export interface DatabaseTimeouts {
  /** Driver's serverSelectionTimeoutMS: an operation fails after this long without a usable server. */
  serverSelectionTimeoutMS: number;
  /** Driver's connectTimeoutMS: opening a connection (and each heartbeat) may take this long. */
  connectTimeoutMS: number;
}

export interface HttpTimeouts {
  /** Node's `server.headersTimeout`: all request headers within this time, else 408 and disconnect. */
  headersTimeoutMs: number;
  /** Node's `server.requestTimeout`: the whole request (headers and body) within this time. */
  requestTimeoutMs: number;
}

const FaultEnv = BaseEnv.pick({
  MONGODB_SERVER_SELECTION_TIMEOUT_MS: true,
  MONGODB_CONNECT_TIMEOUT_MS: true,
  HTTP_HEADERS_TIMEOUT_MS: true,
  HTTP_REQUEST_TIMEOUT_MS: true,
  SHUTDOWN_GRACE_MS: true,
});

function faultEnv(env: NodeJS.ProcessEnv) {
  const parsed = FaultEnv.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  return parsed.data;
}

/** MONGODB_SERVER_SELECTION_TIMEOUT_MS and MONGODB_CONNECT_TIMEOUT_MS alone. Invalid values throw ConfigError. */
export function databaseTimeoutsFromEnv(env: NodeJS.ProcessEnv = process.env): DatabaseTimeouts {
  const e = faultEnv(env);
  return { serverSelectionTimeoutMS: e.MONGODB_SERVER_SELECTION_TIMEOUT_MS, connectTimeoutMS: e.MONGODB_CONNECT_TIMEOUT_MS };
}

/** HTTP_HEADERS_TIMEOUT_MS and HTTP_REQUEST_TIMEOUT_MS alone. Invalid values throw ConfigError. */
export function httpTimeoutsFromEnv(env: NodeJS.ProcessEnv = process.env): HttpTimeouts {
  const e = faultEnv(env);
  return { headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS, requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS };
}

/** SHUTDOWN_GRACE_MS alone. Invalid values throw ConfigError. */
export function shutdownGraceFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return faultEnv(env).SHUTDOWN_GRACE_MS;
}
