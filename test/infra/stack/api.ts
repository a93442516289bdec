import { describe, expect, it } from 'vitest';
import { API_ROUTES, routeKeyOf } from '@media/core';
import { CONFIGURED, resourcesOf, serviceFunctions, synthesize } from '../synth';

const { template, stack, idOf } = synthesize();
const functions = serviceFunctions(template);
const routes = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Route'));
const integrations = resourcesOf(template, 'AWS::ApiGatewayV2::Integration');
const stage = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Stage'))[0].Properties;

/** The service function a route's target (`integrations/<id>`) invokes. */
function functionBehind(target: { 'Fn::Join': [string, [string, { Ref: string }]] }): string {
  const [prefix, { Ref: integrationId }] = target['Fn::Join'][1];
  if (prefix !== 'integrations/') return `not an integration: ${prefix}`;
  const uri = integrations[integrationId]?.Properties.IntegrationUri;
  const fnId = uri?.['Fn::GetAtt']?.[0];
  return Object.entries(functions).find(([, f]) => f.id === fnId)?.[0] ?? `unknown ${fnId}`;
}

describe('the HTTP API', () => {
  it('serves every route of packages/core/src/routes.ts, each with the function the table names', () => {
    for (const route of API_ROUTES) {
      const found = routes.find((r) => r.Properties.RouteKey === routeKeyOf(route));
      expect(found, routeKeyOf(route)).toBeDefined();
      expect(functionBehind(found!.Properties.Target), routeKeyOf(route)).toBe(route.fn);
    }
  });

  it('prints the smoke command with its URL after a deploy', () => {
    const { SmokeCommand } = template.toJSON().Outputs;
    const [, parts] = SmokeCommand.Value['Fn::Join'];
    expect(parts[0]).toBe('npm run smoke -- https://');
    expect(parts.at(-1)).toContain('--token');
  });

  it('serves no route the table does not name', () => {
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(API_ROUTES.map(routeKeyOf).sort());
  });

  it('hands requests over as payload format 2.0 events, the shape the handlers read', () => {
    for (const integration of Object.values(integrations)) {
      expect(integration.Properties.IntegrationType).toBe('AWS_PROXY');
      expect(integration.Properties.PayloadFormatVersion).toBe('2.0');
    }
  });

  it('throttles the default stage', () => {
    expect(stage.StageName).toBe('$default');
    expect(stage.AutoDeploy).toBe(true);
    expect(stage.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
  });

  it('writes an access log line per request to a log group with a retention', () => {
    const logGroupId = idOf(stack.api.accessLogs!);
    expect(stage.AccessLogSettings.DestinationArn).toEqual({ 'Fn::GetAtt': [logGroupId, 'Arn'] });
    expect(resourcesOf(template, 'AWS::Logs::LogGroup')[logGroupId].Properties.RetentionInDays).toBe(30);
    const format = JSON.parse(stage.AccessLogSettings.Format);
    expect(format).toMatchObject({ requestId: '$context.requestId', routeKey: '$context.routeKey', status: '$context.status' });
  });

  it('keeps headers (the bearer token) and bodies out of the access log', () => {
    expect(stage.AccessLogSettings.Format).not.toMatch(/header|authorizer|body/i);
  });

  it("keeps paths, which hold media and children's ids, out of the access log: the route key names the operation", () => {
    const fields = Object.values(JSON.parse(stage.AccessLogSettings.Format) as Record<string, string>);
    expect(fields).toContain('$context.routeKey');
    expect(fields.filter((f) => /path|uri|querystring/i.test(f))).toEqual([]);
  });

  it('answers no cross-origin request when no origin is configured', () => {
    const api = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Api'))[0].Properties;
    expect(api.ProtocolType).toBe('HTTP');
    expect(api.CorsConfiguration).toBeUndefined();
  });
});

describe('the HTTP API with allowed origins', () => {
  const configured = synthesize(CONFIGURED);
  const api = Object.values(resourcesOf(configured.template, 'AWS::ApiGatewayV2::Api'))[0].Properties;

  it('allows exactly those origins, the methods of the contract and its two request headers', () => {
    expect(api.CorsConfiguration).toEqual({
      AllowOrigins: ['https://school.example', 'http://localhost:5173'],
      AllowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      AllowHeaders: ['authorization', 'content-type'],
      ExposeHeaders: ['retry-after'],
      MaxAge: 600,
    });
  });

  it('tells the functions the same origins', () => {
    const fns = serviceFunctions(configured.template);
    for (const name of ['request-upload', 'get-download', 'media-api']) {
      expect(fns[name]!.props.Environment.Variables.MEDIA_ALLOWED_ORIGINS, name).toBe('https://school.example,http://localhost:5173');
    }
  });
});
