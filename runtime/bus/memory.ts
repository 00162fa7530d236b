// The in-process bus: the NATS semantics Aurora relies on, without a server. Every message is
// encoded on publish and decoded per subscriber on delivery, so nothing that only works by
// sharing objects in memory can slip through and then break over NATS. The encoding is the JSON
// text itself: the same copy semantics as bytes, without a UTF-8 round trip per message.
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock, type Timer } from '../clock.js';
import { AuroraError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import {
  DeliveredMessage,
  HandlerRunner,
  type Bus,
  type BusHandler,
  type RequestOptions,
  type SubscribeOptions,
  type Subscription,
} from './bus.js';
import { RequestTimeouts, type Timed, type TimeoutLane } from './request-timeouts.js';
import { assertQueueName, assertSubject, SubjectIndex } from './subject-index.js';

export interface MemoryBusOptions {
  /**
   * Deliveries accepted but not yet handed to a handler. Beyond it new deliveries are dropped
   * and counted, as NATS drops messages for a slow consumer: publishers never block or throw.
   */
  maxPending?: number;
  /** How long drain() waits for running handlers before closing anyway. */
  drainTimeoutMs?: number;
  logger?: Logger;
  /** Times requests and drain, and schedules delivery; default the system clock. */
  clock?: Clock;
}

const INBOX_ROOT = '_INBOX.';

type State = 'open' | 'draining' | 'closed';

class MemorySubscription implements Subscription {
  closed = false;
  readonly #bus: MemoryBus;
  constructor(
    readonly subject: string,
    readonly queue: string | undefined,
    readonly handler: BusHandler,
    bus: MemoryBus,
  ) {
    this.#bus = bus;
  }

  unsubscribe(): void {
    if (this.closed) return;
    this.closed = true;
    this.#bus.removeSubscription(this);
  }
}

/** `sub` undefined: a reply for the request waiting on `subject` (an inbox). */
interface Delivery {
  sub: MemorySubscription | undefined;
  subject: string;
  /** The message as JSON text, parsed once per receiver. */
  json: string;
  reply: string | undefined;
}

class PendingRequest implements Timed<PendingRequest> {
  expiresAt = 0;
  prev: PendingRequest | undefined = undefined;
  next: PendingRequest | undefined = undefined;
  lane: TimeoutLane<PendingRequest> | undefined = undefined;
  constructor(
    readonly inbox: string,
    readonly subject: string,
    readonly timeoutMs: number,
    readonly resolve: (value: unknown) => void,
    readonly reject: (err: unknown) => void,
  ) {}
}

class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  private state: State = 'open';
  private readonly index = new SubjectIndex<MemorySubscription>();
  private queue: Delivery[] = [];
  private scheduled = false;
  private batchRunning = false;
  private flushWaiters: (() => void)[] = [];
  private readonly handlers: HandlerRunner;
  private dropped = 0;
  private idleWaiter: (() => void) | undefined;
  private drainPromise: Promise<void> | undefined;
  private readonly inboxPrefix = `${INBOX_ROOT}${randomBytes(8).toString('hex')}.`;
  private inboxSeq = 0;
  private readonly pending = new Map<string, PendingRequest>();
  private readonly timeouts: RequestTimeouts<PendingRequest>;
  private readonly runBatchBound = () => this.runBatch();

  constructor(
    private readonly maxPending: number,
    private readonly drainTimeoutMs: number,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {
    this.handlers = new HandlerRunner(logger, () => this.checkIdle());
    this.timeouts = new RequestTimeouts(clock, (req) => this.expire(req));
  }

  publish(subject: string, data: unknown): void {
    if (this.state === 'closed') throw closedError();
    this.route(subject, data, undefined);
  }

  request<T = unknown>(subject: string, data: unknown, options: RequestOptions): Promise<T> {
    if (this.state === 'closed') return Promise.reject(closedError());
    const { timeoutMs } = options;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      return Promise.reject(new AuroraError('invalid_request', `request timeoutMs must be a positive number, got ${timeoutMs}`));
    }
    const inbox = this.inboxPrefix + (this.inboxSeq++).toString(36);
    let delivered: number;
    try {
      delivered = this.route(subject, data, inbox);
    } catch (err) {
      return Promise.reject(err);
    }
    if (delivered === 0) {
      return Promise.reject(new AuroraError('no_responders', `no responders on "${subject}"`));
    }
    return new Promise<T>((resolve, reject) => {
      const req = new PendingRequest(inbox, subject, timeoutMs, resolve as (value: unknown) => void, reject);
      this.timeouts.arm(req, timeoutMs);
      this.pending.set(inbox, req);
    });
  }

  subscribe(subject: string, handler: BusHandler, options?: SubscribeOptions): Subscription {
    if (this.state !== 'open') throw new AuroraError('unavailable', 'bus is draining or closed: cannot subscribe');
    assertSubject(subject, true);
    const queue = options?.queue;
    if (queue !== undefined) assertQueueName(queue);
    const sub = new MemorySubscription(subject, queue, handler, this);
    this.index.add(subject, sub);
    return sub;
  }

  flush(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(closedError());
    if (this.queue.length === 0 && !this.batchRunning) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  drain(): Promise<void> {
    this.drainPromise ??= this.runDrain();
    return this.drainPromise;
  }

  isConnected(): boolean {
    return this.state !== 'closed';
  }

  onConnectionChange(): () => void {
    // One process has no connection to lose.
    return () => undefined;
  }

  removeSubscription(sub: MemorySubscription): void {
    this.index.remove(sub.subject, sub);
  }

  sendReply(reply: string, data: unknown): void {
    // A reply racing a close has nobody left to read it; it must not throw inside a handler.
    if (this.state === 'closed') return;
    this.route(reply, data, undefined);
  }

  private expire(req: PendingRequest): void {
    if (!this.pending.delete(req.inbox)) return;
    req.reject(new AuroraError('bus_timeout', `no reply on "${req.subject}" within ${req.timeoutMs}ms`));
  }

  /**
   * Queues one delivery per plain subscriber and one per queue group; returns how many
   * receivers matched (dropped deliveries included: like NATS, they end in a timeout, not in
   * `no_responders`). The message is encoded once, and only when someone receives it: a
   * subject nobody listens to costs no JSON, as NATS would drop it.
   */
  private route(subject: string, data: unknown, reply: string | undefined): number {
    let count = 0;
    let json: string | undefined;
    const isInbox = subject.startsWith(INBOX_ROOT);
    if (isInbox && subject.startsWith(this.inboxPrefix) && this.pending.has(subject)) {
      json = encodeText(data);
      this.enqueue(undefined, subject, json, reply);
      count++;
    }
    if (this.state !== 'open') {
      // Draining: subscriptions take no new messages; only waiting requesters get replies.
      if (count === 0) assertSubject(subject, false);
      return count;
    }
    // Inbox subjects are used once; caching them would only evict useful entries.
    const match = this.index.match(subject, !isInbox);
    if (match.plain.length === 0 && match.groups.length === 0) return count;
    json ??= encodeText(data);
    for (const sub of match.plain) this.enqueue(sub, subject, json, reply);
    for (const group of match.groups) {
      this.enqueue(group.members[group.next++ % group.members.length]!, subject, json, reply);
    }
    return count + match.plain.length + match.groups.length;
  }

  private enqueue(sub: MemorySubscription | undefined, subject: string, json: string, reply: string | undefined): void {
    if (this.queue.length >= this.maxPending) {
      this.dropped++;
      return;
    }
    this.queue.push({ sub, subject, json, reply });
    if (!this.scheduled) {
      this.scheduled = true;
      // setImmediate, not a microtask: handlers that publish in a loop must not starve I/O.
      this.clock.setImmediate(this.runBatchBound);
    }
  }

  private runBatch(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    this.batchRunning = true;
    try {
      for (const d of batch) {
        if (d.sub === undefined) this.deliverReply(d);
        else if (!d.sub.closed) this.deliver(d.sub, d);
      }
    } finally {
      this.batchRunning = false;
    }
    for (const w of waiters) w();
    if (this.dropped > 0 && this.queue.length === 0) {
      this.logger.warn('in-process bus dropped deliveries: more than maxPending were waiting', {
        dropped: this.dropped,
        max_pending: this.maxPending,
      });
      this.dropped = 0;
    }
    this.checkIdle();
  }

  private deliver(sub: MemorySubscription, d: Delivery): void {
    this.handlers.run(sub.handler, new DeliveredMessage(d.subject, JSON.parse(d.json), d.reply, this), sub.subject);
  }

  private deliverReply(d: Delivery): void {
    const req = this.pending.get(d.subject);
    if (req === undefined) return; // timed out already, or a second reply
    this.pending.delete(d.subject);
    this.timeouts.disarm(req);
    try {
      req.resolve(JSON.parse(d.json));
    } catch (err) {
      req.reject(err);
    }
  }

  private checkIdle(): void {
    if (this.idleWaiter !== undefined && this.handlers.inFlight === 0 && this.queue.length === 0 && !this.batchRunning) {
      const w = this.idleWaiter;
      this.idleWaiter = undefined;
      w();
    }
  }

  private async runDrain(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'draining';
    // Messages published before drain() are still delivered, as NATS does on drain.
    let timer: Timer | undefined;
    const idle = new Promise<boolean>((resolve) => {
      this.idleWaiter = () => resolve(true);
      timer = this.clock.setTimeout(() => resolve(false), this.drainTimeoutMs, { keepAlive: true });
      this.checkIdle();
    });
    const finished = await idle;
    timer?.cancel();
    this.idleWaiter = undefined;
    if (!finished) {
      this.logger.warn('bus drain timed out; closing with handlers still running', {
        in_flight: this.handlers.inFlight,
        queued: this.queue.length,
        drain_timeout_ms: this.drainTimeoutMs,
      });
    }
    this.state = 'closed';
    this.index.clear();
    this.queue = [];
    for (const w of this.flushWaiters) w();
    this.flushWaiters = [];
    for (const [inbox, req] of this.pending) {
      this.pending.delete(inbox);
      this.timeouts.disarm(req);
      req.reject(closedError());
    }
  }
}

/** What encode() would send, as text: undefined becomes null, as it does over NATS. */
function encodeText(data: unknown): string {
  return JSON.stringify(data ?? null);
}

function closedError(): AuroraError {
  return new AuroraError('unavailable', 'bus is closed');
}

export function createMemoryBus(options: MemoryBusOptions = {}): Bus {
  const maxPending = options.maxPending ?? 65_536;
  if (!Number.isInteger(maxPending) || maxPending < 1) throw new RangeError(`maxPending must be a positive integer, got ${maxPending}`);
  return new MemoryBus(maxPending, options.drainTimeoutMs ?? 10_000, options.logger ?? silentLogger, options.clock ?? systemClock);
}
