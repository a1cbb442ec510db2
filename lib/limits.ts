/**
 * Query limits of every subgraph: the gateway's GraphQL Armor limits (depth, aliases, tokens, cost:
 * MAX_QUERY_DEPTH, MAX_QUERY_ALIASES, MAX_QUERY_TOKENS, MAX_QUERY_COST in lib/config.ts), applied
 * again by the subgraph factory (lib/subgraph-server.ts), so a caller who reaches a subgraph's port
 * directly gets no more than through the gateway, and a partner's subgraph built on the factory gets
 * the same limits.
 *
 * The gateway's own query plans must pass, so the subgraph counts a little differently:
 * - depth and cost flatten fragments (`... on Visit { }` adds no level). A plan's entity fetch is
 *   `_entities(representations: $r) { ... on Visit { <the fields under the entity> } }`: `_entities`
 *   counts one level (the client's field that led to the entity counted at least one), the inline
 *   fragment none, so a plan of a query the gateway accepted stays within the same depth, while a
 *   selection 120 levels deep under `_entities` is refused;
 * - the planner adds `__typename` and key fields to every entity and abstract selection (each a
 *   scalar in the cost formula) and wraps entity fetches in an operation with variable definitions
 *   (more tokens), so cost and tokens get a fixed headroom factor (`PLAN_HEADROOM`); a direct alias
 *   flood is still far above it (100 × `visitCoverage(first: 200) { totalCount }` costs 70 000,
 *   and 100 aliases are refused by the alias limit first).
 */
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { RequestHandler } from 'express';
import { GraphQLError, parse, type ValidationRule } from 'graphql';
import { loadConfig } from './config';
import { ErrorCode } from './errors';

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxCost: number;
  /** Refuse "Did you mean …?" suggestions (on when introspection is off, as at the gateway). */
  blockFieldSuggestion: boolean;
}

/** Cost and token allowance for what the query planner adds to a plan's fetches (see above). */
export const PLAN_HEADROOM = 2;

/** The gateway's limits from the configuration (MAX_QUERY_*, INTROSPECTION). */
export function queryLimitsFromConfig(env?: NodeJS.ProcessEnv): QueryLimits {
  const s = loadConfig(env).gatewaySecurity;
  return { maxDepth: s.maxDepth, maxAliases: s.maxAliases, maxTokens: s.maxTokens, maxCost: s.maxCost, blockFieldSuggestion: !s.introspection };
}

export interface SubgraphLimits {
  limits: QueryLimits;
  /** Into the ApolloServer config. */
  validationRules: ValidationRule[];
  plugins: ApolloServerPlugin<BaseContext>[];
  /** Express middleware after body parsing: refuses over-long documents before Apollo parses them. */
  tokenLimit: RequestHandler;
}

/** GraphQL Armor configured with `limits`, counted as described at the top of this file. */
export function subgraphLimits(limits: QueryLimits): SubgraphLimits {
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true },
    maxAliases: { n: limits.maxAliases },
    // Checked by `tokenLimit` below (Armor's parser plugin answers 500 and masks syntax errors).
    maxTokens: { enabled: false },
    costLimit: { maxCost: limits.maxCost * PLAN_HEADROOM, ignoreIntrospection: true, flattenFragments: true },
    maxDirectives: { n: 50 },
    blockFieldSuggestion: { enabled: limits.blockFieldSuggestion },
  }).protect();
  return {
    limits,
    validationRules: armor.validationRules,
    plugins: armor.plugins as ApolloServerPlugin<BaseContext>[],
    tokenLimit: tokenLimit(limits.maxTokens * PLAN_HEADROOM),
  };
}

/**
 * Refuses documents with more lexical tokens than allowed before Apollo parses them (400,
 * BAD_USER_INPUT); other syntax errors are left to Apollo (400 GRAPHQL_PARSE_FAILED).
 */
export function tokenLimit(maxTokens: number): RequestHandler {
  return (req, res, next) => {
    const body = req.body as { query?: unknown } | undefined;
    const query = req.method === 'GET' ? req.query.query : body?.query;
    // Every token is at least one character: a shorter text cannot exceed the limit (no parse).
    if (typeof query !== 'string' || query.length <= maxTokens) return next();
    try {
      parse(query, { maxTokens, noLocation: true });
    } catch (err) {
      if (err instanceof GraphQLError && /more tha[tn] \d+ tokens|Token limit/i.test(err.message)) {
        res.status(400).json({ errors: [{ message: `query too large: more than ${maxTokens} tokens`, extensions: { code: ErrorCode.BAD_USER_INPUT } }] });
        return;
      }
    }
    next();
  };
}
