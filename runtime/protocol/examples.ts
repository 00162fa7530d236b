// The values every example of the API document shares. They tell one story, in the order a
// newcomer clicks through Swagger: create the agent `writer` on `llama2`, load the model, run a task
// on `writer`, define a workflow whose steps call `writer`, run it. Examples that disagree (an agent
// created as one name and executed as another) make the first "Try it out" a 404.
export const EXAMPLE = {
  agent: 'writer',
  agentId: '3f1c9b2e-6d4a-4e8f-9a71-0c2d5e8b4f10',
  agentDescription: 'Drafts short product copy',
  agentType: 'llm',
  model: 'llama2',
  provider: 'ollama',
  system: 'You write clear, friendly product copy. Answer in at most three sentences.',
  prompt: 'Write a two-sentence description of a solar-powered desk lamp for an online shop.',
  answer:
    'Light your desk with sunshine: this solar-powered lamp charges by day and glows for up to ten hours by night. ' +
    'Three brightness levels, a flexible neck and zero cables make it the easiest upgrade your workspace will get.',
  taskId: '01936f4e-2b7a-7c1d-9e3f-5a6b7c8d9e0f',
  threadId: '8d2f4a6c-1b3e-4c5d-9f7a-2e4c6b8d0a13',
  threadTitle: 'Desk lamp launch copy',
  pullId: '01936f4d-9a10-7b2c-8d3e-4f5a6b7c8d9e',
  workflow: 'product-blurb',
  workflowDescription: 'Drafts a product blurb with writer, then tightens it',
  runId: '01936f50-1c2d-7e3f-8a4b-5c6d7e8f9a0b',
  artifactId: '01936f51-4a5b-7c6d-8e9f-0a1b2c3d4e5f',
  stepTaskId: '01936f50-1d00-7a1b-9c2d-3e4f5a6b7c8d',
  product: 'solar-powered desk lamp',
  time: '2025-01-31T12:00:00.000Z',
  later: '2025-01-31T12:00:04.213Z',
} as const;
