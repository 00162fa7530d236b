// GET /api/v1/cluster without NATS: the one embedded process describes itself, with no lease.
import { afterAll, beforeAll, expect, it, describe } from 'vitest';
import { client, startAurora, tempDir, type AuroraProcess, type TempDir } from '../helpers/e2e.js';
import type { ClusterBody } from '../helpers/http-bodies.js';

describe('Cluster view of an embedded process', () => {
  let dir: TempDir;
  let aurora: AuroraProcess;

  beforeAll(async () => {
    dir = tempDir();
    aurora = await startAurora({ DATABASE_PATH: dir.file('aurora.db'), AURORA_NAMESPACE: 'solo' });
  });

  afterAll(async () => {
    await aurora?.kill('SIGKILL');
    dir?.remove();
  });

  it('answers the single in-process node, alive, owning everything, with no lease', async () => {
    const api = client(aurora.url);
    expect((await api.post('/api/v1/agents/', { name: 'alone' })).status).toBe(201);
    const res = await api.get<ClusterBody>('/api/v1/cluster');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ mode: 'embedded', namespace: 'solo', lease: null });
    expect(res.body.nodes).toEqual([
      expect.objectContaining({ node_id: 'embedded', role: 'all', pid: aurora.pid, alive: true, holds_lease: true, agents: 1, heartbeat_age_ms: 0 }),
    ]);
  });
});
