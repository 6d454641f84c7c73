import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { invalidInput } from '../core/errors';
import { ROUTING_KEY_HEADER } from '../inference/routing';
import type { AppEnv } from './app-env';

const RoutingKey = z.string().min(1).max(256);

/**
 * `Modelflare-Routing-Key`: any text up to 256 characters (a user or session id) that keeps the
 * caller on one route of a split alias. It is only hashed, never stored or logged.
 */
export function routingKeyOf(c: Context<AppEnv>): string | undefined {
  const header = c.req.header(ROUTING_KEY_HEADER);
  if (header === undefined) return undefined;
  const key = RoutingKey.safeParse(header);
  if (!key.success) throw invalidInput(`header '${ROUTING_KEY_HEADER}': 1 to 256 characters`);
  return key.data;
}

/** The route a split alias answered with, for the caller. */
export const ROUTE_HEADER = 'Modelflare-Route';
