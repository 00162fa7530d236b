// Events arrive one socket message at a time, sometimes thousands a second; the page renders at
// most once per animation frame, with everything that arrived since the last one. The queue is
// bounded: if frames stop (a background tab), only the newest `max` items wait.

export type Schedule = (run: () => void) => void;

export interface FrameBatch<T> {
  push(item: T): void;
  /** Items dropped because the queue was full since the last flush. */
  readonly dropped: number;
}

export function createFrameBatch<T>(flush: (items: T[], dropped: number) => void, max: number, schedule: Schedule): FrameBatch<T> {
  let queue: T[] = [];
  let dropped = 0;
  let scheduled = false;
  const run = () => {
    scheduled = false;
    const items = queue;
    const lost = dropped;
    queue = [];
    dropped = 0;
    flush(items, lost);
  };
  return {
    push(item) {
      queue.push(item);
      if (queue.length > max) {
        queue.shift();
        dropped++;
      }
      if (!scheduled) {
        scheduled = true;
        schedule(run);
      }
    },
    get dropped() {
      return dropped;
    },
  };
}
