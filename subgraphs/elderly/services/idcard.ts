/**
 * ID-card numbers (居民身份证号码, GB 11643) of the register: checked, then turned into a keyed hash
 * (HMAC-SHA256) on arrival. The clear number is never stored, logged or returned; the hash is the
 * resident's natural key for imports (the same person imported twice is found again), and the key
 * makes it impossible to recover a number by hashing every possible one (an ID number has few
 * unknown digits). The key is 32 random bytes in `<JWT_KEY_DIR>/id-card-hash.key` (created on first
 * use, owner-only): back it up with the signing keys; a new key means already imported residents
 * are no longer recognised.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../../lib/config';
import { badInput } from '../../../lib/errors';

const FORMAT = /^\d{17}[\dX]$/;
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';
const KEY_FILE = 'id-card-hash.key';

const keys = new Map<string, Buffer>();
/** The key directory of the configuration, read once per value of JWT_KEY_DIR / DATA_DIR. */
let configured: { env: string; dir: string } | null = null;
function keyDir(): string {
  const env = `${process.env.JWT_KEY_DIR ?? ''}\u0000${process.env.DATA_DIR ?? ''}`;
  if (configured?.env !== env) configured = { env, dir: loadConfig().auth.keyDir };
  return configured.dir;
}
function hashKey(dir = keyDir()): Buffer {
  const abs = path.resolve(dir);
  let key = keys.get(abs);
  if (key) return key;
  const file = path.join(abs, KEY_FILE);
  try {
    key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  } catch {
    mkdirSync(abs, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e; // another process created it first
    }
    key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  }
  if (key.length < 32) throw new Error(`${file}: expected a base64 key of at least 32 bytes`);
  keys.set(abs, key);
  return key;
}

export interface IdCard {
  /** HMAC-SHA256 of the normalised number, hex (64 characters). */
  hash: string;
  /** Birth date (UTC midnight of the date printed in the number). */
  birthDate: Date;
  gender: 'FEMALE' | 'MALE';
}

/** Checks an ID-card number (format, birth date, check digit) and returns its hash; never echoes it. */
export function readIdCard(value: string, field = 'idCardNumber'): IdCard {
  const n = value.replace(/\s+/g, '').toUpperCase();
  if (!FORMAT.test(n)) throw badInput(field, 'not a valid 18-character ID-card number');
  const y = Number(n.slice(6, 10));
  const mo = Number(n.slice(10, 12));
  const d = Number(n.slice(12, 14));
  const birthDate = new Date(Date.UTC(y, mo - 1, d));
  if (y < 1880 || birthDate.getUTCMonth() !== mo - 1 || birthDate.getUTCDate() !== d) throw badInput(field, 'not a valid 18-character ID-card number');
  const sum = WEIGHTS.reduce((acc, w, i) => acc + w * Number(n[i]), 0);
  if (CHECK[sum % 11] !== n[17]) throw badInput(field, 'the ID-card check digit does not match');
  return { hash: createHmac('sha256', hashKey()).update(n).digest('hex'), birthDate, gender: Number(n[16]) % 2 === 1 ? 'MALE' : 'FEMALE' };
}

/** The idempotency key of a resident imported by ID card: derived from the hash, never the number. */
export const importClientKey = (hash: string) => `idc:${hash.slice(0, 48)}`;

/**
 * The pseudonymous id of a resident imported by ID card: derived from the keyed hash (so a
 * re-import finds the resident by its primary key), opaque without the key like the hash itself.
 */
export const residentIdOf = (hash: string) => `el_i${createHash('sha256').update(`resident:${hash}`).digest('hex').slice(0, 28)}`;
