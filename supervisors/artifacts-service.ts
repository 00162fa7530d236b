// The artifacts service: hands the gateway an artifact (a browser agent's screenshot) by id over
// the bus. Artifacts are written by the browser capability and pruned by the store's bounds.
import type { Bus, Subscription } from '../runtime/bus/bus.js';
import { AuroraError } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';
import { serveOperation } from '../runtime/rpc.js';
import type { Store } from '../runtime/store/index.js';
import type { Subjects } from '../runtime/subjects.js';

export interface ArtifactsServiceDeps {
  bus: Bus;
  subjects: Subjects;
  store: Store;
  logger: Logger;
}

export function createArtifactsService(deps: ArtifactsServiceDeps) {
  const { bus, subjects, store } = deps;
  let subscription: Subscription | undefined;
  return {
    start(): void {
      // Artifacts live in each node's store beside the tasks that made them: the registry's queue group.
      subscription = serveOperation(
        bus,
        subjects,
        'artifacts.get',
        ({ artifact_id }) => {
          const artifact = store.artifacts.get(artifact_id);
          if (!artifact) throw new AuroraError('artifact_not_found', `Artifact ${artifact_id} not found (unknown, or dropped by ARTIFACTS_MAX / ARTIFACTS_MAX_BYTES)`);
          const { data, ...record } = artifact;
          return { ...record, data_base64: data.toString('base64') };
        },
        { queue: subjects.queue('registry'), logger: deps.logger },
      );
    },
    stop(): void {
      subscription?.unsubscribe();
    },
  };
}
