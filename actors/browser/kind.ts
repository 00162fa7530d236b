// The `browser` kind: an agent that drives a real Chromium (through the node's supervised browser
// pool). A task lists its actions in parameters.actions; they run in order in a browser context of
// the task's own, and the task answers with each action's result, or fails at the first action
// that fails, naming it. Its pages reach only the origins its config allows.
import { NO_PROVIDER, type AgentKind } from '../kind.js';
import { BROWSER_DEFAULTS, BrowserConfig } from './config.js';
import { BROWSER_ACT, BROWSER_RELEASE } from './effects.js';
import { browserMachine } from './machine.js';

export const BROWSER_EVENTS = ['browser.navigated', 'browser.action', 'browser.screenshot'] as const;

export const browserKind: AgentKind = {
  name: 'browser',
  description: 'Drives a real Chromium: each task runs its parameters.actions (navigate, snapshot, click, type, extract, screenshot, …) in order',
  providers: [NO_PROVIDER],
  configSchema: BrowserConfig,
  events: [...BROWSER_EVENTS],
  machine: browserMachine,
  capabilities: [BROWSER_ACT, BROWSER_RELEASE],
  slots: (definition) => (definition.config as BrowserConfig).max_concurrency ?? BROWSER_DEFAULTS.maxConcurrency,
};
