// The stream's one subscription to every event must not catch the event log's own service
// operation (`events.list` shares the `events.` prefix): the fan-out would drop each request as a
// malformed event and log a warning for every GET /api/v1/events while a socket is open.
import { expect, it } from 'vitest';
import { createMemoryBus } from '../../runtime/bus/memory.js';
import { createSubjects } from '../../runtime/subjects.js';

it('subscribes to every event and to no service operation', async () => {
  const bus = createMemoryBus();
  const subjects = createSubjects('ns');
  const seen: string[] = [];
  bus.subscribe(subjects.eventsAll(), (msg) => {
    seen.push(msg.subject);
  });
  bus.publish(subjects.service('events.list'), {});
  bus.publish(subjects.event('task', 'completed', 'writer'), {});
  bus.publish(subjects.event('model', 'pull.progress'), {});
  bus.publish(subjects.event('supervisor', 'restart', 'a.b'), {});
  await bus.drain();
  expect(seen).toEqual([subjects.event('task', 'completed', 'writer'), subjects.event('model', 'pull.progress'), subjects.event('supervisor', 'restart', 'a.b')]);
});
