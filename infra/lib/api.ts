import { Duration, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { API_ROUTES, type ApiFunctionName } from '@media/core';
import { MediaFunction, type FunctionRuntime } from './media-function';

export interface ApiProps {
  runtime: FunctionRuntime;
  /** `http-api`: API Gateway v2 in front (AWS). `function-urls`: one Lambda URL per function (LocalStack). */
  front: 'http-api' | 'function-urls';
  allowedOrigins: string[];
  rateLimit: number;
  burstLimit: number;
}

const API_FUNCTIONS: Record<ApiFunctionName, { description: string; timeout: Duration }> = {
  // S3 may take a while to assemble a large multipart upload: up to API Gateway's 29 s.
  'request-upload': {
    description: 'POST /v1/uploads[/batch]: RBAC, a pending row, a presigned POST or a multipart upload; its parts, completion, abort',
    timeout: Duration.seconds(29),
  },
  'get-download': { description: 'GET /v1/media/{id}/download: RBAC, a presigned GET', timeout: Duration.seconds(10) },
  'media-api': { description: 'Media records: get, list, delete, legal hold, usage', timeout: Duration.seconds(15) },
};

const CORS_HEADERS = ['authorization', 'content-type'];

/**
 * The HTTP API of docs/architecture.md § Contract: the API functions, and in front of them either API Gateway v2
 * (every route of packages/core/src/routes.ts, throttled, access-logged, CORS for the configured origins)
 * or, for LocalStack's community edition which has no API Gateway v2, a function URL each.
 */
export class Api extends Construct {
  readonly functions: Record<ApiFunctionName, MediaFunction>;
  readonly httpApi?: apigw.HttpApi;
  readonly stage?: apigw.HttpStage;
  readonly accessLogs?: logs.LogGroup;
  readonly functionUrls?: Record<ApiFunctionName, lambda.FunctionUrl>;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const make = (name: ApiFunctionName) =>
      new MediaFunction(this, pascal(name), {
        name,
        runtime: props.runtime,
        description: API_FUNCTIONS[name].description,
        memorySize: 1024,
        timeout: API_FUNCTIONS[name].timeout,
        environment: { MEDIA_ALLOWED_ORIGINS: props.allowedOrigins.join(',') },
      });
    this.functions = {
      'request-upload': make('request-upload'),
      'get-download': make('get-download'),
      'media-api': make('media-api'),
    };

    if (props.front === 'function-urls') {
      const urlOf = (fn: MediaFunction) =>
        fn.addFunctionUrl({
          authType: lambda.FunctionUrlAuthType.NONE,
          cors: props.allowedOrigins.length
            ? { allowedOrigins: props.allowedOrigins, allowedMethods: [lambda.HttpMethod.ALL], allowedHeaders: CORS_HEADERS }
            : undefined,
        });
      this.functionUrls = {
        'request-upload': urlOf(this.functions['request-upload']),
        'get-download': urlOf(this.functions['get-download']),
        'media-api': urlOf(this.functions['media-api']),
      };
      return;
    }

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.runtime.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.runtime.removalPolicy,
    });
    const httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Media service HTTP API (v1)',
      createDefaultStage: false,
      corsPreflight: props.allowedOrigins.length
        ? {
            allowOrigins: props.allowedOrigins,
            allowMethods: [
              apigw.CorsHttpMethod.GET,
              apigw.CorsHttpMethod.POST,
              apigw.CorsHttpMethod.PUT,
              apigw.CorsHttpMethod.DELETE,
              apigw.CorsHttpMethod.OPTIONS,
            ],
            allowHeaders: CORS_HEADERS,
            exposeHeaders: ['retry-after'],
            maxAge: Duration.minutes(10),
          }
        : undefined,
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit, burstLimit: props.burstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        // Who asked for what and how it went; never a header (the bearer token) or a body, and never
        // the path: it holds media and children's ids. The route key (`GET /v1/media/{id}`) names
        // the operation; the function's own log ties the request id to the item, under its retention.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            method: '$context.httpMethod',
            routeKey: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationStatus: '$context.integrationStatus',
            integrationError: '$context.integrationErrorMessage',
            responseLength: '$context.responseLength',
          }),
        ),
      },
    });

    const integrations = Object.fromEntries(
      Object.entries(this.functions).map(([name, fn]) => [name, new HttpLambdaIntegration(`${pascal(name)}Integration`, fn)]),
    ) as Record<ApiFunctionName, HttpLambdaIntegration>;
    for (const route of API_ROUTES) {
      httpApi.addRoutes({ path: route.path, methods: [apigw.HttpMethod[route.method]], integration: integrations[route.fn] });
    }
    Validations.of(httpApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Every function verifies the bearer JWT itself (JWKS, issuer, audience) before anything else, the same code path the local stack and the tests run; a gateway authorizer would need OIDC discovery at the issuer.',
    });
    this.httpApi = httpApi;
  }
}

export const pascal = (name: string) => name.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());
