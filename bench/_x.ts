import autocannon from 'autocannon';
import { mintDevToken } from '@media/local';
const run = async (label: string, tenants: string[]) => {
  const tokens = await Promise.all(Array.from({ length: 400 }, (_, i) => mintDevToken({ role: 'teacher', tenant: tenants[i % tenants.length]!, sub: `bench-x-${label.replace(" ", "_")}-${Date.now()}-${i}`, classrooms: ['c-1'] })));
  let n = 0;
  const r = await autocannon({ url: 'http://127.0.0.1:3960/v1/uploads', connections: 20, duration: 4, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ purpose: 'general', contentType: 'image/jpeg', size: 250000 }),
    requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[n++ % tokens.length]}` } }) }] });
  console.log(label, r['2xx'] / 4, r.non2xx, r.latency.p50, r.latency.p99);
};
await run('warm', ['seed1-school-150']);
await run('one school', ['seed1-school-150']);
await run('50 schools', Array.from({ length: 50 }, (_, i) => `seed1-school-${String(i + 100).padStart(3, '0')}`));
await run('one school', ['seed1-school-150']);
await run('50 schools', Array.from({ length: 50 }, (_, i) => `seed1-school-${String(i + 100).padStart(3, '0')}`));
