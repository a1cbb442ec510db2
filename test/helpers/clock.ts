/**
 * Test helpers for the product's clock (lib/clock.ts): pin "now" for one test file or block and
 * put the clock back afterwards (to whatever the run started with, e.g. CLOCK_NOW).
 */
import { clock, freezeClock, setClock, type Clock } from '../../lib/clock';

/** The clock the test process started with (set from CLOCK_NOW by test/setup-env.ts). */
export function currentClock(): Clock {
  const at = clock.now().getTime();
  const base = performance.now();
  return { now: () => new Date(at + (performance.now() - base)) };
}

/** Freezes the product's clock at `at` until `restore()` is called. */
export function pinClock(at: Date | string): { restore(): void } {
  const before = currentClock();
  freezeClock(at);
  return { restore: () => setClock(before) };
}
