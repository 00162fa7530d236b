// The effects a browser agent asks its host for; the host performs them with the node's browser
// pool (supervisors/capabilities/browser.ts). The machine only decides.
import type { BrowserAction } from '../../runtime/protocol/index.js';

/** Runs one action in the task's browser context (opened on the task's first action). */
export const BROWSER_ACT = 'browser.act';
/** Closes the task's browser context. Never fails. */
export const BROWSER_RELEASE = 'browser.release';

export interface ActInput {
  readonly index: number;
  readonly action: BrowserAction;
}

export interface ActOutput {
  /** What the action returns to the task (its entry in the result's `actions`). */
  readonly result: Record<string, unknown>;
  /** The page's URL after the action. */
  readonly url: string;
  /** Set when the action loaded a new document. */
  readonly navigated?: { url: string; status: number | null; title: string };
  /** Set when the action stored a screenshot. */
  readonly artifact?: { artifact_id: string; content_type: string; bytes: number };
}
