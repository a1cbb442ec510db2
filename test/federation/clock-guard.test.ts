/**
 * The one-clock rule (docs/time.md): domain code and tests take "now" from lib/clock.ts only, so the
 * suite's verdict does not depend on the day it runs. This test fails on any `new Date()` without
 * arguments, `Date()` or `Date.now` in subgraphs/, lib/, scripts/ and test/ outside lib/clock.ts,
 * unless the line says why it needs the real time with a `// wall-clock: <reason>` comment.
 *
 * Not scanned: gateway/ (it has no domain time: cache lifetimes, rate-limit windows, deadlines
 * and timeouts are elapsed time), embedded-mongo/ (a database engine of its own, publishable alone)
 * and test/bench/ (benchmarks measure elapsed time).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, sourceFiles } from '../helpers/source-files';

const SCANNED = ['subgraphs', 'lib', 'scripts', 'test'];
const SKIP_DIRS = new Set(['node_modules', '__generated__', 'bench']);
const ALLOWED_FILES = new Set(['lib/clock.ts', 'test/federation/clock-guard.test.ts']);

const files = (dir: string) => sourceFiles(dir, SKIP_DIRS, /\.(ts|tsx|js|mjs)$/);

/** `new Date()`, `Date()` (a string of the current time) and `Date.now` (called or passed). */
const WALL_CLOCK = /new\s+Date\s*\(\s*\)|(?<![\w.])Date\s*\(\s*\)|\bDate\.now\b/;

/** The lines of a source text that read the wall clock without saying why. */
export function wallClockReads(source: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let inBlockComment = false;
  source.split('\n').forEach((raw, i) => {
    let code = raw;
    if (inBlockComment) {
      const end = code.indexOf('*/');
      if (end < 0) return;
      code = code.slice(end + 2);
      inBlockComment = false;
    }
    code = code.replace(/\/\*.*?\*\//g, '');
    const open = code.indexOf('/*');
    if (open >= 0) {
      inBlockComment = true;
      code = code.slice(0, open);
    }
    if (/\/\/\s*wall-clock:\s*\S/.test(code)) return;
    const lineComment = code.indexOf('//');
    if (lineComment >= 0) code = code.slice(0, lineComment);
    if (WALL_CLOCK.test(code)) out.push({ line: i + 1, text: raw.trim() });
  });
  return out;
}

describe('one clock: domain time only from lib/clock.ts', () => {
  it('the detector flags each way of reading the wall clock and accepts a reasoned exception', () => {
    expect(wallClockReads('const t = new Date();')).toHaveLength(1);
    expect(wallClockReads('const t = Date.now() - 5;')).toHaveLength(1);
    expect(wallClockReads('const f = { now: Date.now };')).toHaveLength(1);
    expect(wallClockReads('const s = Date();')).toHaveLength(1);
    expect(wallClockReads('const t = new Date(x); const u = new Date("2026-01-01");')).toHaveLength(0);
    expect(wallClockReads('const t = toDate(); // new Date() in a comment')).toHaveLength(0);
    expect(wallClockReads('/*\n new Date()\n*/ const a = 1;')).toHaveLength(0);
    expect(wallClockReads('const exp = Date.now() / 1000; // wall-clock: token expiry')).toHaveLength(0);
    expect(wallClockReads('const exp = Date.now() / 1000; // wall-clock:')).toHaveLength(1);
  });

  it('no file in subgraphs/, lib/, scripts/ or test/ reads the wall clock outside lib/clock.ts', () => {
    const violations: string[] = [];
    for (const dir of SCANNED) {
      for (const f of files(path.join(ROOT, dir))) {
        const rel = path.relative(ROOT, f);
        if (ALLOWED_FILES.has(rel)) continue;
        for (const v of wallClockReads(readFileSync(f, 'utf8'))) violations.push(`${rel}:${v.line}: ${v.text}`);
      }
    }
    expect(violations).toEqual([]);
  });
});
