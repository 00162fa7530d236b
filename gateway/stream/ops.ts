// What a client asks for on its socket: subscribe (new filters, maybe a replay from `since`),
// unsubscribe, execute (run a task whose events follow the socket) and ping. The messages
// themselves are parsed and built in stream-protocol.ts.
import { isAuroraError, toErrorPayload } from '../../runtime/errors.js';
import { newTaskId } from '../../runtime/ids.js';
import type { GatewayDeps } from '../deps.js';
import { eventTypes } from '../kinds.js';
import { runTask } from '../service-client.js';
import {
  CLOSE_CODES,
  MATCH_NOTHING,
  MAX_TASKS_PER_SOCKET,
  NOTHING_KEY,
  compileFilter,
  filterKey,
  parseClientMessage,
  serverMessage,
  type ExecuteOp,
  type SubscribeOp,
  type TaskValidator,
} from '../stream-protocol.js';
import type { StreamClient } from './client.js';
import type { Delivery } from './delivery.js';
import type { Feed } from './feed.js';
import type { Topics } from './topics.js';

export interface Ops {
  /** Replaces the socket's filters (the upgrade URL's subscription goes through here too). */
  subscribe(c: StreamClient, op: SubscribeOp): void;
  /** One frame from the client. */
  onMessage(c: StreamClient, data: ArrayBuffer, isBinary: boolean): void;
}

export interface OpsDeps {
  /** For running tasks over the bus, knowing when the gateway drains, and logging. */
  readonly deps: GatewayDeps;
  readonly feed: Feed;
  readonly topics: Topics;
  readonly delivery: Delivery;
  /** The same check as POST /agents/{name}/execute. */
  readonly validateTask: TaskValidator;
}

export function createOps({ deps, feed, topics, delivery, validateTask }: OpsDeps): Ops {
  // Subscriptions may name the core event types and those of the kinds this gateway serves.
  const knownTypes = eventTypes(deps.kinds);
  const { logger } = deps;
  const maxMessageBytes = deps.config.maxBodyBytes;
  const { control, enqueue, pump } = delivery;

  /**
   * New filters apply to events not yet sent; events of this turn still in the batch were received
   * under the old ones, so they go out first. False when the socket was closed meanwhile.
   */
  const catchUp = (c: StreamClient): boolean => {
    topics.leave(c);
    // A replaying socket is paced: what it has not been sent yet is not due under any filter.
    if (!c.replaying && c.cursor < feed.lastSeq) pump(c);
    return !c.closed;
  };

  const subscribe = (c: StreamClient, op: SubscribeOp): void => {
    if (!catchUp(c)) return;
    c.filter = compileFilter(op);
    c.filterKey = filterKey(op);
    if (op.since === undefined) {
      control(c, serverMessage.subscribed(feed.lastSeq));
      return;
    }
    const replay = feed.since(op.since);
    c.cursor = replay.gap ? replay.oldestSeq - 1 : op.since;
    c.replaying = true;
    // Control messages still waiting go out first, then the new stream starts.
    for (const p of c.pending) p.afterSeq = Math.min(p.afterSeq, c.cursor);
    if (!enqueue(c, serverMessage.subscribed(feed.lastSeq))) return;
    if (replay.gap && !enqueue(c, serverMessage.gap(replay.oldestSeq))) return;
    pump(c);
  };

  const execute = async (c: StreamClient, op: ExecuteOp): Promise<void> => {
    const rid = op.request_id;
    if (deps.lifecycle?.draining) {
      control(c, serverMessage.error('Aurora is shutting down', rid));
      return;
    }
    if (c.running >= MAX_TASKS_PER_SOCKET) {
      control(c, serverMessage.error(`at most ${MAX_TASKS_PER_SOCKET} tasks may run at once per socket`, rid));
      return;
    }
    const taskId = newTaskId();
    c.running++;
    topics.leave(c); // its task's events reach it whatever its filters
    c.ownTasks.add(taskId);
    control(c, serverMessage.taskSubmitted(rid, taskId), { afterEvents: true });
    if (c.closed) return; // dropped for its backlog: nobody to run the task for
    let message: string;
    try {
      const result = await runTask(deps, {
        task_id: taskId,
        agent: op.agent,
        prompt: op.prompt,
        parameters: op.parameters,
        ...(op.thread_id !== undefined && { thread_id: op.thread_id }),
      });
      message = serverMessage.taskResult(rid, taskId, result);
    } catch (err) {
      if (!isAuroraError(err)) logger.error('WebSocket task failed unexpectedly', { task_id: taskId, err });
      const payload = toErrorPayload(err);
      message = serverMessage.taskError(rid, taskId, payload.message, payload.code);
    } finally {
      c.running--;
    }
    control(c, message, { afterEvents: true, endsTask: taskId });
  };

  return {
    subscribe,
    onMessage(c, data, isBinary) {
      if (isBinary) {
        c.ws.end(CLOSE_CODES.unsupportedData, 'binary frames are not supported');
        return;
      }
      if (data.byteLength > maxMessageBytes) {
        c.ws.end(CLOSE_CODES.tooBig, `message over ${maxMessageBytes} bytes`);
        return;
      }
      // The ArrayBuffer is only valid during this call: it is decoded right away.
      const parsed = parseClientMessage(Buffer.from(data).toString('utf8'), validateTask, knownTypes);
      if (!parsed.ok) {
        control(c, serverMessage.error(parsed.detail, parsed.request_id));
        return;
      }
      const op = parsed.value;
      switch (op.op) {
        case 'subscribe':
          if (!c.canReadEvents) {
            control(c, serverMessage.error('Missing scope: events:read'));
            return;
          }
          subscribe(c, op);
          return;
        case 'unsubscribe':
          if (!catchUp(c)) return;
          c.filter = MATCH_NOTHING;
          c.filterKey = NOTHING_KEY;
          control(c, serverMessage.unsubscribed(feed.lastSeq));
          return;
        case 'ping':
          control(c, serverMessage.pong());
          return;
        case 'execute':
          if (!c.canExecute) {
            control(c, serverMessage.error('Missing scope: tasks:execute', op.request_id));
            return;
          }
          execute(c, op).catch((err: unknown) => logger.error('WebSocket execute failed', { err }));
          return;
      }
    },
  };
}
