import pino, { type DestinationStream, type Logger } from 'pino';
import { currentTraceFields } from './tracing';

export type { Logger };

/**
 * A JSON logger for one service. Tests pass level 'silent' (or a destination to read the lines).
 * Every line written inside a request carries `trace_id` and `span_id` (lib/tracing.ts): the
 * caller's W3C trace when it sent a `traceparent`, else the one the gateway started.
 */
export function createLogger(service: string, level = 'info', destination?: DestinationStream): Logger {
  return pino({ name: service, level, base: { service }, mixin: currentTraceFields }, destination);
}
