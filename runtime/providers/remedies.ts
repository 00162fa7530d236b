// What a user does about the provider's expected failures, said once: the error details of tasks
// and model routes and the start-up line use the same words.

/** The tail of an llm_unavailable detail: how to make Ollama answer. */
export function unreachableRemedy(): string {
  return 'start Ollama (`ollama serve`; install it from https://ollama.com/download) or set OLLAMA_HOST to the address it listens on';
}

/** The tail of a model_not_found detail: how to get the model. */
export function pullRemedy(model: string): string {
  return `pull it with POST /api/v1/models/pull {"name":${JSON.stringify(model)}} (or \`ollama pull ${model}\`)`;
}

/** The detail of a model the provider does not have installed. */
export function modelMissingMessage(model: string): string {
  return `Model ${model} not found; ${pullRemedy(model)}`;
}
