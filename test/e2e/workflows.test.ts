// Workflow definitions end to end: Aurora as its own process (one per mode), driven over HTTP from
// outside. Create, read, version, page through and delete, and every class of invalid definition
// refused with 400 naming the problem, with nothing stored.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../fixtures/fake-ollama.js';
import { client, describeModes, startAurora, tempDir, type Api, type AuroraProcess, type HttpReply, type TempDir } from '../helpers/e2e.js';
import type { ErrorBody } from '../helpers/http-bodies.js';
import { uniqueNamespace } from '../helpers/services.js';

interface WorkflowBody {
  name: string;
  version: number;
  description: string;
  input_schema: Record<string, unknown> | null;
  graph: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}
interface WorkflowPageBody {
  workflows: WorkflowBody[];
  next_cursor: string | null;
}

const agent = (id: string, input: string, name = 'writer') => ({ type: 'agent', id, agent: name, input });
const pipeline = (last = 'Merge: {{ steps.summarise.output }}') => ({
  type: 'sequence',
  id: 'main',
  steps: [agent('research', 'Research {{ input.topic }}'), agent('summarise', 'Summarise {{ steps.research.output }}'), agent('merge', last)],
});

await describeModes('workflow definitions', (mode) => {
  let fake: FakeOllama;
  let dir: TempDir;
  let server: AuroraProcess;
  let api: Api;

  beforeAll(async () => {
    fake = await startFakeOllama();
    dir = tempDir();
    server = await startAurora({
      ...mode.env,
      DATABASE_PATH: dir.file('aurora.db'),
      OLLAMA_HOST: fake.url,
      AURORA_NAMESPACE: uniqueNamespace('e2e_workflows'),
    });
    api = client(server.url);
    expect((await api.post('/api/v1/agents/', { name: 'writer' })).status).toBe(201);
  });

  afterAll(async () => {
    await server?.stop();
    await fake?.close();
    dir?.remove();
  });

  /** The 400's detail, after checking nothing of that name was stored. */
  async function refused(graph: unknown, name = 'bad'): Promise<string> {
    const res = await api.post<ErrorBody>('/api/v1/workflows', { name, graph });
    expect(res.status, res.text).toBe(400);
    expect((await api.get(`/api/v1/workflows/${name}`)).status).toBe(404);
    return res.body.detail;
  }

  it('creates version 1 with a Location, reads it back, and refuses the same name again with 409', async () => {
    const res = await api.post<WorkflowBody>('/api/v1/workflows', { name: 'brief', description: 'a pipeline', graph: pipeline() });
    expect(res.status, res.text).toBe(201);
    expect(res.headers.get('location')).toBe('/api/v1/workflows/brief');
    expect(res.body).toMatchObject({ name: 'brief', version: 1, description: 'a pipeline', input_schema: null, graph: pipeline() });
    expect(res.body.created_at).toBe(res.body.updated_at);
    const read = await api.get<WorkflowBody>('/api/v1/workflows/brief');
    expect(read.status).toBe(200);
    expect(read.body).toEqual(res.body);
    const again = await api.post<ErrorBody>('/api/v1/workflows', { name: 'brief', graph: pipeline() });
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatch(/Workflow brief already exists/);
    // 61 characters at most: the workflow's agent, wf.<name>, must still be an agent name.
    expect((await api.post('/api/v1/workflows', { name: 'w'.repeat(61), graph: pipeline() })).status).toBe(201);
    expect((await api.post('/api/v1/workflows', { name: 'w'.repeat(62), graph: pipeline() })).status).toBe(400);
  });

  it('adds a version per PUT, answers the current one, and keeps the old ones readable', async () => {
    await api.post('/api/v1/workflows', { name: 'versioned', graph: pipeline() });
    const schema = { type: 'object', properties: { topic: { type: 'string' } } };
    const put = await api.send<WorkflowBody>('PUT', '/api/v1/workflows/versioned', { input_schema: schema, graph: pipeline('Merge {{ steps.research.output }}') });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toMatchObject({ name: 'versioned', version: 2, description: '', input_schema: schema });
    expect((await api.get<WorkflowBody>('/api/v1/workflows/versioned')).body).toEqual(put.body);
    const v1 = await api.get<WorkflowBody>('/api/v1/workflows/versioned?version=1');
    expect(v1.body).toMatchObject({ version: 1, input_schema: null, graph: pipeline(), created_at: put.body.created_at });
    expect((await api.get<ErrorBody>('/api/v1/workflows/versioned?version=3')).body.detail).toBe('Workflow versioned has no version 3');
    expect((await api.get('/api/v1/workflows/versioned?version=zero')).status).toBe(400);
    // A PUT is checked like a create, and leaves the current version alone when refused.
    expect((await api.send('PUT', '/api/v1/workflows/versioned', { graph: agent('a', '{{ steps.a.output }}') })).status).toBe(400);
    expect((await api.get<WorkflowBody>('/api/v1/workflows/versioned')).body.version).toBe(2);
    expect((await api.send('PUT', '/api/v1/workflows/nobody', { graph: pipeline() })).status).toBe(404);
  });

  it('pages through every workflow by name, following next_cursor and Link', async () => {
    for (const name of ['page-c', 'page-a', 'page-b']) expect((await api.post('/api/v1/workflows', { name, graph: pipeline() })).status).toBe(201);
    const seen: string[] = [];
    let path: string | undefined = '/api/v1/workflows?limit=2';
    let pages = 0;
    while (path !== undefined) {
      const res: HttpReply<WorkflowPageBody> = await api.get<WorkflowPageBody>(path);
      expect(res.status, res.text).toBe(200);
      seen.push(...res.body.workflows.map((w) => w.name));
      const link = res.headers.get('link');
      expect(link !== null, 'a Link exactly when there is a next page').toBe(res.body.next_cursor !== null);
      path = link === null ? undefined : /^<([^>]+)>; rel="next"$/.exec(link)![1];
      pages += 1;
    }
    expect(pages).toBeGreaterThan(1);
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(expect.arrayContaining(['page-a', 'page-b', 'page-c', 'brief']));
    expect((await api.get('/api/v1/workflows?cursor=bogus')).status).toBe(400);
  });

  it('deletes a workflow with all its versions (204), then answers 404', async () => {
    await api.post('/api/v1/workflows', { name: 'doomed', graph: pipeline() });
    await api.send('PUT', '/api/v1/workflows/doomed', { graph: pipeline() });
    const del = await api.del('/api/v1/workflows/doomed');
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expect((await api.get<ErrorBody>('/api/v1/workflows/doomed')).body.detail).toBe('Workflow doomed not found');
    expect((await api.get('/api/v1/workflows/doomed?version=1')).status).toBe(404);
    expect((await api.del('/api/v1/workflows/doomed')).status).toBe(404);
  });

  it('answers a retried create with the same Idempotency-Key once, replayed', async () => {
    const body = { name: 'once', graph: pipeline() };
    const headers = { 'idempotency-key': 'wf-once-1' };
    const first = await api.post<WorkflowBody>('/api/v1/workflows', body, { headers });
    const second = await api.post<WorkflowBody>('/api/v1/workflows', body, { headers });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.headers.get('location')).toBe('/api/v1/workflows/once');
    expect(second.body).toEqual(first.body);
  });

  it('refuses a cycle or an unresolvable reference, naming both ids', async () => {
    const later = await refused({ type: 'sequence', id: 'main', steps: [agent('draft', 'Use {{ steps.review.output }}'), agent('review', 'x')] });
    expect(later).toBe('graph.steps[0] (draft): input: steps.review.output reads review, which runs after draft (a cycle)');
    expect(await refused(agent('solo', '{{ steps.solo.output }}'))).toMatch(/solo's own output \(a cycle\)/);
    expect(await refused(agent('solo', '{{ steps.ghost.output }}'))).toMatch(/steps.ghost.output names no node/);
    const sibling = await refused({ type: 'parallel', id: 'p', branches: [agent('a', 'x'), agent('b', '{{ steps.a.output }}')] });
    expect(sibling).toMatch(/\(b\).*reads a, which is not sure to have finished when b runs/);
    expect(await refused(agent('t', 'Hi {{ input.name | upper }}'))).toMatch(/is not a path/);
  });

  it('refuses an unknown node type, a misspelt field and a duplicate id', async () => {
    expect(await refused({ type: 'sequence', id: 'main', steps: [agent('a', 'x'), { type: 'agnet', id: 'b', agent: 'writer', input: 'x' }] })).toBe(
      'graph.steps[1].type: unknown type "agnet"',
    );
    expect(await refused({ type: 'agent', id: 'a', agent: 'writer', prompt: 'x', input: 'x' })).toBe('graph.prompt is not a known field');
    expect(await refused({ type: 'sequence', id: 'main', steps: [agent('a', 'x'), agent('a', 'y')] })).toMatch(/node id a is already used by graph.steps\[0\]/);
  });

  it('refuses definitions over the limits', async () => {
    const wide = { type: 'sequence', id: 'main', steps: Array.from({ length: 20 }, (_, i) => ({ type: 'parallel', id: `p${i}`, branches: Array.from({ length: 10 }, (_, j) => agent(`n${i}_${j}`, 'x')) })) };
    expect(await refused(wide)).toMatch(/the workflow has more than 200 nodes/);
    let deep: Record<string, unknown> = agent('leaf', 'x');
    for (let i = 0; i < 12; i++) deep = { type: 'sequence', id: `s${i}`, steps: [deep] };
    expect(await refused(deep)).toMatch(/\(leaf\): nodes nest deeper than 12 levels/);
    expect(await refused({ type: 'parallel', id: 'p', join: 'quorum:3', branches: [agent('a', 'x'), agent('b', 'x')] })).toBe(
      'graph (p): join quorum:3 needs more branches than the 2 it has',
    );
    expect(await refused({ type: 'map', id: 'm', items: 'input.list', max_concurrency: 1000, node: agent('a', '{{ item }}') })).toMatch(/^graph.max_concurrency: must be <= 256/);
    expect(await refused({ type: 'loop', id: 'l', max_iterations: 1000, node: agent('a', 'x') })).toMatch(/^graph.max_iterations: must be <= 100/);
  });

  it('refuses a node naming an agent that does not exist, and a schema that does not compile', async () => {
    expect(await refused({ type: 'sequence', id: 'main', steps: [agent('a', 'x'), agent('b', 'x', 'ghost')] })).toBe('graph.steps[1] (b): agent ghost not found');
    expect(await refused({ type: 'router', id: 'r', agent: 'nobody', input: 'x', routes: { go: agent('a', 'x') } })).toBe('graph (r): agent nobody not found');
    expect(await refused({ ...agent('a', 'x'), output_schema: { type: 'nonsense' } })).toMatch(/output_schema is not a valid JSON Schema/);
    expect(await refused(agent('a', 'x', 'wf.bad'))).toBe('graph (a): agent wf.bad runs this workflow itself (a cycle)');
  });

  it('answers 404 for an unknown workflow on every route that names one', async () => {
    expect((await api.get<ErrorBody>('/api/v1/workflows/unknown')).body).toEqual({ detail: 'Workflow unknown not found' });
    expect((await api.send('PUT', '/api/v1/workflows/unknown', { graph: pipeline() })).status).toBe(404);
    expect((await api.del('/api/v1/workflows/unknown')).status).toBe(404);
  });
});
