import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_LOCAL_SECRET, mintDevToken, type DevTokenClaims } from '../dev-token';
import { jwksOf, mintIssuerToken, signingKeyOf, SigningKeyError } from '../issuer-token';

const USAGE = `npm run token -- [--role teacher|student|admin|service] [--tenant school-1] [--sub t-1]
                 [--classroom c-1 | --classrooms c-1,c-2] [--ttl seconds]
                 [--key private.pem [--kid id] [--issuer url] [--audience aud]]
npm run token -- --jwks --key private.pem [--kid id]

Without --key: an HS256 token for the local stack (MEDIA_JWT_SECRET, default "${DEFAULT_LOCAL_SECRET}").
With --key: RS256 (RSA key) or ES256 (EC P-256 key) with a kid, as an identity provider signs them;
--jwks prints the matching JWKS to host for a test issuer (docs/access-control.md).`;

/** Bad usage: one sentence, exit status 2, no stack trace. */
function fail(message: string): never {
  process.stderr.write(`${message} (--help lists the options)\n`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      role: { type: 'string', default: 'teacher' },
      tenant: { type: 'string', default: 'school-1' },
      sub: { type: 'string', default: 't-1' },
      // Both spellings: the upload CLI says --classroom, a token may carry several.
      classrooms: { type: 'string', multiple: true, default: [] },
      classroom: { type: 'string', multiple: true, default: [] },
      ttl: { type: 'string' },
      key: { type: 'string' },
      kid: { type: 'string' },
      issuer: { type: 'string' },
      audience: { type: 'string' },
      jwks: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (error) {
  const option = /option '([^']+)'/.exec((error as Error).message)?.[1];
  fail(option ? `Unknown or incomplete option ${option}.` : (error as Error).message.split('\n')[0]!);
}
const { values } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const roles = ['student', 'teacher', 'admin', 'service'];
if (!roles.includes(values.role)) fail(`--role must be one of ${roles.join(', ')}.`);
const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0)) fail('--ttl must be a whole number of seconds.');
if (values.jwks && !values.key) fail('--jwks needs --key <private.pem>: the JWKS is the public half of that key.');

const signing = values.key
  ? // npm runs scripts from the repository root; a relative path means the caller's own directory.
    await readFile(resolve(process.env.INIT_CWD ?? process.cwd(), values.key), 'utf8')
      .catch(() => fail(`No key file ${values.key}: check the path.`))
      .then((pem) => signingKeyOf(pem, values.kid))
      .catch((error: unknown) =>
        fail(error instanceof SigningKeyError ? `${values.key}: ${error.message}.` : `${values.key}: ${(error as Error).message}`),
      )
  : undefined;

if (values.jwks) {
  console.log(JSON.stringify(jwksOf(signing!), null, 2));
  process.exit(0);
}

const claims: DevTokenClaims = {
  role: values.role as DevTokenClaims['role'],
  tenant: values.tenant,
  sub: values.sub,
  classrooms: [...values.classrooms, ...values.classroom]
    .flatMap((list) => list.split(','))
    .map((s) => s.trim())
    .filter(Boolean),
  ttl,
  issuer: values.issuer ?? process.env.MEDIA_JWT_ISSUER,
  audience: values.audience ?? process.env.MEDIA_JWT_AUDIENCE,
};
if (signing) {
  console.log(await mintIssuerToken(claims, signing));
} else {
  const secret = process.env.MEDIA_JWT_SECRET ?? DEFAULT_LOCAL_SECRET;
  if (!process.env.MEDIA_JWT_SECRET)
    console.error(`warning: signing with the default local secret "${DEFAULT_LOCAL_SECRET}" (set MEDIA_JWT_SECRET to change it)`);
  console.log(await mintDevToken({ ...claims, ttl: ttl ?? 12 * 3600 }, secret));
}
