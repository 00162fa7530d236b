// Browser agents on the wire: the actions a scripted task lists, and the artifacts (screenshots)
// they leave behind.
//
// One action is one closed object whose `action` says which it is; which other fields it needs is
// checked when the task starts (a union would make every mistake read "must match a schema in
// anyOf" instead of naming the field).
import { Type, type Static } from '@sinclair/typebox';
import { IsoTime } from './common.js';

export const BROWSER_ACTIONS = [
  'navigate',
  'snapshot',
  'click',
  'type',
  'select',
  'press',
  'scroll',
  'wait_for',
  'extract',
  'screenshot',
  'back',
  'evaluate',
  'crash',
] as const;
export type BrowserActionName = (typeof BROWSER_ACTIONS)[number];

export const BROWSER_LIMITS = {
  actionsMax: 100,
  urlMaxLength: 8192,
  selectorMaxLength: 1024,
  textMaxLength: 100_000,
  waitMsMax: 600_000,
} as const;

const ref = Type.String({
  pattern: '^e[0-9]{1,6}$',
  description: 'An element ref from an earlier snapshot of the same task ("e12")',
});
const selector = Type.String({ minLength: 1, maxLength: BROWSER_LIMITS.selectorMaxLength, description: 'A CSS selector' });

export const BrowserAction = Type.Object(
  {
    action: Type.Unsafe<BrowserActionName>({ type: 'string', enum: BROWSER_ACTIONS, description: 'What to do' }),
    url: Type.Optional(
      Type.String({ minLength: 1, maxLength: BROWSER_LIMITS.urlMaxLength, description: 'navigate: the absolute URL to open' }),
    ),
    ref: Type.Optional(ref),
    selector: Type.Optional(selector),
    text: Type.Optional(
      Type.String({
        maxLength: BROWSER_LIMITS.textMaxLength,
        description: 'type: the text to type; wait_for: text to wait for on the page',
      }),
    ),
    submit: Type.Optional(Type.Boolean({ description: 'type: press Enter after the text' })),
    values: Type.Optional(
      Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 64, description: 'select: the option values to select' }),
    ),
    key: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'press: a key name such as "Enter" or "ArrowDown"' })),
    x: Type.Optional(Type.Integer({ minimum: -100_000, maximum: 100_000, description: 'scroll: pixels to the right' })),
    y: Type.Optional(Type.Integer({ minimum: -100_000, maximum: 100_000, description: 'scroll: pixels down (default: one screen)' })),
    ms: Type.Optional(Type.Integer({ minimum: 0, maximum: BROWSER_LIMITS.waitMsMax, description: 'wait_for: milliseconds to wait' })),
    attribute: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: "extract: read this attribute instead of the elements' text" }),
    ),
    script: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: BROWSER_LIMITS.textMaxLength,
        description: "evaluate (only with the agent's allow_evaluate): a JavaScript expression; its JSON value is returned",
      }),
    ),
    target: Type.Optional(
      Type.Unsafe<'renderer' | 'browser'>({
        type: 'string',
        enum: ['renderer', 'browser'],
        description: 'crash (fault injection only): crash the page renderer or kill Chromium',
      }),
    ),
    timeout_ms: Type.Optional(
      Type.Integer({ minimum: 1, maximum: BROWSER_LIMITS.waitMsMax, description: "This action's timeout (default: the agent's action_timeout_ms)" }),
    ),
  },
  {
    additionalProperties: false,
    description: 'One browser action of a scripted task',
    examples: [{ action: 'navigate', url: 'https://example.com/login' }, { action: 'type', selector: '#user', text: 'ada', submit: true }],
  },
);
export type BrowserAction = Static<typeof BrowserAction>;

export const BrowserActions = Type.Array(BrowserAction, {
  minItems: 1,
  maxItems: BROWSER_LIMITS.actionsMax,
  description: 'browser agents: the actions to run in order; the task stops at the first that fails',
});

/** What the node keeps of an artifact and hands the gateway over the bus. */
export const ArtifactRecord = Type.Object({
  artifact_id: Type.String({ description: 'The artifact id' }),
  task_id: Type.String({ description: 'The task that made it' }),
  agent: Type.String({ description: 'The agent that ran the task' }),
  content_type: Type.String({ description: 'Its media type, e.g. image/png' }),
  bytes: Type.Integer({ description: 'Its size in bytes' }),
  created_at: IsoTime({ description: 'When it was stored' }),
});
export type ArtifactRecord = Static<typeof ArtifactRecord>;

export const ArtifactContent = Type.Object({
  ...ArtifactRecord.properties,
  data_base64: Type.String({ description: 'The bytes, base64-encoded (bus only; HTTP serves the bytes)' }),
});
export type ArtifactContent = Static<typeof ArtifactContent>;
