import type { Env } from './core/env';
import { createApp } from './http/app';

export { RateLimiter } from './ratelimit/rate-limiter';

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
