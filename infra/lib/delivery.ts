import { Annotations, Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** The only part of the bucket the distribution may read: processed, metadata-free variants. */
export const CDN_PREFIX = 'derivatives/';

/**
 * How long an edge keeps a derivative. Longer than any URL lives (objects never change under a
 * key, and a delete invalidates them), so the second viewer of a thumbnail never reaches S3. It is
 * also the cache policy's minimum: CloudFront caches despite the objects' `Cache-Control: private`,
 * which is meant for every other shared cache on the way.
 */
export const EDGE_TTL = Duration.days(1);

/**
 * The image answers' Content-Security-Policy: nothing loads, nothing runs, no frame, no form. An
 * image opened as a document (a WebP carrying SVG-like tricks, a mis-typed object) can do nothing.
 */
export const IMAGE_CSP =
  "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'none'; sandbox";

export interface DeliveryProps {
  bucket: s3.IBucket;
  key?: kms.IKey;
  /** The access-log bucket (ACLs enabled: CloudFront's standard logs are written with one). */
  logBucket: s3.IBucket;
  publicKeyPem: string;
  previousPublicKeyPem?: string;
  privateKeySecretName: string;
  domainName: string;
  certificateArn: string;
  priceClass: cloudfront.PriceClass;
  /** Browser origins that may fetch() images (an `<img>` needs none); never `*`. */
  allowedOrigins: string[];
  /**
   * This distribution's id once it exists (`media:cdnDistributionId`, from the first deploy's
   * `CdnDistributionId` output): the KMS key then lets only it decrypt.
   */
  deployedDistributionId?: string;
}

/**
 * CloudFront in front of the derivatives: viewers need a URL signed by get-download (key group),
 * the distribution reads the bucket with Origin Access Control and only under derivatives/ (the
 * bucket policy says so; Block Public Access stays on), TLS 1.2+, HTTP/2 and HTTP/3, standard
 * access logs, one cached copy per object whatever the signature (docs/operations.md § CDN).
 */
export class Delivery extends Construct {
  readonly distribution: cloudfront.Distribution;
  readonly keyGroup: cloudfront.KeyGroup;
  readonly publicKey: cloudfront.PublicKey;
  readonly privateKey: secretsmanager.ISecret;
  readonly cachePolicy: cloudfront.CachePolicy;
  readonly responseHeaders: cloudfront.ResponseHeadersPolicy;
  readonly domainName: string;

  constructor(scope: Construct, id: string, props: DeliveryProps) {
    super(scope, id);
    this.domainName = props.domainName;

    this.publicKey = new cloudfront.PublicKey(this, 'SigningKey', {
      encodedKey: props.publicKeyPem,
      comment: 'Verifies the download URLs get-download signs',
    });
    const previous = props.previousPublicKeyPem
      ? new cloudfront.PublicKey(this, 'PreviousSigningKey', {
          encodedKey: props.previousPublicKeyPem,
          comment: 'Being retired: verifies URLs signed before the last rotation until they expire',
        })
      : undefined;
    this.keyGroup = new cloudfront.KeyGroup(this, 'KeyGroup', {
      items: previous ? [this.publicKey, previous] : [this.publicKey],
      comment: 'The keys whose signatures the media CDN accepts',
    });
    // Created and filled by the operator (docs/operations.md § CDN): the key never passes through a template.
    this.privateKey = secretsmanager.Secret.fromSecretNameV2(this, 'PrivateKey', props.privateKeySecretName);

    this.cachePolicy = new cloudfront.CachePolicy(this, 'CachePolicy', {
      comment: 'One copy per object: the key is the path alone, never the signature, a header or a cookie',
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      minTtl: EDGE_TTL,
      defaultTtl: EDGE_TTL,
      maxTtl: Duration.days(7),
      // WebP, AVIF and JPEG are compressed already.
      enableAcceptEncodingGzip: false,
      enableAcceptEncodingBrotli: false,
    });

    this.responseHeaders = new cloudfront.ResponseHeadersPolicy(this, 'ResponseHeaders', {
      comment: 'Images only: no sniffing, no scripts, no framing, no referrer, no CORS for all',
      securityHeadersBehavior: {
        contentTypeOptions: { override: true },
        contentSecurityPolicy: { contentSecurityPolicy: IMAGE_CSP, override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
      },
      corsBehavior: props.allowedOrigins.length
        ? {
            accessControlAllowOrigins: props.allowedOrigins,
            accessControlAllowMethods: ['GET', 'HEAD'],
            accessControlAllowHeaders: ['*'],
            accessControlAllowCredentials: false,
            accessControlMaxAge: Duration.minutes(50),
            originOverride: true,
          }
        : undefined,
    });

    // The origin reads the bucket through an imported handle, so that aws-cdk-lib does not grant
    // the distribution the whole bucket: the statement below grants derivatives/ only.
    Annotations.of(this).acknowledgeWarning(
      '@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac',
      'The media bucket policy is written below, scoped to derivatives/.',
    );
    const origin = origins.S3BucketOrigin.withOriginAccessControl(
      s3.Bucket.fromBucketAttributes(this, 'Origin', {
        bucketArn: props.bucket.bucketArn,
        bucketRegionalDomainName: props.bucket.bucketRegionalDomainName,
      }),
      {
        originAccessControl: new cloudfront.S3OriginAccessControl(this, 'OriginAccessControl', {
          description: 'The media CDN reads derivatives with SigV4',
          signing: cloudfront.Signing.SIGV4_ALWAYS,
        }),
      },
    );

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Media derivatives (signed URLs only)',
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
        cachePolicy: this.cachePolicy,
        responseHeadersPolicy: this.responseHeaders,
        trustedKeyGroups: [this.keyGroup],
        compress: false,
      },
      domainNames: [props.domainName],
      certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn),
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      sslSupportMethod: cloudfront.SSLMethod.SNI,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: props.priceClass,
      enableIpv6: true,
      enableLogging: true,
      logBucket: props.logBucket,
      logFilePrefix: 'cdn/',
      // Denied or missing objects are not remembered: a photo that becomes ready is served at once.
      errorResponses: [403, 404].map((httpStatus) => ({ httpStatus, ttl: Duration.seconds(0) })),
    });

    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'No geo restriction: families travel and schools abroad exist; every request must carry a URL signed for one object minutes ago, which is the access control.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'No WAF: the distribution serves static images to signed URLs only (GET and HEAD, no body, no query reaching the origin); unsigned requests are refused at the edge before any origin work.',
      },
    );

    props.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CdnReadsDerivativesOnly',
        principals: [new iam.ServicePrincipal('cloudfront.amazonaws.com')],
        actions: ['s3:GetObject'],
        resources: [props.bucket.arnForObjects(`${CDN_PREFIX}*`)],
        conditions: { StringEquals: { 'AWS:SourceArn': this.distributionArn } },
      }),
    );
    // A KMS-encrypted bucket: CloudFront decrypts what it may read. The key cannot refer to the
    // distribution (the key → bucket → distribution chain would loop in CloudFormation), so it names
    // this distribution by its id as a plain string once a first deploy has made one, and until
    // then any distribution of the account (the bucket policy above still admits only this one).
    if (props.key) {
      const distributions = `arn:${Aws.PARTITION}:cloudfront::${Aws.ACCOUNT_ID}:distribution/`;
      props.key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'CdnDecryptsDerivatives',
          principals: [new iam.ServicePrincipal('cloudfront.amazonaws.com')],
          actions: ['kms:Decrypt'],
          resources: ['*'],
          conditions: props.deployedDistributionId
            ? { StringEquals: { 'AWS:SourceArn': `${distributions}${props.deployedDistributionId}` } }
            : { ArnLike: { 'AWS:SourceArn': `${distributions}*` } },
        }),
      );
    }
  }

  get distributionArn(): string {
    return Stack.of(this).formatArn({
      service: 'cloudfront',
      region: '',
      resource: 'distribution',
      resourceName: this.distribution.distributionId,
    });
  }

  /** What get-download needs to sign: where the key is, and which public key it matches. Never the key. */
  signingEnvironment(): Record<string, string> {
    return {
      MEDIA_CDN_DOMAIN: this.domainName,
      MEDIA_CDN_KEY_PAIR_ID: this.publicKey.publicKeyId,
      MEDIA_CDN_PRIVATE_KEY_SECRET_ARN: this.privateKey.secretArn,
    };
  }

  /** A signer reads the private key, once per container. */
  grantSigning(grantee: iam.IGrantable): void {
    this.privateKey.grantRead(grantee);
  }

  /** A function that purges deleted items invalidates their paths in this distribution only. */
  grantInvalidation(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['cloudfront:CreateInvalidation'], resources: [this.distributionArn] }),
    );
  }
}
