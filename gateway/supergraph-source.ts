/**
 * Where the gateway's supergraph comes from: a file on disk (schema/supergraph.graphql, or a
 * contract's schema/contracts/<name>.supergraph.graphql), watched and reloaded when it changes.
 *
 * Implements @apollo/gateway's `supergraphSdl` manager hook: `initialize({ update, healthCheck })`
 * returns the first SDL and a cleanup. On a change (fs.watch on the folder, so editors and atomic
 * renames are seen; plus a slow stat poll as a safety net), after a debounce, the new file is read
 * and handed to `update`, which builds the new schema and query planner before swapping them in:
 * requests already executing finish on the old plan, new requests use the new one, nothing is
 * dropped. A file that is empty, does not parse, is not a supergraph or fails the gateway's own
 * validation (or the optional subgraph health check) is refused: the gateway keeps serving the
 * previous supergraph and logs an error naming the file.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, unwatchFile, watch, watchFile, type FSWatcher } from 'node:fs';
import { supergraphForGateway } from './security';
import path from 'node:path';
import type { SupergraphManager } from '@apollo/gateway';
import { parse } from 'graphql';
import type { Logger } from '../lib/logger';

export interface SupergraphSourceOptions {
  /** The supergraph file to serve and watch. */
  file: string;
  logger: Logger;
  /** Watch the file and reload on change (default true). */
  watch?: boolean;
  /** Quiet period after the last change event before reloading (default 200 ms). */
  debounceMs?: number;
  /** Stat poll interval, a safety net for file systems without events (default 2000 ms; 0 = off). */
  pollMs?: number;
  /** Run the gateway's subgraph health check before switching (default false). */
  healthCheck?: boolean;
  /** Called after each reload attempt (tests and logs). */
  onReload?: (result: ReloadResult) => void;
}

export type ReloadResult = { ok: true; hash: string } | { ok: false; error: string };

/**
 * The supergraph file a gateway serves: the given file, or, with a contract name, the contract's
 * supergraph next to it (`<dir>/contracts/<name>.supergraph.graphql`, written by `npm run compose`).
 */
export function resolveSupergraphFile(supergraphPath: string, contract?: string): string {
  if (!contract) return supergraphPath;
  const dir = path.join(path.dirname(supergraphPath), 'contracts');
  const file = path.join(dir, `${contract}.supergraph.graphql`);
  if (!/^[a-z][a-z0-9-]*$/.test(contract) || !existsSync(file)) {
    const known = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.supergraph.graphql'))
          .map((f) => f.replace(/\.supergraph\.graphql$/, ''))
      : [];
    throw new Error(
      `unknown contract "${contract}": ${file} does not exist (known: ${known.join(', ') || 'none'}; contracts are defined in schema/contracts/contracts.yaml and built by \`npm run compose\`)`,
    );
  }
  return file;
}

/** Reads and checks a supergraph file; throws with a message naming the file. */
export function readSupergraphFile(file: string): string {
  let sdl: string;
  try {
    sdl = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read supergraph ${file}: ${(e as Error).message}`);
  }
  if (!sdl.trim()) throw new Error(`supergraph ${file} is empty`);
  try {
    parse(sdl, { noLocation: true });
  } catch (e) {
    throw new Error(`supergraph ${file} does not parse: ${(e as Error).message}`);
  }
  if (!sdl.includes('https://specs.apollo.dev/join/')) throw new Error(`${file} is not a supergraph (no join spec @link)`);
  // Authorization directives are enforced by the subgraphs (gateway/security.ts).
  return supergraphForGateway(sdl);
}

const hashOf = (sdl: string) => createHash('sha256').update(sdl).digest('hex').slice(0, 12);

export function createSupergraphSource(opts: SupergraphSourceOptions): SupergraphManager {
  const file = path.resolve(opts.file);
  const log = opts.logger;
  return {
    async initialize({ update, healthCheck }) {
      const first = readSupergraphFile(file);
      let current = hashOf(first);
      log.info({ file, hash: current }, 'supergraph loaded');
      if (opts.watch === false) return { supergraphSdl: first };

      let timer: NodeJS.Timeout | undefined;
      let running: Promise<void> | undefined;
      let again = false;
      let stopped = false;

      const reload = async () => {
        let sdl: string;
        try {
          sdl = readSupergraphFile(file);
        } catch (e) {
          return report({ ok: false, error: (e as Error).message });
        }
        const hash = hashOf(sdl);
        if (hash === current) return;
        try {
          if (opts.healthCheck) await healthCheck(sdl);
          update(sdl);
        } catch (e) {
          return report({ ok: false, error: `supergraph ${file} refused (${hash}): ${(e as Error).message}` });
        }
        log.info({ file, from: current, to: hash }, 'supergraph reloaded');
        current = hash;
        opts.onReload?.({ ok: true, hash });
      };
      const report = (r: ReloadResult) => {
        if (!r.ok) log.error({ file, err: r.error }, 'supergraph reload refused; still serving the previous supergraph');
        opts.onReload?.(r);
      };
      // One reload at a time; changes during a reload schedule one more.
      const trigger = () => {
        if (stopped) return;
        if (running) {
          again = true;
          return;
        }
        running = reload()
          .catch((err) => log.error({ err, file }, 'supergraph reload failed'))
          .finally(() => {
            running = undefined;
            if (again) {
              again = false;
              schedule();
            }
          });
      };
      const schedule = () => {
        if (stopped) return;
        if (timer) clearTimeout(timer);
        timer = setTimeout(trigger, opts.debounceMs ?? 200);
        timer.unref();
      };

      // Watch the folder, not the file: editors and `mv new old` replace the inode.
      let watcher: FSWatcher | undefined;
      try {
        watcher = watch(path.dirname(file), { persistent: false }, (_event, name) => {
          if (!name || name.toString() === path.basename(file)) schedule();
        });
        watcher.on('error', (err) => log.warn({ err, file }, 'supergraph watcher error; relying on polling'));
      } catch (err) {
        log.warn({ err, file }, 'cannot watch the supergraph folder; relying on polling');
      }
      const pollMs = opts.pollMs ?? 2000;
      const onStat = (curr: { mtimeMs: number; size: number }, prev: { mtimeMs: number; size: number }) => {
        if (curr.mtimeMs !== prev.mtimeMs || curr.size !== prev.size) schedule();
      };
      if (pollMs > 0) watchFile(file, { interval: pollMs, persistent: false }, onStat);

      return {
        supergraphSdl: first,
        cleanup: async () => {
          stopped = true;
          if (timer) clearTimeout(timer);
          watcher?.close();
          if (pollMs > 0) unwatchFile(file, onStat);
          await running;
        },
      };
    },
  };
}

/** `--contract <name>` / `--contract=<name>` from the command line, else the fallback (GATEWAY_CONTRACT). */
export function contractFromArgs(argv: readonly string[], fallback?: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--contract') {
      const v = argv[i + 1];
      if (!v || v.startsWith('--')) throw new Error('--contract needs a contract name, e.g. --contract public');
      return v;
    }
    if (argv[i].startsWith('--contract=')) return argv[i].slice('--contract='.length);
  }
  return fallback || undefined;
}
