import type { Config } from '../core/config';
import { invalidInput } from '../core/errors';

/*
 * Where the platform agrees to send webhooks. Outside local development: https only, and no
 * private, loopback, link-local or otherwise internal address, so a tenant cannot aim the
 * platform at infrastructure. (Workers cannot resolve DNS ahead of the request; names that
 * resolve inward are refused by Cloudflare's network itself.)
 */

const INTERNAL_NAMES = /(^|\.)(localhost|local|internal|intranet|home\.arpa)$/i;

function ipv4Private(host: string): boolean {
  const parts = host.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return false;
  const [a, b] = parts as [number, number, number, number];
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) ||
    a >= 224
  );
}

function ipv6Private(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (!h.includes(':')) return false;
  if (h === '::' || h === '::1') return true;
  if (/^f[cd]/.test(h) || /^fe[89ab]/.test(h)) return true;
  // IPv4-mapped addresses, which URL parsing writes in hex (::ffff:10.0.0.1 -> ::ffff:a00:1).
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (dotted) return ipv4Private(dotted[1]!);
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
  if (!hex) return false;
  const [hi, lo] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
  return ipv4Private(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
}

export function checkWebhookUrl(raw: string, config: Pick<Config, 'ENVIRONMENT'>): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidInput(`webhook URL '${raw.slice(0, 100)}' is not an absolute URL`);
  }
  const local = config.ENVIRONMENT === 'development' || config.ENVIRONMENT === 'test';
  if (url.username || url.password) throw invalidInput('webhook URLs may not carry credentials');
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) {
    throw invalidInput(`webhook URLs must use https${local ? ' (or http in local development)' : ''}`);
  }
  if (!local && (INTERNAL_NAMES.test(url.hostname) || ipv4Private(url.hostname) || ipv6Private(url.hostname))) {
    throw invalidInput(`webhook URL host '${url.hostname}' is a private, loopback or internal address`);
  }
  return url.toString();
}
