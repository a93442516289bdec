/**
 * The shape of a first deploy, read from a synthesized template: how many resources of each type,
 * which of them CloudFormation is slow to create, and what `cdk destroy` would leave behind.
 * No account is needed; the durations are AWS's typical ones, not measurements.
 */

/** What this reads of a template's resource. */
interface CfnResource {
  Type: string;
  DeletionPolicy?: string;
  Properties?: { DeletionProtection?: unknown };
}

/** Resource types that dominate a first deploy, with the time each typically takes to create. */
export const SLOW_TO_CREATE: Record<string, string> = {
  'AWS::RDS::DBInstance': '8–15 min (the Aurora Serverless v2 writer; it waits for the cluster)',
  'AWS::RDS::DBProxy': '4–10 min (then its target group waits for the writer)',
  'AWS::RDS::DBCluster': '2–5 min',
  'AWS::CloudFront::Distribution': '3–15 min (with media:cdn only)',
  'AWS::EC2::NatGateway': '1–3 min',
  'AWS::EC2::VPCEndpoint': '1–3 min each (interface endpoints; the S3 gateway endpoint takes seconds)',
  'AWS::Serverless::Application': '1–3 min each (a nested stack: the secret rotation function)',
  'Custom::MediaSchema': '1–2 min (the migrate function in the VPC: its first start, then the migrations)',
};

export interface DeployShape {
  total: number;
  /** Resource count by type, most numerous first. */
  byType: [type: string, count: number][];
  /** The slow types present, with their count and typical time. */
  slow: { type: string; count: number; typical: string }[];
  /** What `cdk destroy` would not delete: `logicalId (type): why`. */
  keptOnDestroy: string[];
}

export function deployShape(template: { Resources: Record<string, CfnResource> }): DeployShape {
  const counts = new Map<string, number>();
  const keptOnDestroy: string[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    counts.set(resource.Type, (counts.get(resource.Type) ?? 0) + 1);
    const policy = resource.DeletionPolicy;
    if (policy !== undefined && policy !== 'Delete') keptOnDestroy.push(`${id} (${resource.Type}): ${policy}`);
    if (resource.Properties?.DeletionProtection === true) keptOnDestroy.push(`${id} (${resource.Type}): deletion protection`);
  }
  const byType = [...counts].sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  const slow = Object.entries(SLOW_TO_CREATE)
    .filter(([type]) => counts.has(type))
    .map(([type, typical]) => ({ type, count: counts.get(type)!, typical }));
  return { total: Object.keys(template.Resources).length, byType, slow, keptOnDestroy };
}
