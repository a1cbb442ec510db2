/**
 * Gateway-side protection, as configuration: token verification (the gateway refuses bad tokens
 * before planning; it forwards the token and each subgraph verifies it again), GraphQL Armor limits
 * (depth, aliases, tokens, cost, directives, no field suggestions), introspection on/off, CSRF
 * prevention (Apollo Server's default, kept on), a CORS allowlist (preflights are answered by the
 * CORS layer and never reach GraphQL; lib/subgraph-server.ts `corsLayer`) and a per-token rate limit
 * (counters per replica in memory, or shared by every replica in MongoDB: RATE_LIMIT_STORE), and
 * fair use: per-caller budgets of query cost per second and of operations in flight (`createFairUse`).
 * Authorization itself is enforced by the subgraphs (`@apollo/gateway` does not enforce
 * `@authenticated`/`@requiresScopes`).
 */
import { createHash } from 'node:crypto';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { Request, RequestHandler } from 'express';
import { HeaderMap } from '@apollo/server';
import { GraphQLError, Kind, parse, validate, visit, type ArgumentNode, type DocumentNode, type VariableNode, type GraphQLSchema, type OperationDefinitionNode, type ValidationRule } from 'graphql';
import { MongoClient, type Collection } from 'mongodb';
import { RateLimiterMemory, RateLimiterMongo, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { loadConfig, type AuthSettings, type FairUseBudget, type FairUseSettings, type GatewaySecuritySettings } from '../lib/config';
import { ErrorCode } from '../lib/errors';
import { anonymous, type AuthContext } from '../lib/auth/context';
import { loadOrCreateLocalKeys } from '../lib/auth/keys';
import { AuthenticationError, sharedVerifier } from '../lib/auth/verify';
import { corsLayer } from '../lib/subgraph-server';
import { tokenLimit } from '../lib/limits';

/** The token limit is the subgraphs' own (one check for both). */
export { tokenLimit };

export interface GatewaySecurityOptions extends GatewaySecuritySettings {
  auth: AuthSettings;
  /**
   * With `rateLimitStore: 'mongodb'`: a client the caller owns (and closes) instead of one opened
   * from `rateLimitMongoUri`.
   */
  rateLimitMongoClient?: MongoClient;
}

/** Settings from the configuration (environment). */
export function gatewaySecurityFromConfig(env?: NodeJS.ProcessEnv): GatewaySecurityOptions {
  const cfg = loadConfig(env);
  return { ...cfg.gatewaySecurity, auth: cfg.auth };
}

export interface GatewaySecurity {
  options: GatewaySecurityOptions;
  /** Spread into the ApolloServer config. */
  apollo: {
    introspection: boolean;
    csrfPrevention: true;
    allowBatchedHttpRequests: false;
    validationRules: ValidationRule[];
    plugins: ApolloServerPlugin<BaseContext>[];
  };
  /**
   * Express middleware for `/graphql`, before body parsing: CORS (answers every OPTIONS request
   * itself), token, rate limit.
   */
  middleware: RequestHandler[];
  /** Express middleware for `/graphql` after body parsing: the token limit (400 when exceeded). */
  afterBody: RequestHandler[];
  /** The verified caller of a request (set by the middleware). */
  authOf(req: Request): AuthContext;
  /**
   * The GraphQL handler run inside the caller's concurrency slot (fair use): over the caller's
   * budget it answers 429 RATE_LIMITED without running; the slot is released when the handler has
   * finished, also when it throws or the client went away. The handler unchanged when fair use is off.
   */
  guard(handler: RequestHandler): RequestHandler;
  /** The fair-use caller of a request, for the GraphQL context (`fairUse`); undefined when off. */
  callerOf(req: Request): FairUseCaller | undefined;
  /** Fair-use budgets (undefined when off). */
  fairUse?: FairUse;
  /** Closes what the security layer opened itself (the shared rate-limit store's client). */
  close(): Promise<void>;
}

type AuthedRequest = Request & { auth?: AuthContext };

export function createGatewaySecurity(options: GatewaySecurityOptions = gatewaySecurityFromConfig()): GatewaySecurity {
  const verifier = sharedVerifier(options.auth);
  // The embedded default creates its key pair on first start (so `npm run token` and the services
  // agree from the beginning); production reads the identity provider's JWKS instead.
  if (options.auth.mode === 'local') void loadOrCreateLocalKeys(options.auth.keyDir).catch(() => undefined);
  const armor = new ApolloArmor({
    maxDepth: { n: options.maxDepth, ignoreIntrospection: true },
    maxAliases: { n: options.maxAliases },
    // The token limit is checked by `tokenLimit` below: Armor's parser plugin answers 500 to it
    // and masks ordinary syntax errors.
    maxTokens: { enabled: false },
    costLimit: { maxCost: options.maxCost, ...COST_OPTIONS },
    maxDirectives: { n: 50 },
    blockFieldSuggestion: { enabled: !options.introspection },
  }).protect();

  // Browser origins from the allowlist (CORS_ORIGINS or its default, lib/config.ts); the rate-limit
  // headers are readable by those pages too.
  const corsMiddleware = corsLayer({ origins: options.corsOrigins, exposedHeaders: ['ratelimit-limit', 'ratelimit-remaining', 'retry-after'] });

  const authenticate: RequestHandler = (req, res, next) => {
    verifier.verify(req.headers.authorization).then(
      (auth) => {
        (req as AuthedRequest).auth = auth;
        next();
      },
      (err: unknown) => {
        if (!(err instanceof AuthenticationError)) return next(err);
        res.status(401).set('www-authenticate', 'Bearer').json({ errors: [{ message: err.message, extensions: { code: ErrorCode.UNAUTHENTICATED } }] });
      },
    );
  };

  // One client for the shared store (RATE_LIMIT_STORE=mongodb): the request limit and the fair-use
  // cost budget both keep their counters there.
  const storeClient =
    options.rateLimitStore === 'mongodb' && !options.rateLimitMongoClient && options.rateLimitMongoUri
      ? new MongoClient(options.rateLimitMongoUri, { serverSelectionTimeoutMS: 1000 })
      : undefined;
  const sharedClient = options.rateLimitMongoClient ?? storeClient;
  const limiter: RateLimiter =
    options.rateLimitStore === 'mongodb'
      ? createMongoRateLimiter(options.rateLimitPerMinute, 60_000, { uri: options.rateLimitMongoUri, client: sharedClient })
      : createRateLimiter(options.rateLimitPerMinute, 60_000);
  const fairUse = options.fairUse
    ? createFairUse(options.fairUse, { maxCost: options.maxCost, store: options.rateLimitStore === 'mongodb' ? sharedClient : undefined })
    : undefined;
  const rateLimit: RequestHandler = (req, res, next) => {
    const key = callerKey(req);
    const verdict = limiter.hit(key);
    if (verdict instanceof Promise) verdict.then((v) => answer(v, res, next), next);
    else answer(verdict, res, next);
  };
  const answer = (verdict: RateLimitVerdict, res: Parameters<RequestHandler>[1], next: Parameters<RequestHandler>[2]) => {
    res.set('ratelimit-limit', String(options.rateLimitPerMinute));
    res.set('ratelimit-remaining', String(Math.max(0, verdict.remaining)));
    if (verdict.allowed) return next();
    res.set('retry-after', String(verdict.retryAfterSeconds));
    res.status(429).json({
      errors: [
        {
          message: `rate limit exceeded: at most ${options.rateLimitPerMinute} requests per minute per token; retry after ${verdict.retryAfterSeconds}s`,
          extensions: { code: ErrorCode.RATE_LIMITED, retryAfterSeconds: verdict.retryAfterSeconds },
        },
      ],
    });
  };

  return {
    options,
    apollo: {
      introspection: options.introspection,
      csrfPrevention: true,
      allowBatchedHttpRequests: false,
      validationRules: armor.validationRules,
      plugins: [...(armor.plugins as ApolloServerPlugin<BaseContext>[]), ...(fairUse ? [fairUse.plugin] : [])],
    },
    middleware: [corsMiddleware, authenticate, rateLimit],
    afterBody: [tokenLimit(options.maxTokens)],
    authOf: (req) => (req as AuthedRequest).auth ?? anonymous(),
    guard: (handler) => (fairUse ? fairUse.guard(handler) : handler),
    callerOf: (req) => fairUse?.callerOf(req),
    fairUse,
    close: async () => {
      await limiter.close?.();
      await storeClient?.close();
    },
  };
}

/**
 * Who a request counts against: a hash of the token's subject for authenticated callers, the client
 * address (`req.ip`, which honours Express's `trust proxy` setting) for anonymous ones.
 */
function callerKey(req: Request): string {
  const auth = (req as AuthedRequest).auth;
  return auth?.authenticated ? `sub:${createHash('sha256').update(auth.subject).digest('base64url')}` : `ip:${req.ip ?? req.socket.remoteAddress}`;
}

export interface RateLimitVerdict {
  allowed: boolean;
  remaining: number;
  retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Counts one request of `key` and says whether it is within the limit. */
  hit(key: string): RateLimitVerdict | Promise<RateLimitVerdict>;
  close?(): Promise<void>;
}

/** Fixed-window counter per key (in memory, per gateway replica). */
export function createRateLimiter(limit: number, windowMs: number): RateLimiter {
  let windowStart = Date.now(); // wall-clock: rate-limit windows are real time, not domain time
  let counts = new Map<string, number>();
  return {
    hit(key: string): { allowed: boolean; remaining: number; retryAfterSeconds: number } {
      const now = Date.now(); // wall-clock: see windowStart
      if (now - windowStart >= windowMs) {
        windowStart = now;
        counts = new Map();
      }
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      return { allowed: n <= limit, remaining: limit - n, retryAfterSeconds: Math.max(1, Math.ceil((windowStart + windowMs - now) / 1000)) };
    },
  };
}

/** Database and collection of the shared rate-limit counters. */
export const RATE_LIMIT_DB = 'city_gateway';
export const RATE_LIMIT_COLLECTION = 'rate_limits';

/**
 * Fixed-window counters shared by every gateway replica (RATE_LIMIT_STORE=mongodb), with
 * rate-limiter-flexible's RateLimiterMongo: one document per key and window in
 * `city_gateway.rate_limits`, incremented atomically (findOneAndUpdate with upsert), so N replicas
 * give a caller one budget, not N. When the store does not answer, each replica falls back to its
 * own in-memory counters (the library's insurance limiter) rather than refusing or failing requests.
 * The unique index on `key` is created before the first count; the TTL index that removes old
 * windows is created where the server supports it (the embedded engine does not: there an expired
 * window's document is overwritten by the next window's).
 */
export function createMongoRateLimiter(limit: number, windowMs: number, store: { uri?: string; client?: MongoClient }): RateLimiter {
  if (!store.client && !store.uri) throw new Error('RATE_LIMIT_STORE=mongodb needs RATE_LIMIT_MONGODB_URI');
  const client = store.client ?? new MongoClient(store.uri!, { serverSelectionTimeoutMS: 1000 });
  const duration = Math.max(1, Math.round(windowMs / 1000));
  const limiter = new RateLimiterMongo({
    storeClient: client,
    dbName: RATE_LIMIT_DB,
    tableName: RATE_LIMIT_COLLECTION,
    points: limit,
    duration,
    disableIndexesCreation: true,
    insuranceLimiter: new RateLimiterMemory({ points: limit, duration }),
  });
  const ensureIndexes = mongoIndexes(client.db(RATE_LIMIT_DB).collection(RATE_LIMIT_COLLECTION));
  const verdict = (r: RateLimiterRes, allowed: boolean): RateLimitVerdict => ({
    allowed,
    remaining: allowed ? r.remainingPoints : 0,
    retryAfterSeconds: Math.max(1, Math.ceil(r.msBeforeNext / 1000)),
  });
  return {
    async hit(key) {
      await ensureIndexes();
      try {
        return verdict(await limiter.consume(key), true);
      } catch (e) {
        if (e instanceof RateLimiterRes) return verdict(e, false);
        throw e;
      }
    },
    close: async () => {
      if (!store.client) await client.close();
    },
  };
}

/**
 * The counters' indexes (unique `key`; TTL on `expire` where the server supports it), created once
 * before the first count; while the store is down, retried on the next count.
 */
function mongoIndexes(collection: Collection): () => Promise<void> {
  let indexes: Promise<void> | undefined;
  return () =>
    (indexes ??= (async () => {
      await collection.createIndex({ key: 1 }, { unique: true });
      await collection.createIndex({ expire: -1 }, { expireAfterSeconds: 0 }).catch(() => undefined);
    })().catch(() => {
      indexes = undefined; // the store is down: counted by the insurance limiter, retried next time
    }));
}

/**
 * `@apollo/gateway` refuses a supergraph that links `for: SECURITY` features it cannot enforce
 * (`@authenticated`, `@requiresScopes`, `@policy`). Here every subgraph enforces them itself, so the
 * gateway loads the supergraph with that purpose marker removed; the committed supergraph keeps
 * it (Apollo Router enforces it as well).
 */
export function supergraphForGateway(sdl: string): string {
  return sdl.replace(/(@link\(url: "https:\/\/specs\.apollo\.dev\/(?:authenticated|requiresScopes|policy)\/v[\d.]+")\s*,\s*for: SECURITY\s*\)/g, '$1)');
}

// ---- fair use: per-caller budgets of query cost per second and of operations in flight ----

/** GraphQL Armor's cost options of the gateway's cost limit; the fair-use budget counts the same cost. */
const COST_OPTIONS = { ignoreIntrospection: true } as const;

/**
 * The cost of an operation as the gateway's cost limit (MAX_QUERY_COST) computes it: GraphQL Armor's
 * own cost rule with the same options, run on its own (no limit, the result collected). Armor
 * multiplies a list's cost by a literal `first`/`last` only; for the budget, a `first: $n` given as a
 * variable counts with the request's value of `$n` (or its default), so moving the page size into
 * variables does not make a query cheap. Costs of documents without such variables are kept per
 * parsed document (Apollo Server reuses the document of a repeated query).
 */
export function createCostMeter(): (schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables?: Record<string, unknown>) => number {
  let sink: number[] | null = null;
  const rules = new ApolloArmor({
    costLimit: { maxCost: Number.MAX_SAFE_INTEGER, ...COST_OPTIONS, onAccept: [(_ctx, details: { n: number }) => sink?.push(details.n)] },
    maxDepth: { enabled: false },
    maxAliases: { enabled: false },
    maxTokens: { enabled: false },
    maxDirectives: { enabled: false },
    blockFieldSuggestion: { enabled: false },
  }).protect().validationRules;
  const costsOf = (schema: GraphQLSchema, document: DocumentNode): number[] => {
    sink = [];
    try {
      validate(schema, document, rules);
      return sink;
    } finally {
      sink = null;
    }
  };
  const isSizeArgument = (node: ArgumentNode) => (node.name.value === 'first' || node.name.value === 'last') && node.value.kind === Kind.VARIABLE;
  const known = new WeakMap<DocumentNode, number[] | 'by-variables'>();
  return (schema, document, operation, variables = {}) => {
    let costs = known.get(document);
    if (!costs) {
      let byVariables = false;
      visit(document, { Argument: (node) => void (byVariables ||= isSizeArgument(node)) });
      costs = byVariables ? 'by-variables' : costsOf(schema, document);
      known.set(document, costs);
    }
    if (costs === 'by-variables') {
      const defaults = new Map(operation.variableDefinitions?.map((d) => [d.variable.name.value, d.defaultValue]) ?? []);
      const inlined = visit(document, {
        Argument(node) {
          if (!isSizeArgument(node)) return undefined;
          const name = (node.value as VariableNode).name.value;
          const given = variables[name];
          const fallback = defaults.get(name);
          const n = Number.isInteger(given) ? (given as number) : fallback?.kind === Kind.INT ? Number(fallback.value) : undefined;
          return n === undefined ? undefined : { ...node, value: { kind: Kind.INT, value: String(n) } };
        },
      });
      costs = costsOf(schema, inlined);
    }
    // The rule visits the operations in document order, one accepted cost each.
    const index = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION).indexOf(operation);
    return costs[index] ?? 0;
  };
}

export type FairUseTier = keyof FairUseSettings;

/** The budgets one request counts against, each under its key. */
export interface FairUseCaller {
  charges: { tier: FairUseTier; key: string }[];
}

export interface FairUseVerdict {
  allowed: boolean;
  retryAfterSeconds: number;
  /** The budget that refused. */
  tier?: FairUseTier;
}

/** Operations in flight per key, each key with its own limit. */
export class InFlightLimiter {
  private readonly counts = new Map<string, number>();

  /**
   * Takes one slot under every key, or none when one of them is full (null). The returned release
   * gives the slots back; calling it again does nothing.
   */
  tryAcquire(slots: { key: string; limit: number }[]): (() => void) | null {
    if (slots.some((s) => (this.counts.get(s.key) ?? 0) >= s.limit)) return null;
    for (const s of slots) this.counts.set(s.key, (this.counts.get(s.key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const s of slots) {
        const n = (this.counts.get(s.key) ?? 1) - 1;
        if (n > 0) this.counts.set(s.key, n);
        else this.counts.delete(s.key);
      }
    };
  }

  inFlight(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}

/** Collection of the shared fair-use cost counters (RATE_LIMIT_STORE=mongodb), next to the request limit's. */
export const FAIR_USE_COLLECTION = 'fair_use';

/**
 * Cost budgets per tier with rate-limiter-flexible (points = cost). A budget of B per second is kept
 * as B × W points per window of W seconds, W the smallest whole number of seconds with B × W ≥ the
 * largest admitted query cost: every query the cost limit admits fits an unused budget, and the
 * average stays B per second. With a MongoDB client the counters are shared by every replica
 * (RateLimiterMongo, in-memory insurance when the store does not answer), as the request limit's.
 */
export function createCostBudget(settings: FairUseSettings, opts: { maxCost: number; store?: MongoClient }): {
  charge(caller: FairUseCaller, cost: number): Promise<FairUseVerdict>;
} {
  const limiters = {} as Record<FairUseTier, RateLimiterAbstract>;
  const capacity = {} as Record<FairUseTier, number>;
  for (const tier of Object.keys(settings) as FairUseTier[]) {
    const perSecond = settings[tier].costPerSecond;
    const duration = Math.max(1, Math.ceil(opts.maxCost / perSecond));
    const points = perSecond * duration;
    capacity[tier] = points;
    const keyPrefix = `fair-use-cost-${tier}`;
    limiters[tier] = opts.store
      ? new RateLimiterMongo({
          storeClient: opts.store,
          dbName: RATE_LIMIT_DB,
          tableName: FAIR_USE_COLLECTION,
          keyPrefix,
          points,
          duration,
          disableIndexesCreation: true,
          insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration }),
        })
      : new RateLimiterMemory({ keyPrefix, points, duration });
  }
  const ensureIndexes = opts.store ? mongoIndexes(opts.store.db(RATE_LIMIT_DB).collection(FAIR_USE_COLLECTION)) : async () => undefined;
  return {
    async charge(caller, cost) {
      if (cost <= 0) return { allowed: true, retryAfterSeconds: 0 };
      await ensureIndexes();
      const charged: { tier: FairUseTier; key: string }[] = [];
      // A query dearer than a whole window (page sizes given in variables count here, not in the
      // cost limit) takes the whole window rather than never fitting: it runs on an unused budget
      // and the caller then waits a window.
      const take = (tier: FairUseTier) => Math.min(cost, capacity[tier]);
      for (const c of caller.charges) {
        try {
          await limiters[c.tier].consume(c.key, take(c.tier));
          charged.push(c);
        } catch (e) {
          // A refused request costs nothing: what it was charged so far is given back.
          await Promise.all([...charged, c].map((d) => limiters[d.tier].reward(d.key, take(d.tier)).catch(() => undefined)));
          if (e instanceof RateLimiterRes) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(e.msBeforeNext / 1000)), tier: c.tier };
          return { allowed: true, retryAfterSeconds: 0 }; // the store failed and so did its insurance: serve
        }
      }
      return { allowed: true, retryAfterSeconds: 0 };
    },
  };
}

export interface FairUse {
  settings: FairUseSettings;
  callerOf(req: Request): FairUseCaller;
  /** See `GatewaySecurity.guard`. */
  guard(handler: RequestHandler): RequestHandler;
  /** Charges each operation's cost, once resolved, to the caller's budgets (context `fairUse`). */
  plugin: ApolloServerPlugin<BaseContext>;
  /** Operations in flight under a key (`sub:…`, `ip:…`, `anonymous`). */
  inFlight(key: string): number;
  costOf: ReturnType<typeof createCostMeter>;
}

const TIER_LABEL: Record<FairUseTier, string> = {
  authenticated: 'per token',
  anonymous: 'per anonymous client address',
  anonymousPool: 'for all anonymous callers together',
};

function rateLimitedBody(message: string, retryAfterSeconds: number) {
  return { message, extensions: { code: ErrorCode.RATE_LIMITED, retryAfter: retryAfterSeconds, retryAfterSeconds } };
}

/**
 * Fair use at the gateway. Authenticated callers are keyed by their token's subject. Anonymous
 * callers are keyed by client address with a stricter budget, and all of them together share one
 * more (the pool), so rotating addresses cannot multiply the anonymous load and an anonymous flood
 * never reaches the authenticated callers' budgets. Concurrency counters are per replica (slots of
 * a replica that dies must not stay taken); cost counters follow RATE_LIMIT_STORE.
 */
export function createFairUse(settings: FairUseSettings, opts: { maxCost: number; store?: MongoClient }): FairUse {
  const slots = new InFlightLimiter();
  const budget = createCostBudget(settings, opts);
  const costOf = createCostMeter();
  const callers = new WeakMap<Request, FairUseCaller>();
  const callerOf = (req: Request): FairUseCaller => {
    let caller = callers.get(req);
    if (!caller) {
      const key = callerKey(req);
      caller = key.startsWith('sub:')
        ? { charges: [{ tier: 'authenticated', key }] }
        : { charges: [{ tier: 'anonymous', key }, { tier: 'anonymousPool', key: 'anonymous' }] };
      callers.set(req, caller);
    }
    return caller;
  };
  const limitOf = (tier: FairUseTier): FairUseBudget => settings[tier];
  return {
    settings,
    callerOf,
    costOf,
    inFlight: (key) => slots.inFlight(key),
    guard: (handler) => async (req, res, next) => {
      const caller = callerOf(req);
      const release = slots.tryAcquire(caller.charges.map((c) => ({ key: c.key, limit: limitOf(c.tier).concurrent })));
      if (!release) {
        const full = caller.charges.find((c) => slots.inFlight(c.key) >= limitOf(c.tier).concurrent)!;
        const limit = limitOf(full.tier).concurrent;
        res.set('retry-after', '1');
        res.status(429).json({
          errors: [rateLimitedBody(`fair use: at most ${limit} operations in flight at once ${TIER_LABEL[full.tier]}; retry after 1s`, 1)],
        });
        return;
      }
      try {
        await handler(req, res, next);
      } finally {
        release();
      }
    },
    plugin: {
      async requestDidStart() {
        return {
          async didResolveOperation(rc) {
            const caller = (rc.contextValue as { fairUse?: FairUseCaller }).fairUse;
            if (!caller || !rc.operation) return;
            const cost = Math.ceil(costOf(rc.schema, rc.document, rc.operation, rc.request.variables));
            const verdict = await budget.charge(caller, cost);
            if (verdict.allowed) return;
            const tier = verdict.tier!;
            const s = verdict.retryAfterSeconds;
            const { message, extensions } = rateLimitedBody(
              `fair use: query cost budget of ${settings[tier].costPerSecond} per second ${TIER_LABEL[tier]} spent (this operation costs ${cost}); retry after ${s}s`,
              s,
            );
            throw new GraphQLError(message, { extensions: { ...extensions, http: { status: 429, headers: new HeaderMap([['retry-after', String(s)]]) } } });
          },
        };
      },
    },
  };
}
