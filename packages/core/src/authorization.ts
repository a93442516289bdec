import { MediaError, notFound } from './errors';
import type { VariantName } from './media';
import { VARIANT_NAMES } from './media';
import { PURPOSES, type Purpose } from './purposes';
import { kindOf, policySubjectOf, uploaderKindOf, type PolicySubject, type Principal, type PrincipalKind } from './principal';

/**
 * How a principal stands to an item of its own tenant. Items of another tenant have no relation:
 * they do not exist for the caller (404 for every action, never counted in lists or usage).
 *
 * - `uploader`: the caller uploaded the item: same id and same kind (a person never matches what a
 *   service uploaded, whatever its `sub`).
 * - `self`: the item is about the caller (the caller's `sub` is among its `subjectIds`; people
 *   only, subjects are people) or the caller uploaded it.
 * - `alone`: the item is about the caller and nobody else (its only subject), or the caller uploaded
 *   it: what a person may delete for everyone. A shared photo is the other people's data too.
 * - `classroom`: the item's `classroomId` is one of the caller's `classrooms`.
 * - `tenant`: any item of the caller's school. A grant over `tenant` therefore covers every item
 *   of the school, whatever else the caller has to do with it.
 */
export type Relation = 'uploader' | 'self' | 'alone' | 'classroom' | 'tenant';

/** Reads are granted by who the item is about, never by who happened to upload it. */
export type ReadRelation = Exclude<Relation, 'uploader' | 'alone'>;

export interface ReadGrant {
  purposes: readonly Purpose[];
  relations: readonly ReadRelation[];
  variants: readonly VariantName[];
}

export interface DeleteGrant {
  purposes: readonly Purpose[];
  relations: readonly Relation[];
}

export interface UploadGrant {
  purposes: readonly Purpose[];
  /**
   * `none`: the caller may name no subject; `self`: every subject named is the caller; `any`: any
   * people of the tenant. Each subject of an item is checked on its own.
   */
  subject: 'none' | 'self' | 'any';
  /** `own`: a classroom, if named, must be one of the caller's; `any`: any classroom of the tenant. */
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
const NOT_ATTENDANCE: readonly Purpose[] = ['profile', 'general', 'training'];

/**
 * The RBAC policy, one row per principal kind, read against the access-control issue's table:
 *
 * | principal | upload | read | variants | delete | other |
 * |---|---|---|---|---|---|
 * | student | profile, general for self | self | all | self alone (own uploads, items naming only them), not attendance | |
 * | teacher | profile, general for self; attendance for own classrooms, naming no subject | self; attendance of own classrooms; profile in tenant | profiles of others: thumb, small, medium | own uploads, not attendance | |
 * | admin | everything in tenant | everything in tenant | all | everything in tenant not on legal hold | legal hold, usage |
 * | ai-service | training | profile, attendance, training | ml only | nothing | |
 * | attendance-service | attendance, any classroom | attendance | all | nothing | |
 * | user-service | profile, any subject | profile | all | profile (account erasure) | |
 * | analytics-service | nothing | nothing | | nothing | usage |
 *
 * A legal hold blocks every delete (423), whoever asks.
 */
export const POLICY: Record<PolicySubject, Rules> = {
  student: {
    upload: [{ purposes: ['profile', 'general'], subject: 'self', classroom: 'own' }],
    read: [{ purposes: ALL_PURPOSES, relations: ['self'], variants: ALL_VARIANTS }],
    // A class photo naming other children too is not the pupil's alone to delete: the school
    // removes it, or an erasure untags the pupil (docs/privacy.md).
    delete: [{ purposes: NOT_ATTENDANCE, relations: ['alone'] }],
    legalHold: false,
    usage: false,
  },
  teacher: {
    upload: [
      { purposes: ['profile', 'general'], subject: 'self', classroom: 'own' },
      // Tagging children on class photos is for the school (admins) and attendance-service only.
      { purposes: ['attendance'], subject: 'none', classroom: 'own' },
    ],
    read: [
      { purposes: ALL_PURPOSES, relations: ['self'], variants: ALL_VARIANTS },
      { purposes: ['attendance'], relations: ['classroom'], variants: ALL_VARIANTS },
      { purposes: ['profile'], relations: ['tenant'], variants: ['thumb', 'small', 'medium'] },
    ],
    // "Self uploads": what the teacher uploaded, not what others uploaded about them.
    delete: [{ purposes: NOT_ATTENDANCE, relations: ['uploader'] }],
    legalHold: false,
    usage: false,
  },
  admin: {
    upload: [{ purposes: ALL_PURPOSES, subject: 'any', classroom: 'any' }],
    read: [{ purposes: ALL_PURPOSES, relations: ['tenant'], variants: ALL_VARIANTS }],
    delete: [{ purposes: ALL_PURPOSES, relations: ['tenant'] }],
    legalHold: true,
    usage: true,
  },
  'ai-service': {
    upload: [{ purposes: ['training'], subject: 'any', classroom: 'any' }],
    read: [{ purposes: ['profile', 'attendance', 'training'], relations: ['tenant'], variants: ['ml'] }],
    delete: [],
    legalHold: false,
    usage: false,
  },
  'attendance-service': {
    upload: [{ purposes: ['attendance'], subject: 'any', classroom: 'any' }],
    read: [{ purposes: ['attendance'], relations: ['tenant'], variants: ALL_VARIANTS }],
    delete: [],
    legalHold: false,
    usage: false,
  },
  'user-service': {
    upload: [{ purposes: ['profile'], subject: 'any', classroom: 'any' }],
    read: [{ purposes: ['profile'], relations: ['tenant'], variants: ALL_VARIANTS }],
    delete: [{ purposes: ['profile'], relations: ['tenant'] }],
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
  /** The people the item names (none: nobody). */
  subjectIds: readonly string[];
  classroomId: string | null;
  uploadedBy: string;
  legalHold?: boolean;
}

/** Every relation that holds between the principal and an item, or `foreign` for another school's. */
export function relationsOf(principal: Principal, item: Subject): Relation[] | 'foreign' {
  if (item.tenant !== principal.tenant) return 'foreign';
  const relations: Relation[] = ['tenant'];
  const kind: PrincipalKind = kindOf(principal);
  if (item.uploadedBy === principal.sub && uploaderKindOf(item.uploadedBy) === kind) relations.push('uploader', 'self', 'alone');
  else if (kind === 'human' && item.subjectIds.includes(principal.sub)) {
    relations.push('self');
    if (item.subjectIds.every((id) => id === principal.sub)) relations.push('alone');
  }
  if (item.classroomId !== null && principal.classrooms.includes(item.classroomId)) relations.push('classroom');
  return relations;
}

const grantApplies = (
  grant: { purposes: readonly Purpose[]; relations: readonly Relation[] },
  item: Subject,
  relations: readonly Relation[],
) => grant.purposes.includes(item.purpose) && grant.relations.some((r) => relations.includes(r));

const variantsFor = (rules: Rules, item: Subject, relations: readonly Relation[]): Set<VariantName> => {
  const variants = new Set<VariantName>();
  for (const grant of rules.read) {
    if (!grantApplies(grant, item, relations)) continue;
    for (const v of grant.variants) variants.add(v);
  }
  return variants;
};

export type Action = { kind: 'read' } | { kind: 'download'; variant: VariantName } | { kind: 'delete' } | { kind: 'legal-hold' };

/**
 * The one decision point for actions on an existing item. Items the caller may not read are 404
 * whatever the action (another school's above all), so a refusal never confirms that an item
 * exists; readable items the caller may not act on are 403; a legal hold comes last (423), so it
 * is only revealed to someone who could otherwise delete.
 */
export function authorize(principal: Principal, action: Action, item: Subject): void {
  const relations = relationsOf(principal, item);
  if (relations === 'foreign') throw notFound('media');
  const rules = rulesOf(principal);
  const variants = variantsFor(rules, item, relations);
  if (variants.size === 0) throw notFound('media');
  switch (action.kind) {
    case 'read':
      return;
    case 'download':
      if (!variants.has(action.variant)) {
        throw new MediaError('FORBIDDEN', `You may not download the ${action.variant} variant of this media.`);
      }
      return;
    case 'delete':
      if (!rules.delete.some((grant) => grantApplies(grant, item, relations))) {
        if (rules.delete.some((grant) => grant.relations.includes('alone') && grant.purposes.includes(item.purpose))) {
          throw new MediaError(
            'FORBIDDEN',
            "This media names other people too: only the school's administrators may delete it (an erasure removes you from it).",
          );
        }
        throw new MediaError('FORBIDDEN', 'You may not delete this media.');
      }
      if (item.legalHold) throw new MediaError('LEGAL_HOLD', 'This media is under legal hold and cannot be deleted.');
      return;
    case 'legal-hold':
      if (!rules.legalHold) throw new MediaError('FORBIDDEN', 'Only an administrator may change a legal hold.');
      return;
  }
}

export interface UploadTarget {
  purpose: Purpose;
  /** The people the request names (none: the item is about nobody). */
  subjectIds: readonly string[];
  classroomId: string | null;
}

/** Whoever may tag one of the people may tag them all only if the grant allows each of them. */
const subjectsAllowed = (grant: UploadGrant, principal: Principal, subjectIds: readonly string[]) =>
  subjectIds.every((id) => grant.subject === 'any' || (grant.subject === 'self' && id === principal.sub));

/** Who the policy lets name any subject on uploads of a purpose, for the refusal to say so. */
export const subjectTaggersOf = (purpose: Purpose): PolicySubject[] =>
  (Object.keys(POLICY) as PolicySubject[]).filter((who) =>
    POLICY[who].upload.some((grant) => grant.purposes.includes(purpose) && grant.subject === 'any'),
  );

/** Upload requests are checked against the upload grants; refusals are 403 (nothing exists yet). */
export function authorizeUpload(principal: Principal, target: UploadTarget): void {
  const grants = rulesOf(principal).upload.filter(
    (grant) =>
      grant.purposes.includes(target.purpose) &&
      (target.classroomId === null || grant.classroom === 'any' || principal.classrooms.includes(target.classroomId)),
  );
  if (grants.some((grant) => subjectsAllowed(grant, principal, target.subjectIds))) return;
  if (grants.length > 0) {
    // The caller may upload here, only not about someone else: say who may.
    const taggers = subjectTaggersOf(target.purpose).map((who) => (who === 'admin' ? 'administrators' : who));
    throw new MediaError(
      'FORBIDDEN',
      `You may not name a subject on ${target.purpose} uploads; only ${taggers.join(' and ')} may tag subjects on ${target.purpose} media.`,
    );
  }
  throw uploadRefusal(principal, target);
}

/** Who may upload media of a purpose at all, for a refusal that names the real reason. */
export const uploadersOf = (purpose: Purpose): PolicySubject[] =>
  (Object.keys(POLICY) as PolicySubject[]).filter((who) => POLICY[who].upload.some((grant) => grant.purposes.includes(purpose)));

/** The refusal says why: the caller's role never uploads this purpose, or the classroom is not theirs. */
function uploadRefusal(principal: Principal, target: UploadTarget): MediaError {
  const role = policySubjectOf(principal);
  if (!rulesOf(principal).upload.some((grant) => grant.purposes.includes(target.purpose))) {
    const who = uploadersOf(target.purpose).map((w) =>
      w === 'admin' ? 'administrators' : w === 'student' || w === 'teacher' ? `${w}s` : w,
    );
    return new MediaError('FORBIDDEN', `A ${role} may not upload ${target.purpose} media: only ${who.join(', ')} may.`);
  }
  return new MediaError(
    'FORBIDDEN',
    `You may not upload ${target.purpose} media for classroom ${target.classroomId}: it is not one of your classrooms.`,
  );
}

/**
 * Usage figures: for those the policy allows. Services get counts only: grouped per subject the
 * figures would list the school's children by id (`COUNTS_ONLY`).
 */
export function authorizeUsage(principal: Principal, groupBy: 'purpose' | 'subject' = 'purpose'): void {
  if (!rulesOf(principal).usage) throw new MediaError('FORBIDDEN', 'You may not read usage figures.');
  if (groupBy === 'subject' && principal.role === 'service') {
    throw new MediaError(
      'COUNTS_ONLY',
      "Services get counts only: usage per subject is for the school's administrators; ask with groupBy=purpose.",
    );
  }
}

/** The read grants as data, for the repository to turn into a SQL predicate (lists stay full pages). */
export interface ReadScope {
  tenant: string;
  sub: string;
  kind: PrincipalKind;
  classrooms: readonly string[];
  grants: readonly { purposes: readonly Purpose[]; relations: readonly ReadRelation[] }[];
}

export function readScopeOf(principal: Principal): ReadScope {
  return {
    tenant: principal.tenant,
    sub: principal.sub,
    kind: kindOf(principal),
    classrooms: principal.classrooms,
    grants: rulesOf(principal).read.map(({ purposes, relations }) => ({ purposes, relations })),
  };
}
