// The capabilities of browser agents: `browser.act` runs one action in the task's session (a
// context leased from the pool on the task's first action, checked by the agent's origin policy),
// `browser.release` closes it. A session also closes by itself at the task's deadline, so a task
// whose agent crashed before releasing it cannot hold a context for longer than it could run.
import type { Capability, EffectContext } from '../../actors/kind.js';
import { BROWSER_DEFAULTS, type BrowserConfig } from '../../actors/browser/config.js';
import { BROWSER_ACT, BROWSER_RELEASE, type ActInput, type ActOutput } from '../../actors/browser/effects.js';
import { isoNow, type Clock, type Timer } from '../../runtime/clock.js';
import type { Config } from '../../runtime/config.js';
import { AuroraError } from '../../runtime/errors.js';
import { newTaskId } from '../../runtime/ids.js';
import type { Logger } from '../../runtime/logger.js';
import type { Metrics } from '../../runtime/metrics.js';
import type { Resolver } from '../../runtime/net/index.js';
import type { BrowserAction } from '../../runtime/protocol/index.js';
import type { Store } from '../../runtime/store/index.js';
import { runAction, type ActionSettings } from '../browser/actions.js';
import { createOriginGuard, parseOriginPolicy } from '../browser/origin-guard.js';
import type { BrowserPool } from '../browser/pool.js';
import { BrowserSession } from '../browser/session.js';

export interface BrowserCapabilityDeps {
  readonly pool: BrowserPool;
  readonly store: Store;
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Replaces the system resolver (tests). */
  readonly resolve?: Resolver;
}

interface Entry {
  readonly session: Promise<BrowserSession>;
  readonly expiry: Timer;
}

/** Where the pages of a task may go and how much its actions may take (a browser agent's config, an llm agent's config.browser). */
export type BrowserSettings = Omit<BrowserConfig, 'max_concurrency'>;

export interface BrowserSessions {
  /** The task's session, opened on first use with `settings` (`field` names them in messages). */
  open(ctx: EffectContext, settings: BrowserSettings, field: string): Promise<BrowserSession>;
  close(taskId: string): void;
}

export function createBrowserSessions(deps: BrowserCapabilityDeps): BrowserSessions {
  const { pool, clock, logger } = deps;
  // At most one per running browser task: bounded by the agents' slots and the pool's contexts.
  const sessions = new Map<string, Entry>();

  const close = (taskId: string): void => {
    const entry = sessions.get(taskId);
    if (entry === undefined) return;
    sessions.delete(taskId);
    entry.expiry.cancel();
    entry.session.then(
      (s) => s.lease.release(),
      () => {},
    );
  };

  const openSession = async (ctx: EffectContext, settings: BrowserSettings, field: string): Promise<BrowserSession> => {
    const policy = parseOriginPolicy(settings.allowed_origins, field);
    if (typeof policy === 'string') throw new AuroraError('invalid_request', policy);
    const lease = await pool.lease(ctx.signal);
    const session = new BrowserSession(lease, createOriginGuard(policy, field, deps.resolve), logger.child({ agent: ctx.agent.name, task_id: ctx.taskId }));
    try {
      await session.guardRequests();
    } catch (err) {
      await lease.release();
      throw new AuroraError('browser_crashed', `the page could not be prepared: ${String(err)}`, { cause: err });
    }
    return session;
  };

  return {
    open(ctx, settings, field) {
      const known = sessions.get(ctx.taskId);
      if (known) return known.session;
      const session = openSession(ctx, settings, `${field}.allowed_origins`);
      const expiry = clock.setTimeout(() => close(ctx.taskId), Math.max(0, ctx.deadlineAt - clock.now()));
      sessions.set(ctx.taskId, { session, expiry });
      session.catch(() => {
        if (sessions.get(ctx.taskId)?.session === session) {
          sessions.delete(ctx.taskId);
          expiry.cancel();
        }
      });
      return session;
    },
    close,
  };
}

export interface BrowserActor {
  /** Runs one action in the task's session (opened on first use); rejects with an AuroraError. */
  act(action: BrowserAction, ctx: EffectContext, settings: BrowserSettings, field: string): Promise<ActOutput>;
  readonly sessions: BrowserSessions;
}

export function createBrowserActor(deps: BrowserCapabilityDeps): BrowserActor {
  const sessions = createBrowserSessions(deps);
  const { store, clock, metrics, pool } = deps;

  // One page does one thing at a time: a model's parallel tool calls of one turn run in call order.
  // At most one entry per running task, like the sessions.
  const tails = new Map<string, Promise<unknown>>();
  const inTurn = (taskId: string, perform: () => Promise<ActOutput>): Promise<ActOutput> => {
    const previous = tails.get(taskId) ?? Promise.resolve();
    const mine = previous.then(perform, perform);
    tails.set(taskId, mine);
    const forget = (): void => {
      if (tails.get(taskId) === mine) tails.delete(taskId);
    };
    mine.then(forget, forget);
    return mine;
  };

  const act = (action: BrowserAction, ctx: EffectContext, config: BrowserSettings, field: string): Promise<ActOutput> =>
    inTurn(ctx.taskId, () => actNow(action, ctx, config, field));

  const actNow = async (action: BrowserAction, ctx: EffectContext, config: BrowserSettings, field: string): Promise<ActOutput> => {
    const settings: ActionSettings = {
      timeoutMs: config.action_timeout_ms ?? BROWSER_DEFAULTS.actionTimeoutMs,
      maxChars: config.max_snapshot_chars ?? BROWSER_DEFAULTS.maxSnapshotChars,
      maxScreenshotBytes: config.max_screenshot_bytes ?? BROWSER_DEFAULTS.maxScreenshotBytes,
      maxPageBytes: config.max_page_bytes ?? BROWSER_DEFAULTS.maxPageBytes,
      allowEvaluate: config.allow_evaluate === true,
      faultInjection: deps.config.faultInjection,
    };
    const started = clock.monotonic();
    let outcome = 'failed';
    try {
      const session = await sessions.open(ctx, config, field);
      const done = await runAction(session, action, settings, {
        clock,
        signal: ctx.signal,
        browserPid: () => pool.pidOf(session.lease.worker),
        storeScreenshot: (data) => {
          const artifactId = newTaskId(clock);
          store.artifacts.put({
            artifact_id: artifactId,
            task_id: ctx.taskId,
            agent: ctx.agent.name,
            content_type: 'image/png',
            bytes: data.length,
            created_at: isoNow(clock),
            data,
          });
          return artifactId;
        },
      });
      outcome = 'ok';
      return { ...done, url: session.page.url() };
    } catch (err) {
      // A lost browser took the session with it: a later action of the task would only fail again.
      if (err instanceof AuroraError && err.code === 'browser_crashed') sessions.close(ctx.taskId);
      throw err;
    } finally {
      metrics.browserActionDuration.observe({ action: action.action, outcome }, (clock.monotonic() - started) / 1000);
    }
  };
  return { act, sessions };
}

/** browser.act and browser.release, for browser agents (their config is the settings). */
export function browserCapabilities(actor: BrowserActor): Record<string, Capability> {
  const act: Capability = (input, ctx) => actor.act((input as ActInput).action, ctx, ctx.agent.config as BrowserConfig, 'config');
  const release: Capability = async (_input, ctx) => {
    actor.sessions.close(ctx.taskId);
    return {};
  };
  return { [BROWSER_ACT]: act, [BROWSER_RELEASE]: release };
}
