import { errorFields, type Logger } from './logger';

/** Waits before each retry of work that follows a committed change. */
const RETRY_DELAYS_MS = [250, 1000, 4000];

/**
 * Work that records a change already committed (its audit entry, its webhook event): tried once
 * while the caller waits, so the record is there when the answer is; if that fails, retried
 * after the response, never turned into an error for a change that happened.
 */
export async function afterCommit(
  deps: { logger: Logger; defer: (work: Promise<unknown>) => void },
  what: string,
  work: () => Promise<unknown>,
): Promise<void> {
  try {
    await work();
  } catch (err) {
    deps.logger.warn(`${what} failed after the change was committed; retrying`, errorFields(err));
    deps.defer(retry(deps.logger, what, work));
  }
}

async function retry(logger: Logger, what: string, work: () => Promise<unknown>): Promise<void> {
  for (const delay of RETRY_DELAYS_MS) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    try {
      await work();
      return;
    } catch (err) {
      logger.warn(`${what} failed again`, errorFields(err));
    }
  }
  logger.error(`${what} was lost after ${RETRY_DELAYS_MS.length + 1} attempts`, { what });
}
