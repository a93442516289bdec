import * as z from 'zod/mini';
import { pureSchema } from './pure-schema';

export const HUMAN_ROLES = ['student', 'teacher', 'admin'] as const;
export const SERVICES = ['ai-service', 'attendance-service', 'user-service', 'analytics-service'] as const;
export type Service = (typeof SERVICES)[number];

const identifier = /* @__PURE__ */ pureSchema(() =>
  z.string().check(z.minLength(1), z.maxLength(128), z.regex(/^[A-Za-z0-9._:@-]+$/, 'unexpected characters')),
);

/**
 * The one rule for a tenant (school) identifier: it becomes a storage key segment and a lock name,
 * so it is a plain name, never `.`, `..`, a path or empty. Case is kept as given.
 */
export const TENANT_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/i;
export const isTenantId = (value: string): boolean => TENANT_ID.test(value);

const isServiceName = (value: string) => (SERVICES as readonly string[]).includes(value);

/** The claims we accept from a verified token; anything else in the token is ignored. */
export const PrincipalClaims = /* @__PURE__ */ pureSchema(() => {
  const tenantId = z.string().check(z.regex(TENANT_ID, 'not a tenant identifier'));
  /** Humans and services share no names: a person's token can never pass for a service. */
  const humanSub = identifier.check(z.refine((sub) => !isServiceName(sub), 'a service name is not a person'));
  const classrooms = z._default(z.array(identifier).check(z.maxLength(200)), []);
  return z.discriminatedUnion('role', [
    z.object({ role: z.enum(HUMAN_ROLES), sub: humanSub, tenant: tenantId, classrooms }),
    z.object({ role: z.literal('service'), sub: z.enum(SERVICES), tenant: tenantId, classrooms }),
  ]);
});

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
