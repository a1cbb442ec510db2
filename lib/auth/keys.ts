/**
 * Signing keys of the embedded default: an ES256 key pair generated on first start under
 * `JWT_KEY_DIR` (default `DATA_DIR/keys`) and kept across restarts. The private key file is
 * readable by the owner only. Production does not use this: tokens come from the city's identity
 * provider and are verified against its JWKS URL.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, type KeyLike } from 'jose';

export const LOCAL_ALG = 'ES256';
const PRIVATE_FILE = 'signing-key.private.jwk.json';
const PUBLIC_FILE = 'jwks.json';

export interface LocalKeys {
  kid: string;
  privateKey: KeyLike;
  /** The public key set (what a JWKS endpoint would serve). */
  jwks: { keys: JWK[] };
  dir: string;
}

const cache = new Map<string, Promise<LocalKeys>>();

/** Loads the local key pair from `dir`, creating it the first time (safe against concurrent starts). */
export function loadOrCreateLocalKeys(dir: string): Promise<LocalKeys> {
  const abs = path.resolve(dir);
  let p = cache.get(abs);
  if (!p) {
    p = load(abs).catch((err) => {
      cache.delete(abs);
      throw err;
    });
    cache.set(abs, p);
  }
  return p;
}

async function load(dir: string): Promise<LocalKeys> {
  const file = path.join(dir, PRIVATE_FILE);
  let privateJwk: JWK;
  try {
    privateJwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const { privateKey } = await generateKeyPair(LOCAL_ALG, { extractable: true });
    const jwk = await exportJWK(privateKey);
    jwk.kid = await calculateJwkThumbprint(jwk);
    jwk.alg = LOCAL_ALG;
    jwk.use = 'sig';
    try {
      await writeFile(file, JSON.stringify(jwk, null, 2), { mode: 0o600, flag: 'wx' });
      privateJwk = jwk;
    } catch (e) {
      // Another process created it first: use theirs.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      privateJwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
    }
  }
  const { d: _secret, ...publicJwk } = privateJwk;
  const jwks = { keys: [publicJwk] };
  await writeFile(path.join(dir, PUBLIC_FILE), JSON.stringify(jwks, null, 2)).catch(() => undefined);
  const privateKey = (await importJWK(privateJwk, LOCAL_ALG)) as KeyLike;
  return { kid: privateJwk.kid!, privateKey, jwks, dir };
}
