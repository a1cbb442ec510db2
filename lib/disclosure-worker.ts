/**
 * The worker-thread side of `suppressionPatternAsync` (lib/disclosure.ts), loaded through
 * disclosure-worker-entry.js by piscina: computes the pattern of plain arrays and hands the
 * result's typed arrays back without copying them.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { computeSuppression, type PatternArrays, type PatternInput } from './disclosure';

export default function computeInWorker(input: PatternInput) {
  const out: PatternArrays = computeSuppression(input);
  return move({
    get [transferableSymbol]() {
      return [out.byId.buffer, out.val.buffer, out.sup.buffer];
    },
    get [valueSymbol]() {
      return out;
    },
  });
}
