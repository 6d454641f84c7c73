import type { Env } from './core/env';
import { createApp } from './http/app';

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
