// The browser kind's scripted tasks as pure steps: actions checked before anything runs, one
// effect per action in order, events per action, the first failure ending the task and naming it.
import { describe, expect, it } from 'vitest';
import { actionDone, actionFailed, cancelScript, startScript, type Script } from '../../actors/browser/script.js';
import { AuroraError } from '../../runtime/errors.js';
import type { BrowserAction, TaskRequest } from '../../runtime/protocol/index.js';

const task = (actions?: BrowserAction[]): TaskRequest => ({ task_id: 't1', agent: 'web', prompt: 'browse', parameters: actions ? { actions } : {} });

describe('browser scripts', () => {
  it('refuses a task without actions, and an action missing what it needs, naming it', () => {
    const none = startScript(task());
    expect(none.script).toBeNull();
    expect(none.emits).toEqual([{ type: 'task.error', taskId: 't1', error: expect.objectContaining({ code: 'invalid_request' }) }]);
    const bad = startScript(task([{ action: 'navigate', url: 'https://example.com' }, { action: 'click' }]));
    expect(bad.emits[0]).toMatchObject({ type: 'task.error', error: { message: 'parameters.actions[1] (click) needs ref or selector' } });
  });

  it('runs the actions in order, emitting their events, and answers with every result', () => {
    const start = startScript(task([{ action: 'navigate', url: 'https://example.com' }, { action: 'screenshot' }]));
    expect(start.emits).toEqual([
      { type: 'effect', effectId: 't1:0', taskId: 't1', capability: 'browser.act', input: { index: 0, action: { action: 'navigate', url: 'https://example.com' } } },
    ]);
    const second = actionDone(start.script!, {
      result: { url: 'https://example.com/', status: 200, title: 'Example' },
      url: 'https://example.com/',
      navigated: { url: 'https://example.com/', status: 200, title: 'Example' },
    });
    expect(second.emits.map((e) => (e.type === 'task.event' ? e.event : e.type))).toEqual(['browser.action', 'browser.navigated', 'effect']);
    const done = actionDone(second.script!, {
      result: { artifact_id: 'a1' },
      url: 'https://example.com/',
      artifact: { artifact_id: 'a1', content_type: 'image/png', bytes: 10 },
    });
    expect(done.script).toBeNull();
    expect(done.emits.map((e) => (e.type === 'task.event' ? e.event : e.type))).toEqual(['browser.action', 'browser.screenshot', 'effect', 'task.details', 'task.done']);
    const release = done.emits[2]!;
    expect(release).toMatchObject({ type: 'effect', capability: 'browser.release' });
    const answer = done.emits[4] as { output: { output: { actions: unknown[] } } };
    expect(answer.output.output.actions).toEqual([
      { index: 0, action: 'navigate', url: 'https://example.com/', status: 200, title: 'Example' },
      { index: 1, action: 'screenshot', artifact_id: 'a1' },
    ]);
  });

  it('stops at the first failure, keeping its code and naming the action, and releases the page', () => {
    const start = startScript(task([{ action: 'navigate', url: 'https://example.com' }, { action: 'snapshot' }]));
    const failed = actionFailed(start.script!, new AuroraError('browser_crashed', 'Chromium disconnected'));
    expect(failed.script).toBeNull();
    const error = failed.emits.find((e) => e.type === 'task.error') as { error: AuroraError };
    expect(error.error.code).toBe('browser_crashed');
    expect(error.error.message).toBe('actions[0] (navigate) failed: Chromium disconnected');
    expect(failed.emits.some((e) => e.type === 'effect' && e.capability === 'browser.release')).toBe(true);
  });

  it('cancels the action in flight and releases the page', () => {
    const start = startScript(task([{ action: 'wait_for', ms: 1000 }]));
    expect(cancelScript(start.script as Script).map((e) => e.type)).toEqual(['effect.cancel', 'effect', 'task.cancelled']);
  });
});
