// A namespace import lets esbuild drop what is unused (zod's locales alone are 370 KB).
import * as z from 'zod';

export const HUMAN_ROLES = ['student', 'teacher', 'admin'] as const;
export const SERVICES = ['ai-service', 'attendance-service', 'user-service', 'analytics-service'] as const;
export type Service = (typeof SERVICES)[number];

const identifier = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:@-]+$/, 'unexpected characters');

/**
 * The one rule for a tenant (school) identifier: it becomes a storage key segment and a lock name,
 * so it is a plain name, never `.`, `..`, a path or empty. Case is kept as given.
 */
export const TENANT_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/i;
export const isTenantId = (value: string): boolean => TENANT_ID.test(value);
const tenantId = z.string().regex(TENANT_ID, 'not a tenant identifier');

const isServiceName = (value: string) => (SERVICES as readonly string[]).includes(value);

/** Humans and services share no names: a person's token can never pass for a service. */
const humanSub = identifier.refine((sub) => !isServiceName(sub), 'a service name is not a person');

/** The claims we accept from a verified token; anything else in the token is ignored. */
export const PrincipalClaims = z.discriminatedUnion('role', [
  z.object({
    role: z.enum(HUMAN_ROLES),
    sub: humanSub,
    tenant: tenantId,
    classrooms: z.array(identifier).max(200).default([]),
  }),
  z.object({
    role: z.literal('service'),
    sub: z.enum(SERVICES),
    tenant: tenantId,
    classrooms: z.array(identifier).max(200).default([]),
  }),
]);

export type Principal = z.infer<typeof PrincipalClaims>;

/** Who a principal is for the policy: its role, or for services the service's name. */
export type PolicySubject = (typeof HUMAN_ROLES)[number] | Service;

export const policySubjectOf = (principal: Principal): PolicySubject => (principal.role === 'service' ? principal.sub : principal.role);

/** Humans act for themselves; services act for the platform. Relations never cross the two. */
export type PrincipalKind = 'human' | 'service';

export const kindOf = (principal: Principal): PrincipalKind => (principal.role === 'service' ? 'service' : 'human');

/**
 * Who stored an item, by its `uploadedBy`: a service's name means the service, since no person's
 * token may carry one (see `humanSub`).
 */
export const uploaderKindOf = (uploadedBy: string): PrincipalKind => (isServiceName(uploadedBy) ? 'service' : 'human');
