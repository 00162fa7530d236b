// One supervisor handles one thing at a time: its jobs (exits, scheduled restarts) and the commands
// of its API run one by one in arrival order. A job that waits on a promise holds the queue until
// the promise settles; a job that finishes synchronously lets the next one run at once.

/** A command from the supervisor's API; exactly one of resolve / reject is called once it has finished. */
class Command {
  constructor(
    readonly fn: () => Promise<void> | void,
    readonly resolve: () => void,
    readonly reject: (err: unknown) => void,
  ) {}
}

export interface JobQueueDeps<J extends object> {
  /** Runs a job; a returned promise holds the queue until it settles. */
  readonly run: (job: J) => PromiseLike<unknown> | undefined;
  /** A job that threw or rejected: a defect of the supervisor. Called while the queue is busy. */
  readonly onDefect: (error: unknown) => void;
}

export interface JobQueue<J extends object> {
  submit(job: J): void;
  /** Queues `fn` as a command; the returned promise settles with it. */
  call(fn: () => Promise<void> | void): Promise<void>;
  /** Queues `fn` as a command whose outcome goes to `resolve` / `reject` instead of a promise. */
  command(fn: () => Promise<void> | void, resolve: () => void, reject: (err: unknown) => void): void;
  /**
   * The fast path for a job that arrives while nothing is in flight: marks the queue busy and
   * returns true, and the caller runs the job itself, without allocating it, then hands what it
   * returned to resume(). Returns false (and changes nothing) while another job is in flight.
   */
  enterIfIdle(): boolean;
  /** Ends a job run through enterIfIdle(): runs the queued jobs now, or once `pending` settles. */
  resume(pending: PromiseLike<unknown> | undefined): void;
}

export function createJobQueue<J extends object>({ run, onDefect }: JobQueueDeps<J>): JobQueue<J> {
  const queue: Array<J | Command> = [];
  let busy = false;
  /** Settles the caller of the command that just finished (see pump). */
  let finishCall: (() => void) | undefined;

  function submit(job: J | Command): void {
    queue.push(job);
    if (!busy) {
      busy = true;
      pump();
    }
  }

  /**
   * Runs queued jobs until the queue is empty or a job waits; busy stays true while it waits.
   * A finished command's caller is resolved here, before the queue is drained, so by the time the
   * caller's `await` resumes the supervisor is idle again (and its next crash takes the fast path).
   */
  function pump(): void {
    const finish = finishCall;
    if (finish !== undefined) {
      finishCall = undefined;
      finish();
    }
    for (;;) {
      const job = queue.shift();
      if (job === undefined) {
        busy = false;
        return;
      }
      const pending = runJob(job);
      if (pending !== undefined) {
        pending.then(pump, defectThenPump);
        return;
      }
    }
  }

  function defectThenPump(error: unknown): void {
    onDefect(error);
    pump();
  }

  function runJob(job: J | Command): PromiseLike<unknown> | undefined {
    try {
      if (!(job instanceof Command)) return run(job);
      let result: Promise<void> | void;
      try {
        result = job.fn();
      } catch (error) {
        job.reject(error);
        return undefined;
      }
      if (result === undefined) {
        job.resolve();
        return undefined;
      }
      return result.then(
        () => {
          finishCall = job.resolve;
        },
        (error: unknown) => {
          finishCall = () => job.reject(error);
        },
      );
    } catch (error) {
      onDefect(error);
      return undefined;
    }
  }

  function command(fn: () => Promise<void> | void, resolve: () => void, reject: (err: unknown) => void): void {
    submit(new Command(fn, resolve, reject));
  }

  return {
    submit,
    call: (fn) => new Promise<void>((resolve, reject) => command(fn, resolve, reject)),
    command,
    enterIfIdle() {
      if (busy) return false;
      busy = true;
      return true;
    },
    resume(pending) {
      if (pending === undefined) pump();
      else pending.then(pump, defectThenPump);
    },
  };
}
