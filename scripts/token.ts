/**
 * Prints a signed bearer token for the embedded default's local key pair (created under
 * JWT_KEY_DIR, default DATA_DIR/keys, on first use). Which key set signed it (directory and key id),
 * and whether this run created it, goes to stderr: a server accepts only tokens of its own key set.
 *
 *   npm run token -- --role CARE_TEAM --team ct_320113_0001 --ttl 8h
 *   npm run token -- --role STREET_STAFF --district 320104 --street 320104001 --community cm_320104_0001
 *   npm run token -- --role PROPERTY_COMPANY --company 91320100MA1XXXXXXX
 *   npm run token -- --role PARTNER --partner meals
 *
 * Roles: see lib/auth/roles.ts (and docs/access.md). In production (JWKS_URL set) tokens come from
 * the city's identity provider, so this command refuses.
 */
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../lib/config';
import { isRole, ROLE_NAMES, ROLES } from '../lib/auth/roles';
import { signLocalTokenWithKeys } from '../lib/auth/token';

function usage(problem?: string): never {
  if (problem) console.error(`token: ${problem}`);
  console.error(
    'usage: npm run token -- --role <role> [--district CODE] [--street CODE] [--neighborhood CODE] [--community ID]... ' +
      '[--team ID] [--company USCC] [--partner NAME] [--subject SUB] [--scope "a b"] [--ttl 1h]\nroles:\n' +
      ROLE_NAMES.filter((r) => r !== 'PUBLIC').map((r) => `  ${r.padEnd(18)} ${ROLES[r].label}`).join('\n'),
  );
  process.exit(2);
}

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        role: { type: 'string' },
        district: { type: 'string' },
        street: { type: 'string' },
        neighborhood: { type: 'string' },
        community: { type: 'string', multiple: true },
        team: { type: 'string' },
        company: { type: 'string' },
        partner: { type: 'string' },
        subject: { type: 'string' },
        scope: { type: 'string' },
        ttl: { type: 'string', default: '1h' },
        help: { type: 'boolean' },
      },
    }));
  } catch (e) {
    usage((e as Error).message);
  }
  if (values.help) usage();
  const role = values.role?.toUpperCase();
  if (!isRole(role) || role === 'PUBLIC') usage(role ? `unknown role "${values.role}"` : 'missing --role');
  if (values.ttl && !/^\d+[smhd]$/.test(values.ttl)) usage('--ttl must look like 30m, 1h, 8h or 7d');
  for (const needed of ROLES[role].requiredClaims ?? []) {
    const given = needed === 'community' ? values.community?.length : values[needed];
    if (!given) usage(`role ${role} needs --${needed}`);
  }
  const config = loadConfigOrExit();
  if (config.auth.mode === 'jwks') usage('JWKS_URL is set: tokens come from the identity provider, not from this command');
  const { token, keys } = await signLocalTokenWithKeys(config.auth, {
    role,
    subject: values.subject,
    district: values.district,
    street: values.street,
    neighborhood: values.neighborhood,
    communities: values.community,
    team: values.team,
    company: values.company,
    partner: values.partner,
    scope: values.scope,
    ttl: values.ttl,
  });
  // stderr, so `$(npm run -s token -- …)` still captures the token alone.
  const source = process.env.JWT_KEY_DIR ? 'JWT_KEY_DIR' : `DATA_DIR${process.env.DATA_DIR ? `=${process.env.DATA_DIR}` : ' (default .data)'}/keys`;
  console.error(`token: signed with the local key set in ${keys.dir} (key id ${keys.kid}; from ${source})`);
  if (keys.created) {
    console.error(
      `token: no key set existed there, so this command just created one. A server started with another DATA_DIR or JWT_KEY_DIR ` +
        `refuses this token ("signed by an unknown key"): mint tokens with the same DATA_DIR / JWT_KEY_DIR as the server.`,
    );
  }
  process.stdout.write(token + '\n');
}

main().catch((err) => {
  console.error(`token: ${(err as Error).message}`);
  process.exit(1);
});
