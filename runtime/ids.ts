import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from './clock.js';

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. Time-ordered so each new
 * task lands at the end of the tasks table's primary-key index instead of on a random page: with
 * random ids every task dirtied a different index page, and writing those pages back was a large
 * share of each SQLite commit. The random part comes from randomUUID() (its version nibble is
 * replaced; its variant bits are already those of v7).
 */
export function newTaskId(clock: Clock = systemClock): string {
  const random = randomUUID();
  const ms = clock.now().toString(16).padStart(12, '0');
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${random.slice(15)}`;
}

export function newId(): string {
  return randomUUID();
}
