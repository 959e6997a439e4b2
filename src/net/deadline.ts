/**
 * A deadline for one piece of I/O (a request and the reading of its answer): the work gets a signal that aborts
 * when the deadline passes or the caller's own signal does, and the promise settles then, whether or not the work
 * honours the signal. Callers map `DeadlineExceededError` to their own error type.
 */

/** Starts a timer and returns what cancels it; injected so a test need not wait. */
export type StartTimer = (callback: () => void, ms: number) => () => void;

export interface DeadlineOptions {
  timeoutMs: number;
  /** The caller's cancellation: aborts the work too, and the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  startTimer?: StartTimer;
}

export class DeadlineExceededError extends Error {
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = "DeadlineExceededError";
    this.timeoutMs = timeoutMs;
  }
}

const startGlobalTimer: StartTimer = (callback, ms) => {
  const timer = setTimeout(callback, ms);
  return () => clearTimeout(timer);
};

export async function withDeadline<T>(
  work: (signal: AbortSignal) => Promise<T>,
  options: DeadlineOptions,
): Promise<T> {
  const controller = new AbortController();
  const caller = options.signal;
  let cancelTimer = () => {};
  let onCallerAbort = () => {};
  const deadline = new Promise<never>((_, reject) => {
    cancelTimer = (options.startTimer ?? startGlobalTimer)(() => {
      const error = new DeadlineExceededError(options.timeoutMs);
      // Rejected before aborting: work that rejects as soon as it is aborted must not win the race.
      reject(error);
      controller.abort(error);
    }, options.timeoutMs);
    onCallerAbort = () => {
      reject(caller?.reason);
      controller.abort(caller?.reason);
    };
  });
  if (caller?.aborted) onCallerAbort();
  else caller?.addEventListener("abort", onCallerAbort);
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } finally {
    cancelTimer();
    caller?.removeEventListener("abort", onCallerAbort);
  }
}
