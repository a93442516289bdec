import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CDN, asArray, readable, resourcesOf, serviceFunctions, statementsOfRole, synthesize } from '../synth';

/** An IAM or KMS policy statement as the template holds it. */
type PolicyStatement = { Effect: string; Principal?: unknown; Action?: unknown; Condition?: unknown };

const { template, stack, idOf } = synthesize(CDN);
const delivery = stack.delivery!;
const functions = serviceFunctions(template);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: any }>;
const one = (type: string) => {
  const found = Object.values(resourcesOf(template, type));
  expect(found, type).toHaveLength(1);
  return found[0].Properties;
};
const distributionId = idOf(delivery.distribution);
const bucketId = idOf(stack.storage.bucket);
const accessLogsId = idOf(stack.storage.accessLogs);
const distribution = resources[distributionId]!.Properties.DistributionConfig;
const behavior = distribution.DefaultCacheBehavior;
const names: Record<string, string> = { [bucketId]: 'bucket', [distributionId]: 'distribution' };

/** A function's statements as `action on resource` lines. */
function access(name: string): string[] {
  const role = functions[name]!.props.Role['Fn::GetAtt'][0] as string;
  return statementsOfRole(template, role).flatMap((s) =>
    asArray(s.Action as string | string[]).flatMap((action) =>
      asArray(readable(s.Resource, names) as string | string[]).map(
        (resource) => `${action} on ${typeof resource === 'string' ? resource : JSON.stringify(resource)}`,
      ),
    ),
  );
}
const envOf = (name: string) => functions[name]!.props.Environment.Variables as Record<string, unknown>;

describe('without media:cdn (the default)', () => {
  const plain = synthesize().template;

  it('has no distribution, key group or CDN setting: every variant stays an S3 presigned URL', () => {
    for (const type of ['AWS::CloudFront::Distribution', 'AWS::CloudFront::KeyGroup', 'AWS::CloudFront::PublicKey']) {
      expect(Object.keys(resourcesOf(plain, type)), type).toEqual([]);
    }
    for (const [name, fn] of Object.entries(serviceFunctions(plain))) {
      expect(
        Object.keys(fn.props.Environment.Variables).filter((k) => k.startsWith('MEDIA_CDN_')),
        name,
      ).toEqual([]);
    }
  });

  it('keeps ACLs off the access-log bucket', () => {
    expect(resourcesOf(plain, 'AWS::S3::Bucket')[accessLogsId].Properties.OwnershipControls.Rules).toEqual([
      { ObjectOwnership: 'BucketOwnerEnforced' },
    ]);
  });
});

describe('the CDN distribution (media:cdn=true)', () => {
  it("answers on the school's own name with TLS 1.2 or later only, over HTTP/2 and HTTP/3", () => {
    expect(distribution.Aliases).toEqual(['media-cdn.school.example']);
    expect(distribution.ViewerCertificate).toEqual({
      AcmCertificateArn: CDN['media:cdnCertificateArn'],
      MinimumProtocolVersion: 'TLSv1.2_2021',
      SslSupportMethod: 'sni-only',
    });
    expect(distribution.HttpVersion).toBe('http2and3');
    expect(behavior.ViewerProtocolPolicy).toBe('https-only');
  });

  it('serves only GET and HEAD, only to URLs signed with a key of its key group', () => {
    expect(behavior.AllowedMethods).toEqual(['GET', 'HEAD']);
    expect(behavior.TrustedKeyGroups).toEqual([{ Ref: idOf(delivery.keyGroup) }]);
    expect(behavior.TrustedSigners).toBeUndefined();
  });

  it('writes standard access logs into the access-log bucket under cdn/', () => {
    expect(distribution.Logging).toEqual({ Bucket: { 'Fn::GetAtt': [accessLogsId, 'RegionalDomainName'] }, Prefix: 'cdn/' });
    const logs = resourcesOf(template, 'AWS::S3::Bucket')[accessLogsId].Properties;
    // CloudFront delivers its logs with an ACL; the bucket still owns them and nothing can be public.
    expect(logs.OwnershipControls.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerPreferred' }]);
    expect(logs.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  it('does not remember refusals: a photo that becomes ready is served at once', () => {
    expect(distribution.CustomErrorResponses).toEqual([
      { ErrorCode: 403, ErrorCachingMinTTL: 0 },
      { ErrorCode: 404, ErrorCachingMinTTL: 0 },
    ]);
  });
});

describe('origin access (OAC) and the bucket policy', () => {
  it('reads the media bucket through Origin Access Control, signing every request, with no legacy identity', () => {
    const oac = one('AWS::CloudFront::OriginAccessControl').OriginAccessControlConfig;
    expect(oac).toMatchObject({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' });
    expect(distribution.Origins).toEqual([
      expect.objectContaining({
        DomainName: { 'Fn::GetAtt': [bucketId, 'RegionalDomainName'] },
        OriginAccessControlId: { 'Fn::GetAtt': [Object.keys(resourcesOf(template, 'AWS::CloudFront::OriginAccessControl'))[0], 'Id'] },
        S3OriginConfig: { OriginAccessIdentity: '' },
      }),
    ]);
    expect(distribution.Origins[0].OriginPath).toBeUndefined();
  });

  it('lets only this distribution read, and only derivatives/ (never originals or uploads)', () => {
    const policy = Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy')).find((p) => p.Properties.Bucket.Ref === bucketId)!;
    const toCloudFront = (policy.Properties.PolicyDocument.Statement as PolicyStatement[]).filter((s) =>
      JSON.stringify(s.Principal).includes('cloudfront'),
    );
    expect(toCloudFront.map((s) => readable(s, names))).toEqual([
      {
        Sid: 'CdnReadsDerivativesOnly',
        Effect: 'Allow',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Action: 's3:GetObject',
        Resource: 'bucket/derivatives/*',
        Condition: { StringEquals: { 'AWS:SourceArn': 'arn:AWS::Partition:cloudfront::AWS::AccountId:distribution/distribution' } },
      },
    ]);
    // Nothing else in the policy allows anyone in: only the TLS-only deny and this statement.
    expect((policy.Properties.PolicyDocument.Statement as PolicyStatement[]).filter((s) => s.Effect === 'Allow')).toHaveLength(1);
  });

  it('keeps Block Public Access on the media bucket', () => {
    expect(resourcesOf(template, 'AWS::S3::Bucket')[bucketId].Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  it("lets CloudFront decrypt with the bucket key (KMS) for this account's distributions until the first deploy names this one", () => {
    const key = one('AWS::KMS::Key');
    const cdn = (key.KeyPolicy.Statement as PolicyStatement[]).filter((s) => JSON.stringify(s.Principal).includes('cloudfront'));
    expect(cdn).toHaveLength(1);
    expect(cdn[0]!.Action).toBe('kms:Decrypt');
    expect(readable(cdn[0]!.Condition, names)).toEqual({
      ArnLike: { 'AWS:SourceArn': 'arn:AWS::Partition:cloudfront::AWS::AccountId:distribution/*' },
    });
    expect(template.toJSON().Outputs.CdnDistributionId.Value).toEqual({ Ref: distributionId });
  });

  it('lets only this distribution decrypt once media:cdnDistributionId names it (from the first deploy)', () => {
    const pinned = synthesize({ ...CDN, 'media:cdnDistributionId': 'E2EXAMPLE123' }).template;
    const key = Object.values(resourcesOf(pinned, 'AWS::KMS::Key'))[0].Properties;
    const cdn = (key.KeyPolicy.Statement as PolicyStatement[]).filter((s) => JSON.stringify(s.Principal).includes('cloudfront'));
    expect(cdn.map((s) => readable(s.Condition, names))).toEqual([
      { StringEquals: { 'AWS:SourceArn': 'arn:AWS::Partition:cloudfront::AWS::AccountId:distribution/E2EXAMPLE123' } },
    ]);
    expect(() => synthesize({ ...CDN, 'media:cdnDistributionId': 'arn:aws:cloudfront::1:distribution/E2' })).toThrow(
      /media:cdnDistributionId/,
    );
  });
});

describe('signed viewer access: the key group', () => {
  it('trusts the public key given as media:cdnPublicKeyPem, and only it', () => {
    const keys = Object.values(resourcesOf(template, 'AWS::CloudFront::PublicKey'));
    expect(keys.map((k) => k.Properties.PublicKeyConfig.EncodedKey)).toEqual([CDN['media:cdnPublicKeyPem'].trim()]);
    expect(one('AWS::CloudFront::KeyGroup').KeyGroupConfig.Items).toEqual([{ Ref: idOf(delivery.publicKey) }]);
  });

  it('trusts the retiring key too during a rotation, while get-download signs with the new one', () => {
    const previous = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const rotating = synthesize({ ...CDN, 'media:cdnPreviousPublicKeyPem': previous.publicKey });
    const keyGroup = Object.values(resourcesOf(rotating.template, 'AWS::CloudFront::KeyGroup'))[0].Properties.KeyGroupConfig;
    expect(keyGroup.Items).toHaveLength(2);
    const env = serviceFunctions(rotating.template)['get-download']!.props.Environment.Variables;
    expect(env.MEDIA_CDN_KEY_PAIR_ID).toEqual({ Ref: rotating.idOf(rotating.stack.delivery!.publicKey) });
  });

  it('refuses a CDN without its key, secret, name and certificate, and a public key that is not PEM', () => {
    expect(() => synthesize({ 'media:cdn': 'true' })).toThrow(/media:cdn: a CDN needs/);
    expect(() => synthesize({ ...CDN, 'media:cdnPublicKeyPem': 'ssh-rsa AAAA' })).toThrow(/media:cdnPublicKeyPem/);
    expect(() => synthesize({ ...CDN, 'media:cdnCertificateArn': 'arn:aws:acm:eu-west-1:123456789012:certificate/x' })).toThrow(
      /media:cdnCertificateArn/,
    );
  });
});

describe('caching and response headers', () => {
  const cache = one('AWS::CloudFront::CachePolicy').CachePolicyConfig;

  it('keys the cache on the path alone: no query string (the signature), header or cookie, so viewers share one copy', () => {
    expect(behavior.CachePolicyId).toEqual({ Ref: idOf(delivery.cachePolicy) });
    expect(cache.ParametersInCacheKeyAndForwardedToOrigin).toMatchObject({
      QueryStringsConfig: { QueryStringBehavior: 'none' },
      HeadersConfig: { HeaderBehavior: 'none' },
      CookiesConfig: { CookieBehavior: 'none' },
    });
    expect(behavior.OriginRequestPolicyId).toBeUndefined();
  });

  it("keeps an object at the edge longer than any URL to it lives (the objects' private max-age is for other caches)", () => {
    expect(cache.MinTTL).toBeGreaterThanOrEqual(15 * 60);
    expect(cache.DefaultTTL).toBeGreaterThanOrEqual(cache.MinTTL);
  });

  it('sends nosniff, a Content-Security-Policy that lets an image do nothing, and no framing', () => {
    const headers = one('AWS::CloudFront::ResponseHeadersPolicy').ResponseHeadersPolicyConfig;
    expect(behavior.ResponseHeadersPolicyId).toEqual({ Ref: idOf(delivery.responseHeaders) });
    expect(headers.SecurityHeadersConfig.ContentTypeOptions).toEqual({ Override: true });
    const csp = headers.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy as string;
    expect(csp).toMatch(/^default-src 'none'/);
    expect(csp).toContain('sandbox');
    expect(csp).not.toMatch(/script-src|\*/);
    expect(headers.SecurityHeadersConfig.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
  });

  it('never answers Access-Control-Allow-Origin: *: only the configured origins, and none without them', () => {
    const headers = one('AWS::CloudFront::ResponseHeadersPolicy').ResponseHeadersPolicyConfig;
    expect(headers.CorsConfig.AccessControlAllowOrigins.Items).toEqual(['https://school.example', 'http://localhost:5173']);
    expect(headers.CorsConfig.AccessControlAllowCredentials).toBe(false);
    const { 'media:allowedOrigins': _, ...withoutOrigins } = CDN;
    const bare = Object.values(resourcesOf(synthesize(withoutOrigins).template, 'AWS::CloudFront::ResponseHeadersPolicy'))[0].Properties;
    expect(bare.ResponseHeadersPolicyConfig.CorsConfig).toBeUndefined();
  });
});

describe('the functions and the CDN', () => {
  it('get-download is told where the private key is kept and which key pair it is, never the key', () => {
    const env = envOf('get-download');
    expect(env.MEDIA_CDN_DOMAIN).toBe('media-cdn.school.example');
    expect(env.MEDIA_CDN_KEY_PAIR_ID).toEqual({ Ref: idOf(delivery.publicKey) });
    expect(JSON.stringify(env.MEDIA_CDN_PRIVATE_KEY_SECRET_ARN)).toContain(':secret:media/dev/cdn-private-key');
    expect(JSON.stringify(template.toJSON())).not.toContain('PRIVATE KEY');
  });

  it("only get-download may read the private key's secret, and no other secret of the stack", () => {
    const reads = Object.keys(functions).filter((name) => access(name).some((line) => line.includes('cdn-private-key')));
    expect(reads).toEqual(['get-download']);
    // The name, then the six characters Secrets Manager appends: this one secret, whatever its suffix.
    const secret = 'arn:AWS::Partition:secretsmanager:AWS::Region:AWS::AccountId:secret:media/dev/cdn-private-key-??????';
    expect(
      access('get-download')
        .filter((line) => line.startsWith('secretsmanager:'))
        .sort(),
    ).toEqual([`secretsmanager:DescribeSecret on ${secret}`, `secretsmanager:GetSecretValue on ${secret}`]);
  });

  it('media-api (delete) and the sweeper (purge retries) may invalidate this distribution, nothing else may', () => {
    const invalidators = Object.keys(functions).filter((name) => access(name).some((line) => line.startsWith('cloudfront:')));
    expect(invalidators.sort()).toEqual(['media-api', 'sweeper']);
    for (const name of invalidators) {
      expect(
        access(name).filter((line) => line.startsWith('cloudfront:')),
        name,
      ).toEqual(['cloudfront:CreateInvalidation on arn:AWS::Partition:cloudfront::AWS::AccountId:distribution/distribution']);
      expect(envOf(name).MEDIA_CDN_DISTRIBUTION_ID, name).toEqual({ Ref: distributionId });
    }
  });
});
