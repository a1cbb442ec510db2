/**
 * The gateway's `formatError`: the shared masking (lib/errors) plus what only a gateway needs.
 *  - Its own public codes (`SUBGRAPH_UNAVAILABLE`, `OPERATION_NOT_IN_SAFELIST`) pass through.
 *  - Stock @apollo/gateway puts a subgraph's URL and errno into messages ("request to
 *    http://127.0.0.1:4101/ failed, reason: connect ECONNREFUSED") and the URL into
 *    `extensions.response`: such messages are rewritten and `extensions.response` is dropped.
 *  - Internal errors raised in the gateway itself keep no message of their own.
 */
import type { GraphQLFormattedError } from 'graphql';
import { createFormatError } from '../lib/errors';

export const GATEWAY_PUBLIC_CODES = new Set(['SUBGRAPH_UNAVAILABLE', 'OPERATION_NOT_IN_SAFELIST']);

/**
 * URLs, IPv4/IPv6 literals, host:port pairs (the host has two letters or more), `localhost` and the
 * word errno (any case). "T00:00" is how times read in a validation error, not an address.
 */
const LEAK = /[a-z][a-z0-9+.-]*:\/\/|\b\d{1,3}(?:\.\d{1,3}){3}\b|\[[0-9a-f:]*:[0-9a-f:]*\]|\blocalhost\b|\b(?:[a-z0-9-]+\.)*[a-z][a-z0-9-]*[a-z][a-z0-9-]*:\d{2,5}\b|\berrno\b/i;
/**
 * Network errno names (ECONNREFUSED, ETIMEDOUT, EAI_AGAIN, …) and undici codes, by name: a generic
 * "E + capitals" pattern also matched GraphQL's own "found <EOF>" and masked plain syntax errors.
 */
const ERRNO =
  /\b(?:E(?:CONN(?:REFUSED|RESET|ABORTED)|TIMEDOUT|HOSTUNREACH|HOSTDOWN|NETUNREACH|NETDOWN|NETRESET|PIPE|AI_(?:AGAIN|FAIL|NONAME)|NOTFOUND|ADDRINUSE|ADDRNOTAVAIL|PROTO|NOTCONN|SOCKETTIMEOUT|CANCELED)|UND_ERR_[A-Z_]+)\b/;

export function leaksAddress(message: string): boolean {
  return LEAK.test(message) || ERRNO.test(message);
}

export function createGatewayFormatError(onMasked?: (error: unknown) => void) {
  const base = createFormatError(onMasked);
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const { stacktrace: _s, response: _r, exception: _e, ...ext } = formatted.extensions ?? {};
    const code = ext.code;
    let out: GraphQLFormattedError;
    const leaks = leaksAddress(formatted.message);
    if (typeof code === 'string' && GATEWAY_PUBLIC_CODES.has(code)) {
      out = { ...formatted, extensions: ext };
    } else if (leaks) {
      // A fetch failure names the subgraph's address: say which subgraph is unavailable instead.
      out = formatted;
    } else {
      // Internal errors (raised in the gateway, or a subgraph's) keep no message of their own.
      out = base({ ...formatted, extensions: ext }, error);
    }
    // `out` keeps the original message only when it is public or leaks; masked ones never leak.
    if (out.message === formatted.message ? leaks : leaksAddress(out.message)) {
      onMasked?.(error);
      const service = typeof ext.serviceName === 'string' ? ext.serviceName : undefined;
      out = {
        ...out,
        message: service ? `subgraph "${service}" is unavailable` : 'Internal server error',
        extensions: service ? { code: 'SUBGRAPH_UNAVAILABLE', serviceName: service } : { code: 'INTERNAL_SERVER_ERROR' },
      };
    }
    return out;
  };
}
