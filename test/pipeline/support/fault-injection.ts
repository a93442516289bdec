import { S3ServiceException } from '@aws-sdk/client-s3';
import type { Dependencies } from '@media/service';

/** One call the processor made on its dependencies, e.g. `storage.put thumb.webp` or `media.markReady`. */
export interface Call {
  label: string;
  mediaId: string | undefined;
}

/**
 * Decides whether a call fails, before it reaches the real object or after it returned. A plan may
 * also do something of its own at that moment (e.g. a concurrent DELETE) and answer when done.
 */
export type FaultPlan = (call: Call, phase: 'before' | 'after') => Error | undefined | Promise<Error | undefined>;

type Wrapped = Pick<Dependencies, 'media' | 'storage' | 'events'> & Partial<Pick<Dependencies, 'rights'>>;

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/** What a key is, without its tenant and id: `incoming`, `original`, or the derivative's file name. */
function keyKind(key: string): string {
  const [prefix, , , file] = key.split('/');
  if (prefix === 'incoming') return 'incoming';
  if (prefix === 'originals') return 'original';
  return file ?? key;
}

function describeCall(object: string, method: string, args: unknown[]): Call {
  const first = args[0];
  const key =
    typeof first === 'string' && first.includes('/') ? first : Array.isArray(first) && typeof first[0] === 'string' ? first[0] : undefined;
  const text =
    typeof first === 'string'
      ? first
      : (key ?? (first && typeof first === 'object' ? String((first as { mediaId?: string }).mediaId ?? '') : ''));
  const label = object === 'storage' && key ? `${object}.${method} ${keyKind(key)}` : `${object}.${method}`;
  return { label, mediaId: UUID.exec(text)?.[0] };
}

function wrap<T extends object>(name: string, target: T, plan: FaultPlan, trace: Call[]): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return async (...args: unknown[]) => {
        const call = describeCall(name, property, args);
        trace.push(call);
        const before = await plan(call, 'before');
        if (before) throw before;
        const result = await value.apply(object, args);
        const after = await plan(call, 'after');
        if (after) throw after;
        return result;
      };
    },
  });
}

/**
 * The same dependencies, with every repository, storage and publisher call recorded in `trace` and
 * passed through `plan`, which may fail it. Production code stays as it is: faults live here.
 */
export function withFaults<T extends Wrapped>(deps: T, plan: FaultPlan, trace: Call[] = []): T & { trace: Call[] } {
  return {
    ...deps,
    media: wrap('media', deps.media, plan, trace),
    storage: wrap('storage', deps.storage, plan, trace),
    events: wrap('events', deps.events, plan, trace),
    ...(deps.rights ? { rights: wrap('rights', deps.rights, plan, trace) } : {}),
    trace,
  };
}

/** An error as the real dependency raises it when it has a bad moment. */
export function transientError(call: Call): Error {
  if (call.label.startsWith('storage.')) {
    return new S3ServiceException({
      name: 'SlowDown',
      $fault: 'server',
      $metadata: { httpStatusCode: 503 },
      message: `injected: Please reduce your request rate (${call.label})`,
    });
  }
  if (call.label.startsWith('events.')) {
    return Object.assign(new Error(`injected: service unavailable (${call.label})`), {
      name: 'ServiceUnavailable',
      $metadata: { httpStatusCode: 503 },
    });
  }
  return Object.assign(new Error(`injected: Connection terminated unexpectedly (${call.label})`), { code: 'ECONNRESET' });
}

export const noFaults: FaultPlan = () => undefined;

/** Fails the first `times` calls matching `matches` in `phase`, then lets them through. */
export function failTimes(
  times: number,
  matches: (call: Call) => boolean,
  phase: 'before' | 'after',
): FaultPlan & { fired: () => boolean } {
  let failed = 0;
  const plan = (call: Call, at: 'before' | 'after') => {
    if (at !== phase || failed >= times || !matches(call)) return undefined;
    failed += 1;
    return transientError(call);
  };
  return Object.assign(plan, { fired: () => failed === times });
}

/** Fails the first call matching `matches` in `phase`, once. */
export const failOnce = (matches: (call: Call) => boolean, phase: 'before' | 'after') => failTimes(1, matches, phase);
