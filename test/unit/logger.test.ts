import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../runtime/clock.js';
import { createLogger } from '../../runtime/logger.js';

const SNAKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

function capture(level: Parameters<typeof createLogger>[0] = 'debug') {
  const chunks: string[] = [];
  const logger = createLogger(level, { service: 'aurora' }, (line) => chunks.push(line), createManualClock(Date.UTC(2026, 0, 2, 3, 4, 5)));
  return { logger, chunks };
}

describe('logger', () => {
  it('writes one JSON object per line with the level name, an ISO time, the message and snake_case fields', () => {
    const { logger, chunks } = capture();
    logger.info('task finished', { task_id: 't1', duration_ms: 12 });
    logger.child({ component: 'bus' }).warn('NATS disconnected; reconnecting', { waiting_requests: 2 });
    expect(chunks).toHaveLength(2);
    for (const chunk of chunks) {
      expect(chunk).not.toContain('\n');
      const line = JSON.parse(chunk) as Record<string, unknown>;
      for (const key of Object.keys(line)) expect(key).toMatch(SNAKE);
    }
    expect(JSON.parse(chunks[0]!)).toEqual({
      level: 'info',
      time: '2026-01-02T03:04:05.000Z',
      service: 'aurora',
      task_id: 't1',
      duration_ms: 12,
      msg: 'task finished',
    });
    expect(JSON.parse(chunks[1]!)).toMatchObject({ level: 'warn', component: 'bus', waiting_requests: 2 });
  });

  it('drops lines below LOG_LEVEL and writes nothing when silent', () => {
    const info = capture('info');
    info.logger.debug('noise');
    info.logger.info('kept');
    expect(info.chunks.map((c) => (JSON.parse(c) as { msg: string }).msg)).toEqual(['kept']);
    const silent = capture('silent');
    silent.logger.error('gone');
    expect(silent.chunks).toEqual([]);
  });

  it('keeps an error field’s name, message, code and stack', () => {
    const { logger, chunks } = capture();
    logger.error('defect', { err: Object.assign(new Error('boom'), { code: 'E_BOOM' }) });
    const err = (JSON.parse(chunks[0]!) as { err: Record<string, unknown> }).err;
    expect(err).toMatchObject({ name: 'Error', message: 'boom', code: 'E_BOOM' });
    expect(String(err.stack)).toContain('boom');
  });
});
