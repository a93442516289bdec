import { MediaError } from './errors';
import type { VariantName } from './media';
import { VARIANT_NAMES } from './media';
import { PURPOSES, type Purpose } from './purposes';
import { policySubjectOf, type PolicySubject, type Principal } from './principal';

/**
 * How a principal stands to an item of its own tenant. Items of another tenant have no relation:
 * they do not exist for the caller (404, never counted).
 */
export type Relation = 'self' | 'classroom' | 'tenant';

export interface ReadGrant {
  purposes: readonly Purpose[];
  relations: readonly Relation[];
  variants: readonly VariantName[];
}

export interface DeleteGrant {
  purposes: readonly Purpose[];
  relations: readonly Relation[];
}

export interface UploadGrant {
  purposes: readonly Purpose[];
  /** `self`: the subject is the caller; `any`: any subject of the tenant. */
  subject: 'self' | 'any';
  /** `own`: the classroom must be one of the caller's; `any`: any classroom of the tenant. */
  classroom: 'own' | 'any';
}

export interface Rules {
  upload: readonly UploadGrant[];
  read: readonly ReadGrant[];
  delete: readonly DeleteGrant[];
  legalHold: boolean;
  usage: boolean;
}

const ALL_PURPOSES = PURPOSES;
const ALL_VARIANTS = VARIANT_NAMES;
const EVERYWHERE: readonly Relation[] = ['self', 'classroom', 'tenant'];

/** The RBAC policy, one row per principal kind. Read it against the access-control issue's table. */
export const POLICY: Record<PolicySubject, Rules> = {
  student: {
    upload: [{ purposes: ['profile', 'general'], subject: 'self', classroom: 'own' }],
    read: [{ purposes: ALL_PURPOSES, relations: ['self'], variants: ALL_VARIANTS }],
    delete: [{ purposes: ['profile', 'general', 'training'], relations: ['self'] }],
    legalHold: false,
    usage: false,
  },
  teacher: {
    upload: [
      { purposes: ['profile', 'general'], subject: 'self', classroom: 'own' },
      { purposes: ['attendance'], subject: 'any', classroom: 'own' },
    ],
    read: [
      { purposes: ALL_PURPOSES, relations: ['self'], variants: ALL_VARIANTS },
      { purposes: ['attendance'], relations: ['classroom'], variants: ALL_VARIANTS },
      { purposes: ['profile'], relations: ['classroom', 'tenant'], variants: ['thumb', 'small', 'medium'] },
    ],
    delete: [{ purposes: ['profile', 'general', 'training'], relations: ['self'] }],
    legalHold: false,
    usage: false,
  },
  admin: {
    upload: [{ purposes: ALL_PURPOSES, subject: 'any', classroom: 'any' }],
    read: [{ purposes: ALL_PURPOSES, relations: EVERYWHERE, variants: ALL_VARIANTS }],
    delete: [{ purposes: ALL_PURPOSES, relations: EVERYWHERE }],
    legalHold: true,
    usage: true,
  },
  'ai-service': {
    upload: [{ purposes: ['training'], subject: 'any', classroom: 'any' }],
    read: [{ purposes: ['profile', 'attendance', 'training'], relations: EVERYWHERE, variants: ['ml'] }],
    delete: [],
    legalHold: false,
    usage: false,
  },
  'attendance-service': {
    upload: [{ purposes: ['attendance'], subject: 'any', classroom: 'any' }],
    read: [{ purposes: ['attendance'], relations: EVERYWHERE, variants: ALL_VARIANTS }],
    delete: [],
    legalHold: false,
    usage: false,
  },
  'user-service': {
    upload: [{ purposes: ['profile'], subject: 'any', classroom: 'any' }],
    read: [{ purposes: ['profile'], relations: EVERYWHERE, variants: ALL_VARIANTS }],
    delete: [{ purposes: ['profile'], relations: EVERYWHERE }],
    legalHold: false,
    usage: false,
  },
  'analytics-service': {
    upload: [],
    read: [],
    delete: [],
    legalHold: false,
    usage: true,
  },
};

export const rulesOf = (principal: Principal): Rules => POLICY[policySubjectOf(principal)];

/** What the policy needs to know about an item; the stored record always has these. */
export interface Subject {
  tenant: string;
  purpose: Purpose;
  subjectId: string | null;
  classroomId: string | null;
  uploadedBy: string;
  legalHold?: boolean;
}

export function relationsOf(principal: Principal, item: Subject): Relation[] | 'foreign' {
  if (item.tenant !== principal.tenant) return 'foreign';
  const relations: Relation[] = ['tenant'];
  if (item.subjectId === principal.sub || item.uploadedBy === principal.sub) relations.push('self');
  if (item.classroomId !== null && principal.classrooms.includes(item.classroomId)) relations.push('classroom');
  return relations;
}

const grantApplies = (grant: { purposes: readonly Purpose[]; relations: readonly Relation[] }, item: Subject, relations: Relation[]) =>
  grant.purposes.includes(item.purpose) && grant.relations.some((r) => relations.includes(r));

/** Variants the principal may download of this item; empty means the item is invisible to them. */
export function readableVariants(principal: Principal, item: Subject): Set<VariantName> {
  const relations = relationsOf(principal, item);
  const variants = new Set<VariantName>();
  if (relations === 'foreign') return variants;
  for (const grant of rulesOf(principal).read) {
    if (grantApplies(grant, item, relations)) grant.variants.forEach((v) => variants.add(v));
  }
  return variants;
}

export type Action =
  | { kind: 'read' }
  | { kind: 'download'; variant: VariantName }
  | { kind: 'delete' }
  | { kind: 'legal-hold' };

const notFound = () => new MediaError('NOT_FOUND', 'No such media.');

/**
 * The one decision point for actions on an existing item. Invisible items are 404 whatever the
 * action, so a refusal never confirms that an item exists.
 */
export function authorize(principal: Principal, action: Action, item: Subject): void {
  const variants = readableVariants(principal, item);
  if (variants.size === 0) throw notFound();
  const rules = rulesOf(principal);
  switch (action.kind) {
    case 'read':
      return;
    case 'download':
      if (!variants.has(action.variant)) {
        throw new MediaError('FORBIDDEN', `You may not download the ${action.variant} variant of this media.`);
      }
      return;
    case 'delete': {
      const relations = relationsOf(principal, item) as Relation[];
      if (!rules.delete.some((grant) => grantApplies(grant, item, relations))) {
        throw new MediaError('FORBIDDEN', 'You may not delete this media.');
      }
      if (item.legalHold) throw new MediaError('LEGAL_HOLD', 'This media is under legal hold and cannot be deleted.');
      return;
    }
    case 'legal-hold':
      if (!rules.legalHold) throw new MediaError('FORBIDDEN', 'Only an administrator may change a legal hold.');
      return;
  }
}

export interface UploadTarget {
  purpose: Purpose;
  subjectId: string;
  classroomId: string | null;
}

/** Upload requests are checked against the upload grants; refusals are 403 (nothing exists yet). */
export function authorizeUpload(principal: Principal, target: UploadTarget): void {
  const allowed = rulesOf(principal).upload.some(
    (grant) =>
      grant.purposes.includes(target.purpose) &&
      (grant.subject === 'any' || target.subjectId === principal.sub) &&
      (target.classroomId === null || grant.classroom === 'any' || principal.classrooms.includes(target.classroomId)),
  );
  if (!allowed) {
    throw new MediaError('FORBIDDEN', `You may not upload ${target.purpose} media for this subject or classroom.`);
  }
}

export function authorizeUsage(principal: Principal): void {
  if (!rulesOf(principal).usage) throw new MediaError('FORBIDDEN', 'You may not read usage figures.');
}

/** The read grants as data, for the repository to turn into a SQL predicate (lists stay full pages). */
export interface ReadScope {
  tenant: string;
  sub: string;
  classrooms: readonly string[];
  grants: readonly { purposes: readonly Purpose[]; relations: readonly Relation[] }[];
}

export function readScopeOf(principal: Principal): ReadScope {
  return {
    tenant: principal.tenant,
    sub: principal.sub,
    classrooms: principal.classrooms,
    grants: rulesOf(principal).read.map(({ purposes, relations }) => ({ purposes, relations })),
  };
}
