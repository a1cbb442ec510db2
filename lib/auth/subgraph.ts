/**
 * What `createSubgraphServer` adds to every subgraph: token verification per request (the subgraph
 * does not trust the gateway), the access-control transform over its schema, the audit log and its
 * `<subgraph>AuditLog` query, and the `individualAccess` flag for k-anonymity suppression.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { Request } from 'express';
import type { GraphQLSchema } from 'graphql';
import type { Connection } from 'mongoose';
import { loadConfig, type AuthSettings } from '../config';
import { requestIdFrom } from '../http';
import { AuditCollector, auditModel, queryAuditLog, type AuditQueryArgs } from './audit';
import { hasIndividualAccess, type AuthContext } from './context';
import { applyAccessControl, type AccessControlReport, type RowFilter, type RowScopeOptions } from './directives';
import { sharedVerifier } from './verify';

export interface SubgraphAccessOptions {
  name: string;
  schema: GraphQLSchema;
  connection: Connection;
  /** Token settings; default from the configuration (JWKS URL or local keys). */
  auth?: AuthSettings;
  /** How rows carry their area: field maps for database filters, loaders of mutation targets. */
  rows?: RowScopeOptions;
}

/** Context keys every subgraph request carries. */
export interface SubgraphAccessContext {
  auth: AuthContext;
  audit: AuditCollector;
  requestId: string;
  /** True when the caller may see unsuppressed small counts of this subgraph. */
  individualAccess: boolean;
  /**
   * The database filter that keeps a row-scoped type's rows to the caller's area (null: every
   * row). Connections AND it into their queries so pages and totals count visible rows only.
   */
  rowFilter(typeName: string): RowFilter;
}

/** The verified caller of a request, once the subgraph server has checked its token. */
export function authOf(req: Request | undefined): AuthContext | undefined {
  return (req as (Request & { auth?: AuthContext }) | undefined)?.auth;
}

export const auditQueryName = (subgraph: string) => `${subgraph.replace(/[^a-zA-Z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}AuditLog`;

export function createSubgraphAccess(opts: SubgraphAccessOptions) {
  const settings = opts.auth ?? loadConfig().auth;
  const verifier = sharedVerifier(settings);
  const audit = auditModel(opts.connection);

  // The audit-log query is answered by the shared code when the SDL declares it.
  const queryType = opts.schema.getQueryType();
  const auditField = queryType?.getFields()[auditQueryName(opts.name)];
  if (auditField) auditField.resolve = (_src, args: AuditQueryArgs) => queryAuditLog(audit, args);
  const report: AccessControlReport = applyAccessControl(opts.schema, { subgraph: opts.name, rows: opts.rows });

  return {
    report,
    verifier,
    /** Verifies the token (throws UNAUTHENTICATED), then builds the subgraph's own context. */
    async context<T extends object>(req: Request, build: (req: Request) => Promise<T> | T): Promise<T & SubgraphAccessContext> {
      const auth = await verifier.verify(req.headers.authorization);
      (req as Request & { auth?: AuthContext }).auth = auth;
      const own = (await build(req)) as T & { individualAccess?: unknown };
      const requestId = requestIdFrom(req.headers['x-request-id']);
      return Object.assign(own, {
        auth,
        audit: new AuditCollector(),
        requestId,
        individualAccess: own.individualAccess === true || hasIndividualAccess(auth, opts.name),
        rowFilter: (typeName: string) => report.rowFilter(auth, typeName),
      });
    },
    /** Writes each request's personal-data reads in one insert before the response leaves. */
    plugin: {
      async requestDidStart() {
        return {
          async willSendResponse({ contextValue, operationName }) {
            const ctx = contextValue as Partial<SubgraphAccessContext>;
            if (ctx.audit && ctx.auth) {
              await ctx.audit.flush(audit, { subgraph: opts.name, auth: ctx.auth, requestId: ctx.requestId, operation: operationName ?? null });
            }
          },
        };
      },
    } satisfies ApolloServerPlugin<BaseContext>,
  };
}
