// Which view is on screen: the URL's hash (#/tree), so the server serves one page for all of them
// and the back button works.
import { signal } from '@preact/signals';

export const VIEWS = [
  { id: 'overview', label: 'Overview', scope: 'agents:read' },
  { id: 'tree', label: 'Supervision tree', scope: 'agents:read' },
  { id: 'agents', label: 'Agents', scope: 'agents:read' },
  { id: 'events', label: 'Events', scope: 'events:read' },
  { id: 'run', label: 'Run a task', scope: 'tasks:execute' },
  { id: 'tasks', label: 'Tasks and runs', scope: 'tasks:read' },
  { id: 'models', label: 'Models', scope: 'models:read' },
] as const;
export type ViewId = (typeof VIEWS)[number]['id'];

function fromHash(): ViewId {
  const id = location.hash.replace(/^#\/?/, '');
  return VIEWS.find((v) => v.id === id)?.id ?? 'overview';
}

export const view = signal<ViewId>(fromHash());
addEventListener('hashchange', () => (view.value = fromHash()));
