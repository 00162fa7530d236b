// runtime/protocol's TASK_STATUSES, spelled out: importing the value would bundle the protocol's
// schemas (typebox) into the page, doubling its first load. A unit test keeps the two equal.
import type { TaskStatus } from '../../runtime/protocol/index.js';

export const TASK_STATUSES: readonly TaskStatus[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];
