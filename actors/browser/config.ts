// The `config` of a `browser` agent: where its pages may go and how long and how much each action
// may take. Closed, so a misspelt setting is refused by name.
import { Type, type Static } from '@sinclair/typebox';

export const BROWSER_DEFAULTS = {
  actionTimeoutMs: 15_000,
  maxSnapshotChars: 20_000,
  // An artifact reaches the gateway base64-encoded in one bus message, and NATS carries 1 MB at most.
  maxScreenshotBytes: 700 * 1024,
  maxPageBytes: 10 * 1024 * 1024,
  maxConcurrency: 2,
} as const;

export const BrowserConfig = Type.Object(
  {
    allowed_origins: Type.Array(Type.String({ minLength: 1, maxLength: 300 }), {
      maxItems: 64,
      description:
        'Where pages may navigate and load from: origins (https://host[:port]), "*" for any public origin, ' +
        'or a scheme such as "data:" or "file:". Loopback, private and metadata addresses need their origin listed.',
    }),
    action_timeout_ms: Type.Optional(
      Type.Integer({
        minimum: 100,
        maximum: 600_000,
        description: `Default timeout of one action (default ${BROWSER_DEFAULTS.actionTimeoutMs})`,
      }),
    ),
    allow_evaluate: Type.Optional(
      Type.Boolean({ description: 'Allow the evaluate action to run arbitrary script in the page (default false)' }),
    ),
    max_snapshot_chars: Type.Optional(
      Type.Integer({
        minimum: 256,
        maximum: 1_000_000,
        description: `Longest snapshot or extract result, in characters (default ${BROWSER_DEFAULTS.maxSnapshotChars})`,
      }),
    ),
    max_screenshot_bytes: Type.Optional(
      Type.Integer({
        minimum: 1024,
        maximum: 700 * 1024,
        description: `Largest screenshot kept (default ${BROWSER_DEFAULTS.maxScreenshotBytes}); a larger one fails the action`,
      }),
    ),
    max_page_bytes: Type.Optional(
      Type.Integer({
        minimum: 1024,
        maximum: 1024 * 1024 * 1024,
        description: `Largest page: its document and everything it loaded, in bytes (default ${BROWSER_DEFAULTS.maxPageBytes}); a larger one fails the navigation and is left`,
      }),
    ),
    max_concurrency: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 64, description: `Tasks run at once, one browser context each (default ${BROWSER_DEFAULTS.maxConcurrency})` }),
    ),
  },
  {
    additionalProperties: false,
    description: 'Settings of a browser agent',
    examples: [{ allowed_origins: ['https://example.com'], action_timeout_ms: 10_000 }],
  },
);
export type BrowserConfig = Static<typeof BrowserConfig>;
