import pino, { type Logger } from 'pino';

export type { Logger };

/** A JSON logger for one service. Tests pass level 'silent'. */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({ name: service, level, base: { service } });
}
