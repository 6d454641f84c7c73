import type { Config } from '../core/config';
import { invalidInput } from '../core/errors';
import { isNonPublicIpv4, nonPublicIpv6 } from './ip-ranges';

/*
 * Where the platform agrees to send webhooks. Outside local development: https only, ports 443
 * and 80 (plus WEBHOOK_ALLOWED_PORTS), and no private, loopback, link-local or otherwise
 * internal address, so a tenant cannot aim the platform at infrastructure. Workers cannot
 * resolve DNS ahead of the request; names that resolve inward are refused by Cloudflare's
 * network itself, which is why literal addresses and internal names are what is checked here.
 * It is checked when a URL is saved and again before each delivery (a rule tightened since
 * then applies to URLs saved before).
 */

/** Suffixes that only ever resolve inside a network (RFC 6761, RFC 6762, RFC 8375, common practice). */
const INTERNAL_NAMES = /(^|\.)(localhost|local|internal|intranet|lan|localdomain|home\.arpa)$/;

const DEFAULT_PORTS = new Set(['', '80', '443']);

export type UrlPolicyConfig = Pick<Config, 'ENVIRONMENT'> & Partial<Pick<Config, 'WEBHOOK_ALLOWED_PORTS'>>;

const isLocal = (config: UrlPolicyConfig) => config.ENVIRONMENT === 'development' || config.ENVIRONMENT === 'test';

/** Why the host is not a public destination, or undefined. */
function internalHost(hostname: string): string | undefined {
  if (hostname.startsWith('[')) return nonPublicIpv6(hostname);
  // `localhost.` and `metadata.google.internal.` are the same names as without the dot.
  const name = hostname.toLowerCase().replace(/\.+$/, '');
  if (isNonPublicIpv4(name)) return 'a private, loopback, link-local or reserved IPv4 address';
  if (INTERNAL_NAMES.test(name)) return 'an internal name';
  if (!name.includes('.')) return 'a single-label name, which only resolves inside a network';
  return undefined;
}

/**
 * The URL in normal form, or an invalid_argument error naming what is wrong with it. `what`
 * names the URL in messages (remote inference servers follow the same policy).
 */
export function checkWebhookUrl(raw: string, config: UrlPolicyConfig, what = 'webhook URL'): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidInput(`${what} '${raw.slice(0, 100)}' is not an absolute URL`);
  }
  const local = isLocal(config);
  if (url.username || url.password) throw invalidInput(`${what}s may not carry credentials`);
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) {
    throw invalidInput(`${what}s must use https${local ? ' (or http in local development)' : ''}`);
  }
  if (local) return url.toString();
  const why = internalHost(url.hostname);
  if (why) {
    throw invalidInput(`${what} host '${url.hostname}' is ${why}: private, loopback or internal addresses are refused`);
  }
  const extra = config.WEBHOOK_ALLOWED_PORTS ?? [];
  if (!DEFAULT_PORTS.has(url.port) && !extra.includes(Number(url.port))) {
    throw invalidInput(
      `${what} port ${url.port} is not allowed: use 443 (or 80${extra.length ? `, ${extra.join(', ')}` : ''})`,
    );
  }
  return url.toString();
}
