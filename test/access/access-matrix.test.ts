import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownloadAnswer, ListAnswer, MediaRecord, UsageAnswer } from '@media/core';
import type { MediaRow } from '@media/db';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';
import { inParallel } from '../support/in-parallel';
import { seedReadyMediaByPurpose, type SeedItem } from './seeded-media';

/**
 * The access-control matrix, cell by cell, through the real HTTP server, the real database and
 * real processed items. The expected answers below are written by hand from the issue's policy
 * table; they are never derived from the implementation's POLICY.
 *
 * Relations (columns), each item seen from the caller:
 * - own: the caller uploaded it (about someone else)       } both are `self`
 * - abt: it is about the caller (uploaded by someone else) }
 * - cls: in one of the caller's classrooms (room-1), neither of the above
 * - ten: same school, none of the above
 * - for: another school, although uploaded by and about the caller's `sub`, in a `room-1` there
 * Every principal carries classroom room-1, services too, so every relation exists for each.
 *
 * Rows: `get` (record), `list` (in the caller's `GET /v1/media?purpose=…`: `in` or `--`), one row
 * per download variant, `legal-hold` (`PUT … {hold:false}`), `delete-held` (delete while every
 * item is on legal hold), `delete`. Variants each purpose has: profile original thumb small medium
 * ml; attendance all six; training original thumb ml; general original thumb small medium large.
 */
const EXPECTED = `
student      | profile             | attendance          | training            | general
get          | 200 200 404 404 404 | 200 200 404 404 404 | 200 200 404 404 404 | 200 200 404 404 404
list         | in  in  --  --  --  | in  in  --  --  --  | in  in  --  --  --  | in  in  --  --  --
original     | 200 200 404 404 404 | 200 200 404 404 404 | 200 200 404 404 404 | 200 200 404 404 404
thumb        | 200 200 404 404 404 | 200 200 404 404 404 | 200 200 404 404 404 | 200 200 404 404 404
small        | 200 200 404 404 404 | 200 200 404 404 404 | 404 404 404 404 404 | 200 200 404 404 404
medium       | 200 200 404 404 404 | 200 200 404 404 404 | 404 404 404 404 404 | 200 200 404 404 404
large        | 404 404 404 404 404 | 200 200 404 404 404 | 404 404 404 404 404 | 200 200 404 404 404
ml           | 200 200 404 404 404 | 200 200 404 404 404 | 200 200 404 404 404 | 404 404 404 404 404
legal-hold   | 403 403 404 404 404 | 403 403 404 404 404 | 403 403 404 404 404 | 403 403 404 404 404
delete-held  | 423 423 404 404 404 | 403 403 404 404 404 | 423 423 404 404 404 | 423 423 404 404 404
delete       | 204 204 404 404 404 | 403 403 404 404 404 | 204 204 404 404 404 | 204 204 404 404 404

teacher      | profile             | attendance          | training            | general
get          | 200 200 200 200 404 | 200 200 200 404 404 | 200 200 404 404 404 | 200 200 404 404 404
list         | in  in  in  in  --  | in  in  in  --  --  | in  in  --  --  --  | in  in  --  --  --
original     | 200 200 403 403 404 | 200 200 200 404 404 | 200 200 404 404 404 | 200 200 404 404 404
thumb        | 200 200 200 200 404 | 200 200 200 404 404 | 200 200 404 404 404 | 200 200 404 404 404
small        | 200 200 200 200 404 | 200 200 200 404 404 | 404 404 404 404 404 | 200 200 404 404 404
medium       | 200 200 200 200 404 | 200 200 200 404 404 | 404 404 404 404 404 | 200 200 404 404 404
large        | 404 404 403 403 404 | 200 200 200 404 404 | 404 404 404 404 404 | 200 200 404 404 404
ml           | 200 200 403 403 404 | 200 200 200 404 404 | 200 200 404 404 404 | 404 404 404 404 404
legal-hold   | 403 403 403 403 404 | 403 403 403 404 404 | 403 403 404 404 404 | 403 403 404 404 404
delete-held  | 423 403 403 403 404 | 403 403 403 404 404 | 423 403 404 404 404 | 423 403 404 404 404
delete       | 204 403 403 403 404 | 403 403 403 404 404 | 204 403 404 404 404 | 204 403 404 404 404

admin        | profile             | attendance          | training            | general
get          | 200 200 200 200 404 | 200 200 200 200 404 | 200 200 200 200 404 | 200 200 200 200 404
list         | in  in  in  in  --  | in  in  in  in  --  | in  in  in  in  --  | in  in  in  in  --
original     | 200 200 200 200 404 | 200 200 200 200 404 | 200 200 200 200 404 | 200 200 200 200 404
thumb        | 200 200 200 200 404 | 200 200 200 200 404 | 200 200 200 200 404 | 200 200 200 200 404
small        | 200 200 200 200 404 | 200 200 200 200 404 | 404 404 404 404 404 | 200 200 200 200 404
medium       | 200 200 200 200 404 | 200 200 200 200 404 | 404 404 404 404 404 | 200 200 200 200 404
large        | 404 404 404 404 404 | 200 200 200 200 404 | 404 404 404 404 404 | 200 200 200 200 404
ml           | 200 200 200 200 404 | 200 200 200 200 404 | 200 200 200 200 404 | 404 404 404 404 404
legal-hold   | 200 200 200 200 404 | 200 200 200 200 404 | 200 200 200 200 404 | 200 200 200 200 404
delete-held  | 423 423 423 423 404 | 423 423 423 423 404 | 423 423 423 423 404 | 423 423 423 423 404
delete       | 204 204 204 204 404 | 204 204 204 204 404 | 204 204 204 204 404 | 204 204 204 204 404

ai-service   | profile             | attendance          | training            | general
get          | 200 200 200 200 404 | 200 200 200 200 404 | 200 200 200 200 404 | 404 404 404 404 404
list         | in  in  in  in  --  | in  in  in  in  --  | in  in  in  in  --  | --  --  --  --  --
original     | 403 403 403 403 404 | 403 403 403 403 404 | 403 403 403 403 404 | 404 404 404 404 404
thumb        | 403 403 403 403 404 | 403 403 403 403 404 | 403 403 403 403 404 | 404 404 404 404 404
small        | 403 403 403 403 404 | 403 403 403 403 404 | 403 403 403 403 404 | 404 404 404 404 404
medium       | 403 403 403 403 404 | 403 403 403 403 404 | 403 403 403 403 404 | 404 404 404 404 404
large        | 403 403 403 403 404 | 403 403 403 403 404 | 403 403 403 403 404 | 404 404 404 404 404
ml           | 200 200 200 200 404 | 200 200 200 200 404 | 200 200 200 200 404 | 404 404 404 404 404
legal-hold   | 403 403 403 403 404 | 403 403 403 403 404 | 403 403 403 403 404 | 404 404 404 404 404
delete-held  | 403 403 403 403 404 | 403 403 403 403 404 | 403 403 403 403 404 | 404 404 404 404 404
delete       | 403 403 403 403 404 | 403 403 403 403 404 | 403 403 403 403 404 | 404 404 404 404 404

attendance-service | profile       | attendance          | training            | general
get          | 404 404 404 404 404 | 200 200 200 200 404 | 404 404 404 404 404 | 404 404 404 404 404
list         | --  --  --  --  --  | in  in  in  in  --  | --  --  --  --  --  | --  --  --  --  --
original     | 404 404 404 404 404 | 200 200 200 200 404 | 404 404 404 404 404 | 404 404 404 404 404
thumb        | 404 404 404 404 404 | 200 200 200 200 404 | 404 404 404 404 404 | 404 404 404 404 404
small        | 404 404 404 404 404 | 200 200 200 200 404 | 404 404 404 404 404 | 404 404 404 404 404
medium       | 404 404 404 404 404 | 200 200 200 200 404 | 404 404 404 404 404 | 404 404 404 404 404
large        | 404 404 404 404 404 | 200 200 200 200 404 | 404 404 404 404 404 | 404 404 404 404 404
ml           | 404 404 404 404 404 | 200 200 200 200 404 | 404 404 404 404 404 | 404 404 404 404 404
legal-hold   | 404 404 404 404 404 | 403 403 403 403 404 | 404 404 404 404 404 | 404 404 404 404 404
delete-held  | 404 404 404 404 404 | 403 403 403 403 404 | 404 404 404 404 404 | 404 404 404 404 404
delete       | 404 404 404 404 404 | 403 403 403 403 404 | 404 404 404 404 404 | 404 404 404 404 404

user-service | profile             | attendance          | training            | general
get          | 200 200 200 200 404 | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404
list         | in  in  in  in  --  | --  --  --  --  --  | --  --  --  --  --  | --  --  --  --  --
original     | 200 200 200 200 404 | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404
thumb        | 200 200 200 200 404 | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404
small        | 200 200 200 200 404 | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404
medium       | 200 200 200 200 404 | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404
large        | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404
ml           | 200 200 200 200 404 | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404
legal-hold   | 403 403 403 403 404 | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404
delete-held  | 423 423 423 423 404 | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404
delete       | 204 204 204 204 404 | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404

analytics-service | profile        | attendance          | training            | general
get          | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404
list         | --  --  --  --  --  | --  --  --  --  --  | --  --  --  --  --  | --  --  --  --  --
original     | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404
thumb        | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404
small        | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404
medium       | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404
large        | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404
ml           | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404
legal-hold   | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404
delete-held  | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404
delete       | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404 | 404 404 404 404 404
`;

/**
 * Uploads (`POST /v1/uploads`), by target: slf = for the caller (attendance: in the caller's
 * room-1), cls = for pupil-7 in room-1, ten = for pupil-7 (attendance: in room-9, not the
 * caller's). Another school cannot be named: the token's tenant decides where an upload lands.
 * A teacher may photograph their own classroom but names no subject on it: tagging children on
 * attendance photos is for admins and attendance-service only.
 */
const EXPECTED_UPLOADS = `
                   | profile     | attendance  | training    | general
student            | 201 403 403 | 403 403 403 | 403 403 403 | 201 403 403
teacher            | 201 403 403 | 201 403 403 | 403 403 403 | 201 403 403
admin              | 201 201 201 | 201 201 201 | 201 201 201 | 201 201 201
ai-service         | 403 403 403 | 403 403 403 | 201 201 201 | 403 403 403
attendance-service | 403 403 403 | 201 201 201 | 403 403 403 | 403 403 403
user-service       | 201 201 201 | 403 403 403 | 403 403 403 | 403 403 403
analytics-service  | 403 403 403 | 403 403 403 | 403 403 403 | 403 403 403
`;

/** `GET /v1/usage` (figures of the caller's school only). */
const EXPECTED_USAGE = `
student 403 | teacher 403 | admin 200 | ai-service 403 | attendance-service 403 | user-service 403 | analytics-service 200
`;

const KINDS = ['student', 'teacher', 'admin', 'ai-service', 'attendance-service', 'user-service', 'analytics-service'] as const;
const PURPOSES = ['profile', 'attendance', 'training', 'general'] as const;
const RELATIONS = ['own', 'abt', 'cls', 'ten', 'for'] as const;
const VARIANTS = ['original', 'thumb', 'small', 'medium', 'large', 'ml'] as const;
const ROWS = ['get', 'list', ...VARIANTS, 'legal-hold', 'delete-held', 'delete'] as const;
const TARGETS = ['slf', 'cls', 'ten'] as const;

type Kind = (typeof KINDS)[number];
type Purpose = (typeof PURPOSES)[number];
type Relation = (typeof RELATIONS)[number];
type Row = (typeof ROWS)[number];
/** purpose → relation (or upload target) → expected answer */
type Cells = Record<string, Record<string, string>>;

function parseMatrix(text: string): Record<Kind, Record<Row, Cells>> {
  const table = {} as Record<Kind, Record<Row, Cells>>;
  let kind: Kind | undefined;
  for (const line of text.split('\n').filter((l) => l.trim())) {
    const [label, ...groups] = line.split('|').map((part) => part.trim());
    if ((KINDS as readonly string[]).includes(label!)) {
      kind = label as Kind;
      table[kind] = {} as Record<Row, Cells>;
      continue;
    }
    table[kind!][label as Row] = Object.fromEntries(
      PURPOSES.map((purpose, i) => {
        const answers = groups[i]!.split(/\s+/);
        return [purpose, Object.fromEntries(RELATIONS.map((relation, j) => [relation, answers[j]!]))];
      }),
    );
  }
  return table;
}

function parseUploads(text: string): Record<Kind, Cells> {
  const table = {} as Record<Kind, Cells>;
  for (const line of text
    .split('\n')
    .filter((l) => l.trim())
    .slice(1)) {
    const [label, ...groups] = line.split('|').map((part) => part.trim());
    table[label as Kind] = Object.fromEntries(
      PURPOSES.map((purpose, i) => {
        const answers = groups[i]!.split(/\s+/);
        return [purpose, Object.fromEntries(TARGETS.map((target, j) => [target, answers[j]!]))];
      }),
    );
  }
  return table;
}

const MATRIX = parseMatrix(EXPECTED);
const UPLOADS = parseUploads(EXPECTED_UPLOADS);
const USAGE = Object.fromEntries(
  EXPECTED_USAGE.trim()
    .split('|')
    .map((cell) => cell.trim().split(' ')),
) as Record<Kind, string>;

const SUBS: Record<Kind, string> = {
  student: 'student-1',
  teacher: 'teacher-1',
  admin: 'admin-1',
  'ai-service': 'ai-service',
  'attendance-service': 'attendance-service',
  'user-service': 'user-service',
  'analytics-service': 'analytics-service',
};
const roleOf = (kind: Kind): 'student' | 'teacher' | 'admin' | 'service' =>
  kind === 'student' || kind === 'teacher' || kind === 'admin' ? kind : 'service';
const OWN_ROOM = 'room-1';
const OTHER_ROOM = 'room-9';
const SOMEONE = 'pupil-7';
const SOMEONE_UPLOADING = 'admin-2';

describe('the access matrix', () => {
  let stack: TestStack;
  const school = uniqueTenant('school');
  const otherSchool = uniqueTenant('other-school');
  const uploadSchool = uniqueTenant('upload-school');
  const tokens = {} as Record<Kind, { school: string; uploadSchool: string }>;
  /** The item behind each cell: kind → purpose → relation. */
  const items = {} as Record<Kind, Record<Purpose, Record<Relation, MediaRow>>>;
  /** Fresh copies of the items whose delete is expected to succeed (204), so the others stay. */
  const doomed = new Map<string, MediaRow>();
  let seededInSchool: MediaRow[] = [];
  let checkedCells = 0;

  const cellKey = (kind: Kind, purpose: Purpose, relation: Relation) => `${kind}/${purpose}/${relation}`;

  function seedFor(kind: Kind, purpose: Purpose, relation: Relation): SeedItem {
    const sub = SUBS[kind];
    const room = purpose === 'attendance' ? OTHER_ROOM : null;
    switch (relation) {
      case 'own':
        return { tenant: school, purpose, subjectId: SOMEONE, classroomId: room, uploadedBy: sub, filename: 'class photo.jpg' };
      case 'abt':
        return { tenant: school, purpose, subjectId: sub, classroomId: room, uploadedBy: SOMEONE_UPLOADING };
      case 'cls':
        return { tenant: school, purpose, subjectId: SOMEONE, classroomId: OWN_ROOM, uploadedBy: SOMEONE_UPLOADING };
      case 'ten':
        return { tenant: school, purpose, subjectId: SOMEONE, classroomId: room, uploadedBy: SOMEONE_UPLOADING };
      case 'for':
        return { tenant: otherSchool, purpose, subjectId: sub, classroomId: OWN_ROOM, uploadedBy: sub };
    }
  }

  beforeAll(async () => {
    stack = await startTestStack();
    for (const kind of KINDS) {
      const claims = { role: roleOf(kind), sub: SUBS[kind], classrooms: [OWN_ROOM] };
      tokens[kind] = {
        school: await stack.token({ ...claims, tenant: school }),
        uploadSchool: await stack.token({ ...claims, tenant: uploadSchool }),
      };
    }

    // One item per cell that has its own (own, abt, for); cls and ten items are the same for all.
    const shared = new Map<string, SeedItem>();
    const plan: { key: string; seed: SeedItem }[] = [];
    for (const kind of KINDS) {
      for (const purpose of PURPOSES) {
        for (const relation of RELATIONS) {
          const seed = seedFor(kind, purpose, relation);
          const sharedKey = relation === 'cls' || relation === 'ten' ? `${purpose}/${relation}` : cellKey(kind, purpose, relation);
          if (!shared.has(sharedKey)) {
            shared.set(sharedKey, seed);
            plan.push({ key: sharedKey, seed });
          }
          if (MATRIX[kind].delete[purpose]![relation] === '204') plan.push({ key: `doomed:${cellKey(kind, purpose, relation)}`, seed });
        }
      }
    }
    const photo = await makePhoto({ width: 64, height: 48 });
    const rows = await seedReadyMediaByPurpose(
      stack,
      plan.map((p) => p.seed),
      photo,
    );
    // The matrix is about roles: everyone here consented to recognition and training, so consent
    // (test/rights) masks no cell.
    const people = new Map(plan.map(({ seed }) => [`${seed.tenant}/${seed.subjectId}`, seed]));
    await stack.deps.db
      .insertInto('subjectConsent')
      .values(
        [...people.values()].map((seed) => ({
          tenant: seed.tenant,
          subjectId: seed.subjectId,
          recognition: true,
          training: true,
          updatedBy: 'test',
        })),
      )
      .onConflict((oc) => oc.doNothing())
      .execute();
    const byKey = new Map(plan.map((p, i) => [p.key, rows[i]!]));
    for (const kind of KINDS) {
      items[kind] = {} as Record<Purpose, Record<Relation, MediaRow>>;
      for (const purpose of PURPOSES) {
        items[kind][purpose] = {} as Record<Relation, MediaRow>;
        for (const relation of RELATIONS) {
          const sharedKey = relation === 'cls' || relation === 'ten' ? `${purpose}/${relation}` : cellKey(kind, purpose, relation);
          items[kind][purpose][relation] = byKey.get(sharedKey)!;
          const fresh = byKey.get(`doomed:${cellKey(kind, purpose, relation)}`);
          if (fresh) doomed.set(cellKey(kind, purpose, relation), fresh);
        }
      }
    }
    seededInSchool = rows.filter((row) => row.tenant === school);
  }, 120_000);
  afterAll(() => stack?.close());

  /** Asks every cell of one row of one principal's table and compares the whole row at once. */
  async function checkRow(kind: Kind, row: Row, ask: (item: MediaRow, purpose: Purpose, relation: Relation) => Promise<string>) {
    const actual: Cells = {};
    const cells = PURPOSES.flatMap((purpose) => RELATIONS.map((relation) => ({ purpose, relation })));
    const answers = await inParallel(cells, 6, ({ purpose, relation }) => ask(items[kind][purpose][relation], purpose, relation));
    cells.forEach(({ purpose, relation }, i) => ((actual[purpose] ??= {})[relation] = answers[i]!));
    expect(actual, `${kind} / ${row}`).toEqual(MATRIX[kind][row]);
    checkedCells += cells.length;
  }

  /**
   * Foreign items are asked for with the caller's own school's token, of course: the other school
   * has items of the same `sub`, in a room of the same name, and they must still not exist.
   */
  const callerToken = (kind: Kind) => tokens[kind].school;

  describe.each(KINDS)('%s', (kind) => {
    it('reads exactly the records the policy lets it see', async () => {
      await checkRow(kind, 'get', async (item) =>
        String((await stack.api('GET', `/v1/media/${item.id}`, { token: callerToken(kind) })).status),
      );
    });

    it('lists exactly those records, filter by filter', async () => {
      const listed = new Set<string>();
      for (const purpose of PURPOSES) {
        let cursor: string | undefined;
        do {
          const page = await stack.api<ListAnswer>('GET', `/v1/media?purpose=${purpose}&limit=100${cursor ? `&cursor=${cursor}` : ''}`, {
            token: callerToken(kind),
          });
          expect(page.status).toBe(200);
          for (const record of page.json.items) {
            expect(record.purpose).toBe(purpose);
            listed.add(record.id);
          }
          cursor = page.json.nextCursor ?? undefined;
        } while (cursor);
      }
      await checkRow(kind, 'list', async (item) => (listed.has(item.id) ? 'in' : '--'));
    });

    it.each(VARIANTS)('downloads the %s variant exactly where allowed, and the URL serves it', async (variant) => {
      await checkRow(kind, variant, async (item) => {
        const answer = await stack.api<DownloadAnswer>('GET', `/v1/media/${item.id}/download?variant=${variant}`, {
          token: callerToken(kind),
        });
        if (answer.status === 200) {
          const served = await fetch(answer.json.url);
          const stored = item.variants.find((v) => v.name === variant)!;
          if (served.status !== 200 || served.headers.get('content-type') !== stored.contentType) return `url-${served.status}`;
          await served.arrayBuffer();
        }
        return String(answer.status);
      });
    });

    it('changes a legal hold only as an administrator', async () => {
      await checkRow(kind, 'legal-hold', async (item) => {
        const answer = await stack.api<MediaRecord>('PUT', `/v1/media/${item.id}/legal-hold`, {
          token: callerToken(kind),
          body: { hold: false },
        });
        if (answer.status === 200 && answer.json.legalHold !== false) return 'hold-not-applied';
        return String(answer.status);
      });
    });

    it('reads usage figures only as admin or analytics service, and only of its own school', async () => {
      const answer = await stack.api<UsageAnswer>('GET', '/v1/usage?groupBy=purpose', { token: callerToken(kind) });
      expect(String(answer.status)).toBe(USAGE[kind]);
      checkedCells += 1;
      if (answer.status !== 200) return;
      // Everything seeded in the school is counted, nothing of the other school is.
      const expected = PURPOSES.map((purpose) => {
        const rows = seededInSchool.filter((row) => row.purpose === purpose);
        return { key: purpose, count: rows.length, bytes: rows.reduce((sum, row) => sum + row.size!, 0) };
      }).sort((a, b) => a.key.localeCompare(b.key));
      expect(answer.json.items).toEqual(expected);
    });
  });

  describe('with every item on legal hold', () => {
    beforeAll(async () => {
      for (const row of [...seededInSchool, ...Object.values(items).flatMap((p) => Object.values(p).map((r) => r.for))]) {
        await stack.deps.media.setLegalHold(row.tenant, row.id, true);
      }
    });
    afterAll(async () => {
      for (const row of [...seededInSchool, ...Object.values(items).flatMap((p) => Object.values(p).map((r) => r.for))]) {
        await stack.deps.media.setLegalHold(row.tenant, row.id, false);
      }
    });

    it.each(KINDS)('%s: a delete it may do is refused with 423, nothing else changes', async (kind) => {
      await checkRow(kind, 'delete-held', async (item) =>
        String((await stack.api('DELETE', `/v1/media/${item.id}`, { token: callerToken(kind) })).status),
      );
    });
  });

  describe('deletes', () => {
    it.each(KINDS)('%s deletes exactly what the policy lets it delete', async (kind) => {
      await checkRow(kind, 'delete', async (item, purpose, relation) => {
        // A delete expected to succeed gets a copy of its own, so shared items stay for the others.
        const target = doomed.get(cellKey(kind, purpose, relation)) ?? item;
        const answer = await stack.api('DELETE', `/v1/media/${target.id}`, { token: callerToken(kind) });
        if (answer.status === 204 && (await stack.deps.media.findById(target.id))?.status !== 'deleted') return 'not-deleted';
        return String(answer.status);
      });
    });
  });

  describe('uploads', () => {
    it.each(KINDS)('%s may ask for exactly the uploads the policy grants', async (kind) => {
      const actual: Cells = {};
      for (const purpose of PURPOSES) {
        for (const target of TARGETS) {
          const body = {
            purpose,
            contentType: 'image/jpeg',
            size: 1000,
            ...(target === 'slf' ? {} : { subjectId: SOMEONE }),
            ...(target === 'cls' || (purpose === 'attendance' && target === 'slf') ? { classroomId: OWN_ROOM } : {}),
            ...(target === 'ten' && purpose === 'attendance' ? { classroomId: OTHER_ROOM } : {}),
          };
          const answer = await stack.api('POST', '/v1/uploads', { token: tokens[kind].uploadSchool, body });
          (actual[purpose] ??= {})[target] = String(answer.status);
          checkedCells += 1;
        }
      }
      expect(actual, `${kind} / upload`).toEqual(UPLOADS[kind]);
    });
  });

  it('checked every cell of the tables', () => {
    const cells = KINDS.length * (ROWS.length * PURPOSES.length * RELATIONS.length + PURPOSES.length * TARGETS.length + 1);
    expect(checkedCells).toBe(cells);
    expect(cells).toBe(1631);
  });
});
