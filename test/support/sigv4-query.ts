import { createHash, createHmac } from 'node:crypto';

/**
 * The SigV4 signature a presigned URL must carry if S3 received it with `headers`, computed here from
 * the specification (not with the SDK that signed it). The local S3 server checks no signature, so
 * tests that a URL binds a header compare its X-Amz-Signature with this.
 */
export function expectedQuerySignature(url: string, method: string, headers: Record<string, string>, secretAccessKey: string): string {
  const parsed = new URL(url);
  const query = [...parsed.searchParams.entries()].filter(([name]) => name !== 'X-Amz-Signature');
  const canonicalQuery = query
    .map(([name, value]) => [rfc3986(name), rfc3986(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const signedHeaders = parsed.searchParams.get('X-Amz-SignedHeaders')!.split(';');
  const values: Record<string, string> = { host: parsed.host, ...lowerCased(headers) };
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${(values[name] ?? '').trim()}\n`).join('');
  const canonicalRequest = [
    method,
    parsed.pathname,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders.join(';'),
    parsed.searchParams.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD',
  ].join('\n');
  const [, date, region, service] = parsed.searchParams.get('X-Amz-Credential')!.split('/') as [string, string, string, string];
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', parsed.searchParams.get('X-Amz-Date')!, scope, sha256Hex(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${secretAccessKey}`, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
const sha256Hex = (data: string) => createHash('sha256').update(data).digest('hex');
const rfc3986 = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const lowerCased = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
