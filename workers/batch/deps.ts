import type { ModelRunDeps } from '../inference/model-runs';
import type { ServedVersionDeps } from '../inference/served-versions';
import type { ObserveDeps } from '../monitoring/observe';
import type { EventDeps } from '../webhooks/events';

/** What batch jobs touch: models to run, versions to pin, counts to keep, events to announce. */
export interface BatchDeps extends ModelRunDeps, ServedVersionDeps, ObserveDeps, EventDeps {
  batchQueue: Queue;
}
