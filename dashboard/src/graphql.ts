/**
 * The dashboard's only way to the graph: the named operations of dashboard/operations/*.graphql,
 * sent verbatim (so a gateway in safelist mode accepts them) to the gateway's /graphql with the
 * caller's token, if any.
 */
import OPERATIONS from 'dashboard-operations';

export interface GraphQLErrorShape {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string };
}

export type Path = (string | number)[];

const TOKEN_KEY = 'city-dashboard.token';
const ENDPOINT = '/graphql';

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token.trim().replace(/^Bearer\s+/i, ''));
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** The role and area claims of the stored token, decoded for display only (the server verifies it). */
export function tokenClaims(token = getToken()): Record<string, unknown> | null {
  if (!token) return null;
  try {
    const payload = token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    return null;
  }
}

export function operationNames(): string[] {
  return Object.keys(OPERATIONS);
}

export function operationBody(name: string): string {
  const body = OPERATIONS[name];
  if (!body) throw new Error(`unknown operation ${name}`);
  return body;
}

/** A GraphQL answer with helpers to read a path and to tell refused paths from missing values. */
export class Answer<T = any> {
  constructor(
    readonly data: T | null,
    readonly errors: GraphQLErrorShape[],
    readonly status: number,
  ) {}

  get(path: Path): unknown {
    let v: any = this.data;
    for (const k of path) {
      if (v === null || v === undefined) return v;
      v = v[k];
    }
    return v;
  }

  /** The FORBIDDEN/UNAUTHENTICATED error on this path or on one of its ancestors, if any. */
  refusal(path: Path): GraphQLErrorShape | undefined {
    return this.errors.find((e) => {
      const code = e.extensions?.code;
      if (code !== 'FORBIDDEN' && code !== 'UNAUTHENTICATED') return false;
      if (!e.path) return false;
      return e.path.length <= path.length && e.path.every((k, i) => String(k) === String(path[i]));
    });
  }

  /** Errors that are not refusals (shown in a banner): invalid token, unavailable subgraph, … */
  otherErrors(): GraphQLErrorShape[] {
    return this.errors.filter((e) => !(e.path && (e.extensions?.code === 'FORBIDDEN' || e.extensions?.code === 'UNAUTHENTICATED')));
  }
}

export async function run<T = any>(name: string, variables: Record<string, unknown> = {}): Promise<Answer<T>> {
  const token = getToken();
  const res = await fetch(ENDPOINT, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'apollographql-client-name': 'city-dashboard',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query: operationBody(name), operationName: name, variables }),
  });
  type Body = { data?: T | null; errors?: GraphQLErrorShape[] };
  const json = (await res.json().catch(() => null)) as Body | null;
  if (!json) return new Answer<T>(null, [{ message: `HTTP ${res.status}`, extensions: { code: 'HTTP_ERROR' } }], res.status);
  return new Answer<T>(json.data ?? null, json.errors ?? [], res.status);
}
