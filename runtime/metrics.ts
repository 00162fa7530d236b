// The prom-client registry and every metric Aurora exports. One registry per process (tests make
// their own), so nothing here is a module-level singleton.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const METRIC_NAMES = {
  supervisorRestarts: 'aurora_supervisor_restarts_total',
  supervisorRestartLatency: 'aurora_supervisor_restart_latency_seconds',
  supervisorEscalations: 'aurora_supervisor_escalations_total',
  supervisorChildren: 'aurora_supervisor_children',
  tasks: 'aurora_tasks_total',
  taskDuration: 'aurora_task_duration_seconds',
  tokens: 'aurora_tokens_total',
  mailboxDepth: 'aurora_mailbox_depth',
  httpRequests: 'aurora_http_requests_total',
  httpDuration: 'aurora_http_request_duration_seconds',
  wsClients: 'aurora_ws_clients',
  streamListening: 'aurora_stream_listening',
  wsDropped: 'aurora_ws_slow_consumers_closed_total',
  rateLimitFailOpen: 'aurora_rate_limit_fail_open_total',
  workflowRuns: 'aurora_workflow_runs_total',
  workflowStepDuration: 'aurora_workflow_step_duration_seconds',
  workflowStepsInFlight: 'aurora_workflow_steps_in_flight',
  browsersAlive: 'aurora_browsers_alive',
  browserPagesOpen: 'aurora_browser_pages_open',
  browserRestarts: 'aurora_browser_restarts_total',
  browserActionDuration: 'aurora_browser_action_duration_seconds',
} as const;

/** prom-client defaults left out: gauges whose names end in _total, as only counters' may. */
export const DROPPED_DEFAULT_METRICS: readonly string[] = [
  'aurora_nodejs_active_handles_total',
  'aurora_nodejs_active_requests_total',
  'aurora_nodejs_active_resources_total',
];

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: 'aurora_' });
    // prom-client names these gauges like counters, which `promtool check metrics` rejects; the
    // same counts by type remain (aurora_nodejs_active_handles etc.): sum() them for the total.
    for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }
  const registers = [registry];
  return {
    registry,
    supervisorRestarts: new Counter({
      name: METRIC_NAMES.supervisorRestarts,
      help: 'Restarts performed by supervisors, by child, kind and reason',
      labelNames: ['agent', 'kind', 'reason'] as const,
      registers,
    }),
    supervisorRestartLatency: new Histogram({
      name: METRIC_NAMES.supervisorRestartLatency,
      help: 'Time from a crash to the child running again (backoff included)',
      labelNames: ['kind'] as const,
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
      registers,
    }),
    supervisorEscalations: new Counter({
      name: METRIC_NAMES.supervisorEscalations,
      help: 'Times a supervisor spent its restart budget and escalated to its parent',
      labelNames: ['supervisor'] as const,
      registers,
    }),
    supervisorChildren: new Gauge({
      name: METRIC_NAMES.supervisorChildren,
      help: 'Supervised children by status',
      labelNames: ['status'] as const,
      registers,
    }),
    tasks: new Counter({
      name: METRIC_NAMES.tasks,
      help: 'Tasks finished, by outcome',
      labelNames: ['outcome'] as const,
      registers,
    }),
    taskDuration: new Histogram({
      name: METRIC_NAMES.taskDuration,
      help: 'Task duration from acceptance to its end, by outcome',
      labelNames: ['outcome'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    }),
    tokens: new Counter({
      name: METRIC_NAMES.tokens,
      help: 'Tokens reported by the LLM provider, by direction',
      labelNames: ['direction'] as const,
      registers,
    }),
    mailboxDepth: new Gauge({
      name: METRIC_NAMES.mailboxDepth,
      help: 'Tasks waiting in agent mailboxes, summed over agents',
      registers,
    }),
    httpRequests: new Counter({
      name: METRIC_NAMES.httpRequests,
      help: 'HTTP requests by method, route template and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: METRIC_NAMES.httpDuration,
      help: 'HTTP request latency by method and route template',
      labelNames: ['method', 'route'] as const,
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers,
    }),
    wsClients: new Gauge({ name: METRIC_NAMES.wsClients, help: 'Open WebSocket clients', registers }),
    streamListening: new Gauge({
      name: METRIC_NAMES.streamListening,
      help: '1 while the gateway listens to agent events for its WebSocket clients (see STREAM_LINGER_MS)',
      registers,
    }),
    wsDropped: new Counter({
      name: METRIC_NAMES.wsDropped,
      help: 'WebSocket clients closed because they could not keep up',
      registers,
    }),
    rateLimitFailOpen: new Counter({
      name: METRIC_NAMES.rateLimitFailOpen,
      help: 'Requests let through because the rate-limit store failed',
      registers,
    }),
    workflowRuns: new Counter({
      name: METRIC_NAMES.workflowRuns,
      help: 'Workflow runs finished, by workflow and outcome',
      labelNames: ['workflow', 'outcome'] as const,
      registers,
    }),
    workflowStepDuration: new Histogram({
      name: METRIC_NAMES.workflowStepDuration,
      help: 'Workflow agent steps from start to end, by outcome',
      labelNames: ['outcome'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    }),
    workflowStepsInFlight: new Gauge({
      name: METRIC_NAMES.workflowStepsInFlight,
      help: 'Workflow agent steps running now',
      registers,
    }),
    browsersAlive: new Gauge({ name: METRIC_NAMES.browsersAlive, help: 'Chromium processes running now', registers }),
    browserPagesOpen: new Gauge({
      name: METRIC_NAMES.browserPagesOpen,
      help: 'Browser contexts (one per task) open now, over every Chromium',
      registers,
    }),
    browserRestarts: new Counter({
      name: METRIC_NAMES.browserRestarts,
      help: 'Chromium processes ended and replaced, by reason (disconnected, renderer_crash, hung, retired)',
      labelNames: ['reason'] as const,
      registers,
    }),
    browserActionDuration: new Histogram({
      name: METRIC_NAMES.browserActionDuration,
      help: 'Browser actions from start to end, by action and outcome',
      labelNames: ['action', 'outcome'] as const,
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
  };
}
