/**
 * Gateway-side protection, as configuration: token verification (the gateway refuses bad tokens
 * before planning; it forwards the token and each subgraph verifies it again), GraphQL Armor limits
 * (depth, aliases, tokens, cost, directives, no field suggestions), introspection on/off, CSRF
 * prevention (Apollo Server's default, kept on), a CORS allowlist (preflights are answered by the
 * CORS layer and never reach GraphQL; lib/subgraph-server.ts `corsLayer`) and a per-token rate limit
 * (counters per replica in memory, or shared by every replica in MongoDB: RATE_LIMIT_STORE).
 * Authorization itself is enforced by the subgraphs (`@apollo/gateway` does not enforce
 * `@authenticated`/`@requiresScopes`).
 */
import { createHash } from 'node:crypto';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { Request, RequestHandler } from 'express';
import { GraphQLError, parse, type ValidationRule } from 'graphql';
import { MongoClient } from 'mongodb';
import { RateLimiterMemory, RateLimiterMongo, RateLimiterRes } from 'rate-limiter-flexible';
import { loadConfig, type AuthSettings, type GatewaySecuritySettings } from '../lib/config';
import { ErrorCode } from '../lib/errors';
import { anonymous, type AuthContext } from '../lib/auth/context';
import { loadOrCreateLocalKeys } from '../lib/auth/keys';
import { AuthenticationError, sharedVerifier } from '../lib/auth/verify';
import { corsLayer } from '../lib/subgraph-server';

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
    costLimit: { maxCost: options.maxCost, ignoreIntrospection: true },
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

  const limiter: RateLimiter =
    options.rateLimitStore === 'mongodb'
      ? createMongoRateLimiter(options.rateLimitPerMinute, 60_000, { uri: options.rateLimitMongoUri, client: options.rateLimitMongoClient })
      : createRateLimiter(options.rateLimitPerMinute, 60_000);
  const rateLimit: RequestHandler = (req, res, next) => {
    const auth = (req as AuthedRequest).auth;
    const key = auth?.authenticated ? `sub:${createHash('sha256').update(auth.subject).digest('base64url')}` : `ip:${req.ip ?? req.socket.remoteAddress}`;
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
      plugins: armor.plugins as ApolloServerPlugin<BaseContext>[],
    },
    middleware: [corsMiddleware, authenticate, rateLimit],
    afterBody: [tokenLimit(options.maxTokens)],
    authOf: (req) => (req as AuthedRequest).auth ?? anonymous(),
    close: async () => limiter.close?.(),
  };
}

/**
 * Refuses documents with more lexical tokens than allowed (over-wide queries, alias floods) before
 * Apollo parses them, with a 400 GraphQL error. Other syntax errors are left to Apollo (400
 * GRAPHQL_PARSE_FAILED).
 */
export function tokenLimit(maxTokens: number): RequestHandler {
  return (req, res, next) => {
    const body = req.body as { query?: unknown } | undefined;
    const query = req.method === 'GET' ? req.query.query : body?.query;
    if (typeof query !== 'string') return next();
    // Every token is at least one character: a shorter text cannot exceed the limit (no parse).
    if (query.length <= maxTokens) return next();
    try {
      parse(query, { maxTokens, noLocation: true });
    } catch (err) {
      if (err instanceof GraphQLError && /more that \d+ tokens|more than \d+ tokens|Token limit/i.test(err.message)) {
        res.status(400).json({ errors: [{ message: `query too large: more than ${maxTokens} tokens`, extensions: { code: ErrorCode.BAD_USER_INPUT } }] });
        return;
      }
    }
    next();
  };
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
  const collection = client.db(RATE_LIMIT_DB).collection(RATE_LIMIT_COLLECTION);
  let indexes: Promise<void> | undefined;
  const ensureIndexes = () =>
    (indexes ??= (async () => {
      await collection.createIndex({ key: 1 }, { unique: true });
      await collection.createIndex({ expire: -1 }, { expireAfterSeconds: 0 }).catch(() => undefined);
    })().catch(() => {
      indexes = undefined; // the store is down: counted by the insurance limiter, retried next time
    }));
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
 * `@apollo/gateway` refuses a supergraph that links `for: SECURITY` features it cannot enforce
 * (`@authenticated`, `@requiresScopes`, `@policy`). Here every subgraph enforces them itself, so the
 * gateway loads the supergraph with that purpose marker removed; the committed supergraph keeps
 * it (Apollo Router enforces it as well).
 */
export function supergraphForGateway(sdl: string): string {
  return sdl.replace(/(@link\(url: "https:\/\/specs\.apollo\.dev\/(?:authenticated|requiresScopes|policy)\/v[\d.]+")\s*,\s*for: SECURITY\s*\)/g, '$1)');
}
