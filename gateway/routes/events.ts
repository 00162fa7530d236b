// The event log: supervisor crashes, restarts and escalations, the agent lifecycle and model
// changes, as the node stored them (bounded by EVENTS_MAX), newest first. Task events are not in
// it: a task's record (GET /api/v1/tasks/{id}) is their history, and the stream carries them live.
import { AGENT_NAME_PATTERN, type EventListQuery } from '../../runtime/protocol/index.js';
import type { GatewayDeps } from '../deps.js';
import type { HandlerRequest, HandlerResponse } from '../http.js';
import { route, type Route } from '../router.js';
import { ask } from '../service-client.js';
import { nextPageHeaders, pageParams } from './paging.js';
import { queryIsoTime, queryPattern } from './params.js';

/** An event type (`supervisor.crash`) or every type under a prefix (`supervisor.*`, `model.*`). */
export const EVENT_TYPE_FILTER_PATTERN = '^[a-z][a-z0-9_]*((\\.[a-z][a-z0-9_]*)+(\\.\\*)?|\\.\\*)$';

const list = async (req: HandlerRequest, deps: GatewayDeps): Promise<HandlerResponse> => {
  const query: EventListQuery = pageParams(req);
  const type = queryPattern(req, 'type', EVENT_TYPE_FILTER_PATTERN);
  const agent = queryPattern(req, 'agent', AGENT_NAME_PATTERN);
  const since = queryIsoTime(req, 'since');
  if (type !== undefined) {
    if (type.endsWith('.*')) query.type_prefix = type.slice(0, -1);
    else query.type = type;
  }
  if (agent !== undefined) query.agent = agent;
  if (since !== undefined) query.since = since;
  const page = await ask(deps, 'events.list', query);
  return { status: 200, body: page, headers: nextPageHeaders('/api/v1/events', req.query, page.next_cursor) };
};

export const eventRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/api/v1/events',
    scope: 'events:read',
    handler: list,
    responses: { 200: 'EventPage' },
    summary: 'Read the event log, newest first (?type=&agent=&since=&limit=&cursor=)',
  }),
];
