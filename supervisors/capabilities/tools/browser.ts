// The browser.* tools: an llm agent browses with them. The calls of one task share one browser
// session (a context of its own, opened on the first call, closed when the task ends), so a model
// can navigate, read the snapshot's refs and click them over several turns. Settings are the agent's
// config.browser (allowed_origins, timeouts, bounds), checked as for browser agents; a tool's
// failure is shown to the model, which may correct itself.
import { AuroraError } from '../../../runtime/errors.js';
import { BROWSER_LIMITS, type BrowserAction } from '../../../runtime/protocol/index.js';
import type { BrowserActor, BrowserSettings } from '../browser.js';
import type { ToolFamily, ToolSpec } from './tool.js';

export const BROWSER_TOOL_PREFIX = 'browser.';
const SETTINGS_FIELD = 'config.browser';

const target = {
  ref: { type: 'string', pattern: '^e[0-9]{1,6}$', description: 'An element ref from the latest browser.snapshot, e.g. "e12"' },
  selector: { type: 'string', minLength: 1, maxLength: BROWSER_LIMITS.selectorMaxLength, description: 'A CSS selector, when there is no ref' },
} as const;

const SPECS: Record<string, ToolSpec> = {
  'browser.navigate': {
    name: 'browser.navigate',
    description: 'Open a URL in the browser. Returns JSON: url (after redirects), status, title.',
    parameters: {
      type: 'object',
      properties: { url: { type: 'string', minLength: 1, maxLength: BROWSER_LIMITS.urlMaxLength, description: 'Absolute http(s) URL' } },
      required: ['url'],
      additionalProperties: false,
    },
  },
  'browser.snapshot': {
    name: 'browser.snapshot',
    description:
      'Read the current page: its visible text and interactive elements, one per line; each element has a ref such as [e3] to use with browser.click and browser.type.',
    parameters: { type: 'object', properties: {}, additionalProperties: false },
  },
  'browser.click': {
    name: 'browser.click',
    description: 'Click an element (by ref from browser.snapshot, or a CSS selector). Returns JSON: the url after the click.',
    parameters: { type: 'object', properties: target, additionalProperties: false },
  },
  'browser.type': {
    name: 'browser.type',
    description: 'Type text into a field (by ref or selector), replacing what it held; submit: true presses Enter after.',
    parameters: {
      type: 'object',
      properties: {
        ...target,
        text: { type: 'string', maxLength: BROWSER_LIMITS.textMaxLength, description: 'The text to type' },
        submit: { type: 'boolean', description: 'Press Enter after typing' },
      },
      required: ['text'],
      additionalProperties: false,
    },
  },
  'browser.extract': {
    name: 'browser.extract',
    description: 'Read the text (or an attribute) of the elements matching a CSS selector. Returns JSON: values, count.',
    parameters: {
      type: 'object',
      properties: {
        selector: target.selector,
        attribute: { type: 'string', minLength: 1, maxLength: 128, description: 'Read this attribute instead of the text' },
      },
      required: ['selector'],
      additionalProperties: false,
    },
  },
};

export function browserToolFamily(actor: BrowserActor): ToolFamily {
  return {
    prefix: BROWSER_TOOL_PREFIX,
    configKey: 'browser',
    spec: (name) => SPECS[name],
    async run(name, args, ctx) {
      const settings = ctx.settings as BrowserSettings | undefined;
      if (settings === undefined) {
        throw new AuroraError('invalid_request', `${name} needs ${SETTINGS_FIELD}.allowed_origins: where the agent's pages may go`);
      }
      if ((args.ref === undefined) === (args.selector === undefined) && (name === 'browser.click' || name === 'browser.type')) {
        throw new AuroraError('invalid_request', `${name} needs exactly one of ref and selector`);
      }
      const action = { action: name.slice(BROWSER_TOOL_PREFIX.length), ...args } as BrowserAction;
      const { result } = await actor.act(action, ctx, settings, SETTINGS_FIELD);
      // The snapshot is text for the model to read, not JSON to unpick.
      if (action.action === 'snapshot') return `${String(result.title)} (${String(result.url)})\n${String(result.snapshot)}${result.truncated === true ? '\n[truncated]' : ''}`;
      return JSON.stringify(result);
    },
    release: (taskId) => actor.sessions.close(taskId),
  };
}
