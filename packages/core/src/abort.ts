import { setMaxListeners } from 'node:events';
import { systemClock, type Clock } from './clock.js';

/** Rejection used when an AbortSignal ends a wait; `name` is 'AbortError' as in the platform. */
export class AbortError extends Error {
  override readonly name = 'AbortError';
  readonly code = 'ABORTED';
  constructor(message = 'The operation was aborted', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * An AbortController whose signal many waits listen on at once by design (one per held lease,
 * shard or request in flight): Node's MaxListenersExceededWarning ("possible memory leak") is
 * turned off for it. Every wait still removes its listener when it ends.
 */
export function sharedAbortController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err as { code?: unknown }).code === 'ABORT_ERR');
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new AbortError();
}

/** Waits `ms` on `clock`; rejects with an AbortError as soon as `signal` aborts, clearing the timer. */
export function sleep(ms: number, signal?: AbortSignal, clock: Clock = systemClock): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      cancel();
      reject(abortReason(signal!));
    };
    const cancel = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves (never rejects) when `signal` aborts: handy inside `Promise.race` in loops. */
export function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/**
 * `promise`, or a rejection with the abort reason as soon as `signal` aborts: for waiting on work
 * that cannot be cancelled (shared, or already sent), which is left to settle on its own.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, (err: unknown) => reject(err instanceof Error ? err : new Error(String(err)))).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * A signal that aborts when any of `signals` does. Unlike AbortSignal.any, the returned `dispose`
 * detaches the listeners, so long-lived parent signals do not accumulate them.
 */
export function linkSignals(...signals: (AbortSignal | undefined)[]): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const cleanups: (() => void)[] = [];
  for (const s of signals) {
    if (!s) continue;
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    const onAbort = (): void => controller.abort(s.reason);
    s.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => s.removeEventListener('abort', onAbort));
  }
  return {
    signal: controller.signal,
    dispose: () => {
      for (const c of cleanups) c();
      cleanups.length = 0;
    },
  };
}
