// A namespace import lets esbuild drop what is unused (zod's locales alone are 370 KB).
import * as z from 'zod';

export const HUMAN_ROLES = ['student', 'teacher', 'admin'] as const;
export const SERVICES = ['ai-service', 'attendance-service', 'user-service', 'analytics-service'] as const;
export type Service = (typeof SERVICES)[number];

const identifier = z.string().min(1).max(128).regex(/^[A-Za-z0-9._:@-]+$/, 'unexpected characters');

/** The claims we accept from a verified token; anything else in the token is ignored. */
export const PrincipalClaims = z.discriminatedUnion('role', [
  z.object({
    role: z.enum(HUMAN_ROLES),
    sub: identifier,
    tenant: identifier,
    classrooms: z.array(identifier).max(200).default([]),
  }),
  z.object({
    role: z.literal('service'),
    sub: z.enum(SERVICES),
    tenant: identifier,
    classrooms: z.array(identifier).max(200).default([]),
  }),
]);

export type Principal = z.infer<typeof PrincipalClaims>;

/** Who a principal is for the policy: its role, or for services the service's name. */
export type PolicySubject = (typeof HUMAN_ROLES)[number] | Service;

export const policySubjectOf = (principal: Principal): PolicySubject =>
  principal.role === 'service' ? principal.sub : principal.role;
