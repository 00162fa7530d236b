import { randomUUID } from 'node:crypto';

export function newTaskId(): string {
  return randomUUID();
}

export function newId(): string {
  return randomUUID();
}
