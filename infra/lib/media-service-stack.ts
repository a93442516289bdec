import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { Aws, CfnOutput, CfnParameter, CfnRule, Fn, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { DEFAULT_LOCAL_SECRET } from '@media/core';
import { Api, pascal } from './api';
import { Database, localDatabase, type DatabaseConnection } from './database';
import { Delivery } from './delivery';
import { Faces } from './faces';
import { FUNCTION_ACCESS, grantFunctionAccess } from './function-access';
import { LOCALSTACK_ACCOUNT } from './localstack';
import type { FunctionRuntime, MediaFunction } from './media-function';
import { Migrations } from './migrations';
import { acknowledgeFrameworkFindings, acknowledgeFunctionFindings } from './nag-suppressions';
import { Network } from './network';
import { Observability } from './observability';
import { Processing, PROCESSOR_TIMEOUT } from './processing';
import { RightsJobs } from './rights-jobs';
import { Queues } from './queues';
import { limitsEnvironment, type MediaSettings } from './settings';
import { Storage } from './storage';

export interface MediaServiceStackProps extends StackProps {
  settings: MediaSettings;
}

export const SERVICE_NAME = 'media-service';

/**
 * The media service in one stack: storage, queues, database, API, processing and observability.
 * The `localstack` profile is the same stack with the API behind function URLs and the compose
 * PostgreSQL instead of Aurora (LocalStack's community edition has neither API Gateway v2 nor RDS).
 */
export class MediaServiceStack extends Stack {
  readonly storage: Storage;
  readonly queues: Queues;
  readonly database: DatabaseConnection;
  readonly network?: Network;
  readonly migrations: Migrations;
  readonly api: Api;
  readonly processing: Processing;
  readonly rightsJobs: RightsJobs;
  readonly faces: Faces;
  readonly observability: Observability;
  /** CloudFront in front of the derivatives, with context `media:cdn=true`. */
  readonly delivery?: Delivery;

  constructor(scope: Construct, id: string, props: MediaServiceStackProps) {
    super(scope, id, {
      description: `Media service (${props.settings.stage}): direct-to-S3 uploads, image processing, metadata`,
      ...props,
    });
    const settings = props.settings;
    const aws = settings.profile === 'aws';
    const removalPolicy = settings.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    Tags.of(this).add('service', SERVICE_NAME);
    Tags.of(this).add('stage', settings.stage);

    this.storage = new Storage(this, 'Storage', {
      allowedOrigins: settings.allowedOrigins,
      encryption: settings.bucketEncryption,
      removalPolicy,
      cdnLogs: settings.cdn,
    });
    if (settings.cdn) {
      this.delivery = new Delivery(this, 'Delivery', {
        bucket: this.storage.bucket,
        key: this.storage.key,
        logBucket: this.storage.accessLogs,
        // The settings' refinement guarantees these with `cdn`.
        publicKeyPem: settings.cdnPublicKeyPem!,
        previousPublicKeyPem: settings.cdnPreviousPublicKeyPem,
        privateKeySecretName: settings.cdnPrivateKeySecretName!,
        domainName: settings.cdnDomainName!,
        certificateArn: settings.cdnCertificateArn!,
        priceClass: settings.cdnPriceClass as cloudfront.PriceClass,
        allowedOrigins: settings.allowedOrigins,
        deployedDistributionId: settings.cdnDistributionId,
      });
    }
    this.queues = new Queues(this, 'Queues', { processorTimeout: PROCESSOR_TIMEOUT, removalPolicy });
    this.storage.notifyUploads(this.queues.ingest);

    if (aws) {
      this.network = new Network(this, 'Network', {
        vpcId: settings.vpcId,
        natGateways: settings.natGateways,
        logRetentionDays: settings.logRetentionDays,
        removalPolicy,
      });
      this.database = new Database(this, 'Database', {
        network: this.network,
        stage: settings.stage,
        minCapacity: settings.databaseMinCapacity,
        maxCapacity: settings.databaseMaxCapacity,
        logRetentionDays: settings.logRetentionDays,
        removalPolicy,
        existing: settings.existingDatabase,
      });
    } else {
      this.database = localDatabase(settings.localDatabaseUrl);
      // Even a copy of this template uploaded by hand fails in a real account.
      new CfnRule(this, 'LocalStackOnly', {
        assertions: [
          {
            assert: Fn.conditionEquals(Aws.ACCOUNT_ID, LOCALSTACK_ACCOUNT),
            assertDescription: `The localstack profile (development JWT secret, throwaway database password) deploys only to LocalStack's account ${LOCALSTACK_ACCOUNT}.`,
          },
        ],
      });
    }

    const metricsNamespace = `MediaService/${settings.stage}`;
    const runtime: FunctionRuntime = {
      architecture: settings.architecture,
      logRetentionDays: settings.logRetentionDays,
      removalPolicy,
      network: this.network && {
        vpc: this.network.vpc,
        subnets: this.network.functionSubnets,
        securityGroup: this.network.functionSecurityGroup,
      },
      environment: {
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        MEDIA_BUCKET: this.storage.bucket.bucketName,
        // A claim outlives any processor run (its timeout), so a live worker is never overtaken.
        MEDIA_PROCESSING_LEASE_SECONDS: String(PROCESSOR_TIMEOUT.toSeconds() * 2.5),
        // The service functions sign in as the DML-only app role; the migrate function overrides it.
        ...this.database.app.environment,
        ...limitsEnvironment(settings),
        ...(aws ? this.identityProvider(settings) : this.localStackEnvironment(settings)),
      },
    };

    this.migrations = new Migrations(this, 'Migrations', { runtime, database: this.database });
    // Rotation starts as soon as it is set up, and it signs in as the app role: the migrate
    // function must have given the role the secret's password first.
    if (this.database instanceof Database) this.database.appSecretRotation?.node.addDependency(this.migrations.resource);
    this.api = new Api(this, 'Api', {
      runtime,
      front: aws ? 'http-api' : 'function-urls',
      allowedOrigins: settings.allowedOrigins,
      rateLimit: settings.apiRateLimit,
      burstLimit: settings.apiBurstLimit,
    });
    this.processing = new Processing(this, 'Processing', {
      runtime,
      ingest: this.queues.ingest,
      videos: this.queues.videos,
      concurrency: settings.processorConcurrency,
      sweeperRateMinutes: settings.sweeperRateMinutes,
    });

    this.rightsJobs = new RightsJobs(this, 'RightsJobs', {
      requester: this.api.functions['media-api'],
      worker: this.processing.sweeper,
      workerTimeout: PROCESSOR_TIMEOUT,
      removalPolicy,
    });

    this.faces = new Faces(this, 'Faces', {
      runtime,
      senders: [this.processing.processor, this.processing.videoProcessor, this.processing.sweeper, this.api.functions['media-api']],
      removalPolicy,
    });

    const services: MediaFunction[] = [
      ...Object.values(this.api.functions),
      this.processing.processor,
      this.processing.videoProcessor,
      this.processing.sweeper,
      this.faces.detector,
    ];
    for (const fn of services) {
      grantFunctionAccess(fn, fn.mediaName, {
        bucket: this.storage.bucket,
        key: this.storage.key,
        events: this.queues.eventsTopic,
        videos: this.queues.videos,
      });
      this.database.app.grantConnect(fn);
      if (FUNCTION_ACCESS[fn.mediaName].publishesEvents) fn.addEnvironment('MEDIA_EVENTS_TOPIC_ARN', this.queues.eventsTopic.topicArn);
      // New code goes live only once the schema it expects is there.
      fn.node.addDependency(this.migrations.resource);
    }
    if (this.delivery) {
      // get-download signs derivative URLs; the functions that purge deleted items (media-api's
      // delete, the sweeper's retry) take them out of the edge caches.
      const download = this.api.functions['get-download'];
      for (const [key, value] of Object.entries(this.delivery.signingEnvironment())) download.addEnvironment(key, value);
      this.delivery.grantSigning(download);
      for (const fn of [this.api.functions['media-api'], this.processing.sweeper]) {
        fn.addEnvironment('MEDIA_CDN_DISTRIBUTION_ID', this.delivery.distribution.distributionId);
        this.delivery.grantInvalidation(fn);
      }
    }
    // The transform function is none of the services above: no access, no database, no configuration.
    const allFunctions = [...services, this.processing.videoTransform, this.migrations.function];
    for (const fn of allFunctions) acknowledgeFunctionFindings(fn, this.storage.bucket);
    acknowledgeFrameworkFindings(this);

    const consumers = Object.entries(this.queues.consumers).flatMap(([consumer, queues]) => (queues ? [[consumer, queues] as const] : []));
    this.observability = new Observability(this, 'Observability', {
      stage: settings.stage,
      functions: allFunctions,
      ingest: this.queues.ingest,
      deadLetterQueues: [
        { name: 'IngestDeadLetters', queue: this.queues.ingestDeadLetters },
        { name: 'VideoDeadLetters', queue: this.queues.videoDeadLetters },
        { name: 'RightsJobsDeadLetters', queue: this.rightsJobs.deadLetters },
        { name: 'FaceJobsDeadLetters', queue: this.faces.deadLetters },
        ...consumers.map(([consumer, { deadLetters }]) => ({ name: `${pascal(consumer)}DeadLetters`, queue: deadLetters })),
      ],
      events: consumers.map(([, { queue }]) => queue),
      httpApi: this.api.httpApi,
      metricsNamespace,
      serviceName: SERVICE_NAME,
      alarmEmail: settings.alarmEmail,
    });

    this.outputs(settings);
  }

  /**
   * The identity provider that signs the callers' tokens. Parameters, so that the template stands
   * on its own; their defaults come from context, so `cdk deploy -c media:jwtIssuer=…` is enough.
   */
  private identityProvider(settings: MediaSettings): Record<string, string> {
    const parameter = (id: string, description: string, value: string | undefined, allowedPattern?: string) =>
      new CfnParameter(this, id, { type: 'String', description, default: value, allowedPattern, minLength: 1 }).valueAsString;
    return {
      MEDIA_JWT_JWKS_URL: parameter('JwtJwksUrl', 'JWKS URL of the identity provider (https)', settings.jwtJwksUrl, '^https://.+'),
      MEDIA_JWT_ISSUER: parameter('JwtIssuer', 'Expected `iss` of caller tokens', settings.jwtIssuer),
      MEDIA_JWT_AUDIENCE: parameter('JwtAudience', 'Expected `aud` of caller tokens', settings.jwtAudience),
    };
  }

  /**
   * LocalStack: presigned URLs must carry an address the browser (or the test) can reach, not the
   * internal endpoint LocalStack injects into Lambdas; tokens are the local stack's HS256 dev tokens.
   */
  private localStackEnvironment(settings: MediaSettings): Record<string, string> {
    return {
      MEDIA_S3_PUBLIC_ENDPOINT: settings.s3PublicEndpoint,
      MEDIA_S3_FORCE_PATH_STYLE: 'true',
      // The well-known development secret of `npm start`; never part of the AWS profile.
      MEDIA_JWT_SECRET: DEFAULT_LOCAL_SECRET,
    };
  }

  private outputs(settings: MediaSettings): void {
    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output('BucketName', this.storage.bucket.bucketName, 'The media bucket');
    output('IngestQueueUrl', this.queues.ingest.queueUrl, 'S3 ObjectCreated on incoming/ → process-upload');
    output('IngestDeadLetterQueueUrl', this.queues.ingestDeadLetters.queueUrl, 'Uploads that failed five times');
    output('VideoQueueUrl', this.queues.videos.queueUrl, 'Videos forwarded by process-upload → process-video');
    output('VideoDeadLetterQueueUrl', this.queues.videoDeadLetters.queueUrl, 'Videos that failed five times');
    output('FaceQueueUrl', this.faces.queue.queueUrl, 'Ready photos and posters → detect-faces');
    output('FaceDeadLetterQueueUrl', this.faces.deadLetters.queueUrl, 'Face jobs that failed five times');
    output('EventsTopicArn', this.queues.eventsTopic.topicArn, 'Outbound media.* events, fanned out to one queue per consumer');
    for (const [consumer, { queue, deadLetters }] of Object.entries(this.queues.consumers).flatMap(([c, q]) =>
      q ? [[c, q] as const] : [],
    )) {
      output(`${pascal(consumer)}EventsQueueUrl`, queue.queueUrl, `What ${consumer} may know of media events (docs/events.md)`);
      output(`${pascal(consumer)}EventsDeadLetterQueueUrl`, deadLetters.queueUrl, `Events ${consumer} failed to take five times`);
    }
    if (this.delivery) {
      output(
        'CdnDomainName',
        this.delivery.domainName,
        'Viewers get derivative URLs on this name: point it (CNAME or alias) at CdnDistributionDomainName',
      );
      output('CdnDistributionDomainName', this.delivery.distribution.distributionDomainName, "The distribution's own host name");
      output(
        'CdnDistributionId',
        this.delivery.distribution.distributionId,
        'Set media:cdnDistributionId to this and deploy again: the KMS key then lets only this distribution decrypt',
      );
      output(
        'CdnPrivateKeySecretArn',
        this.delivery.privateKey.secretArn,
        'Where get-download reads the URL-signing key (the value stays in Secrets Manager)',
      );
    }
    output('AlarmTopicArn', this.observability.topic.topicArn, 'Subscribe on-call here');
    output('DashboardName', this.observability.dashboard.dashboardName, 'CloudWatch dashboard');
    if (this.api.stage) {
      output('ApiUrl', this.api.stage.url, 'Base URL of the HTTP API');
      // `cdk deploy` prints outputs: the operator's next step, with the URL filled in.
      output(
        'SmokeCommand',
        `npm run smoke -- ${this.api.stage.url} --token <a teacher or admin token of a test school>`,
        'Checks the deploy end to end: upload, processing, download, delete',
      );
    }
    if (this.database instanceof Database) {
      output('DatabaseProxyEndpoint', this.database.proxy.endpoint, 'RDS Proxy endpoint (IAM authentication, TLS)');
      if (this.database.cluster?.secret) {
        output(
          'DatabaseSecretArn',
          this.database.cluster.secret.secretArn,
          'ARN of the generated admin secret (the value stays in Secrets Manager)',
        );
        if (this.database.appSecret) {
          output(
            'DatabaseAppSecretArn',
            this.database.appSecret.secretArn,
            'ARN of the generated media_app secret (the proxy signs in with it; the value stays in Secrets Manager)',
          );
        }
      }
    }
    for (const [name, url] of Object.entries(this.api.functionUrls ?? {})) {
      output(`${pascal(name)}Url`, url.url, `Function URL of ${name} (${settings.profile} profile)`);
    }
  }
}
