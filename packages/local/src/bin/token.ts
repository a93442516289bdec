import { parseArgs } from 'node:util';
import { DEFAULT_LOCAL_SECRET, mintDevToken, type DevTokenClaims } from '../dev-token';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'teacher' },
    tenant: { type: 'string', default: 'school-1' },
    sub: { type: 'string', default: 't-1' },
    classrooms: { type: 'string', default: '' },
    ttl: { type: 'string', default: String(12 * 3600) },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log('npm run token -- --role teacher|student|admin|service --tenant school-1 --sub t-1 --classrooms c-1,c-2 [--ttl seconds]');
  process.exit(0);
}
const roles = ['student', 'teacher', 'admin', 'service'];
if (!roles.includes(values.role)) {
  console.error(`--role must be one of ${roles.join(', ')}`);
  process.exit(2);
}
const secret = process.env.MEDIA_JWT_SECRET ?? DEFAULT_LOCAL_SECRET;
if (!process.env.MEDIA_JWT_SECRET) console.error(`warning: signing with the default local secret "${DEFAULT_LOCAL_SECRET}" (set MEDIA_JWT_SECRET to change it)`);
const token = await mintDevToken(
  {
    role: values.role as DevTokenClaims['role'],
    tenant: values.tenant,
    sub: values.sub,
    classrooms: values.classrooms.split(',').map((s) => s.trim()).filter(Boolean),
    ttl: Number(values.ttl),
    issuer: process.env.MEDIA_JWT_ISSUER,
    audience: process.env.MEDIA_JWT_AUDIENCE,
  },
  secret,
);
console.log(token);
