import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { depsFor } from '../helpers';
import { configFrom } from '../../workers/core/config';
import type { Env } from '../../workers/platform/env';
import { database } from '../../workers/storage/db';
import { webhookDeliveries, webhookEndpoints } from '../../workers/storage/schema';
import { deliver } from '../../workers/webhooks/delivery';
import { ipv6Groups, nonPublicIpv6 } from '../../workers/webhooks/ip-ranges';
import { checkWebhookUrl } from '../../workers/webhooks/url-policy';
import { eq } from 'drizzle-orm';

const production = configFrom({ ...env, ENVIRONMENT: 'production' } as Env);
const refuse = (url: string) => expect(() => checkWebhookUrl(url, production), url).toThrow(/refused|port/);

describe('webhook URL policy in production', () => {
  // Every form issue 13 found passing, each with and without a path, port or trailing dot.
  const issueExamples = [
    'https://localhost./',
    'https://metadata.google.internal./computeMetadata/v1/',
    'https://[::127.0.0.1]/',
    'https://[::ffff:0:7f00:1]/',
    'https://[64:ff9b::a9fe:a9fe]/latest/meta-data',
    'https://[2002:7f00:1::]/',
    'https://[fec0::1]/',
  ];
  for (const url of issueExamples) it(`refuses ${url}`, () => refuse(url));

  it('refuses every IPv6 form that embeds a non-public IPv4 address', () => {
    for (const url of [
      'https://[::ffff:127.0.0.1]/', // IPv4-mapped, dotted (the URL parser writes it in hex)
      'https://[::ffff:a9fe:a9fe]/', // mapped 169.254.169.254
      'https://[::10.0.0.1]/', // IPv4-compatible
      'https://[::ffff:0:10.1.2.3]/', // SIIT
      'https://[::ffff:0:a9fe:a9fe]/',
      'https://[64:ff9b::7f00:1]/', // NAT64 of 127.0.0.1
      'https://[64:ff9b::192.168.0.1]/',
      'https://[64:ff9b:1::1.2.3.4]/', // local-use NAT64: whatever it embeds
      'https://[2002:a00:1::1]/', // 6to4 of 10.0.0.1
      'https://[2002:a9fe:a9fe::]/', // 6to4 of 169.254.169.254
      'https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', // Teredo
      'https://[2001::1]/',
    ])
      refuse(url);
  });

  it('refuses loopback, unspecified, unique-local, site-local, link-local, multicast and documentation IPv6', () => {
    for (const url of [
      'https://[::1]/',
      'https://[::]/',
      'https://[0:0:0:0:0:0:0:1]/',
      'https://[fc00::1]/',
      'https://[fd12:3456::1]/',
      'https://[fec0::1]/',
      'https://[feff::1]/',
      'https://[fe80::1]/',
      'https://[ff02::1]/',
      'https://[2001:db8::1]/',
      'https://[100::1]/',
    ])
      refuse(url);
  });

  it('refuses internal names with or without the trailing dot, and single-label names', () => {
    for (const url of [
      'https://localhost/',
      'https://localhost./',
      'https://LOCALHOST./',
      'https://api.localhost/',
      'https://api.localhost./',
      'https://printer.local/',
      'https://printer.local./',
      'https://metadata.google.internal/',
      'https://metadata.google.internal./',
      'https://metadata.google.internal../',
      'https://router.home.arpa./',
      'https://metadata/',
      'https://metadata./',
    ])
      refuse(url);
  });

  it('refuses non-public IPv4 in every spelling the URL parser accepts', () => {
    for (const url of [
      'https://127.0.0.1/',
      'https://127.0.0.1./',
      'https://2130706433/', // 127.0.0.1 as one number
      'https://0x7f.1/',
      'https://0177.0.0.1/',
      'https://169.254.169.254/',
      'https://0.0.0.0/',
      'https://192.0.2.1/',
      'https://198.51.100.7/',
      'https://203.0.113.9/',
      'https://255.255.255.255/',
    ])
      refuse(url);
  });

  it('allows only ports 443 and 80 unless WEBHOOK_ALLOWED_PORTS widens them', () => {
    expect(checkWebhookUrl('https://hooks.example.com:443/x', production)).toBe('https://hooks.example.com/x');
    expect(checkWebhookUrl('https://hooks.example.com:80/x', production)).toBe('https://hooks.example.com:80/x');
    for (const port of [22, 6379, 8080, 8443, 9000]) {
      expect(() => checkWebhookUrl(`https://hooks.example.com:${port}/x`, production)).toThrow(
        `webhook URL port ${port} is not allowed`,
      );
    }
    const widened = configFrom({ ...env, ENVIRONMENT: 'production', WEBHOOK_ALLOWED_PORTS: '8443, 9000' } as Env);
    expect(checkWebhookUrl('https://hooks.example.com:8443/x', widened)).toBe('https://hooks.example.com:8443/x');
    expect(checkWebhookUrl('https://hooks.example.com:9000/x', widened)).toBe('https://hooks.example.com:9000/x');
    expect(() => checkWebhookUrl('https://hooks.example.com:8080/x', widened)).toThrow(/8443, 9000/);
    expect(() => configFrom({ ...env, WEBHOOK_ALLOWED_PORTS: '70000' } as Env)).toThrow(/WEBHOOK_ALLOWED_PORTS/);
    expect(() => configFrom({ ...env, WEBHOOK_ALLOWED_PORTS: 'https' } as Env)).toThrow(/port numbers/);
  });

  it('still accepts public hosts and public IPv6 (including mapped public IPv4)', () => {
    for (const url of [
      'https://hooks.example.com/modelflare',
      'https://hooks.example.com./modelflare',
      'https://93.184.216.34/hook',
      'https://[2606:4700:4700::1111]/hook',
      'https://[::ffff:93.184.216.34]/hook',
      'https://[64:ff9b::5db8:d822]/hook',
      'https://[2002:5db8:d822::1]/hook',
      'https://internal.example.com/hook', // "internal" as a label, not the suffix
    ])
      expect(() => checkWebhookUrl(url, production), url).not.toThrow();
  });

  it('names what it refused', () => {
    expect(() => checkWebhookUrl('https://[::ffff:0:7f00:1]/', production)).toThrow(
      "webhook URL host '[::ffff:0:7f00:1]' is the SIIT form of the non-public IPv4 address 127.0.0.1",
    );
    expect(() => checkWebhookUrl('https://[64:ff9b::a9fe:a9fe]/', production)).toThrow(/NAT64 .* 169\.254\.169\.254/);
    expect(() => checkWebhookUrl('https://metadata.google.internal./', production)).toThrow(/an internal name/);
  });
});

describe('IPv6 literals', () => {
  it('parses every notation into eight groups', () => {
    expect(ipv6Groups('[::]')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(ipv6Groups('::1')).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups('1::')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(ipv6Groups('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
    expect(ipv6Groups('1:2:3:4:5:6:7.8.9.10')).toEqual([1, 2, 3, 4, 5, 6, 0x708, 0x90a]);
    expect(ipv6Groups('1::8.8.8.8')).toEqual([1, 0, 0, 0, 0, 0, 0x808, 0x808]);
    expect(ipv6Groups('2001:db8:0:0:0:0:2:1')).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 2, 1]);
  });
  it('answers undefined for what is not an IPv6 literal', () => {
    for (const text of [
      'example.com',
      '1.2.3.4',
      '1:2:3',
      ':::1',
      '1::2::3',
      '12345::',
      '::1.2.3',
      '::1.2.3.256',
      'fe80::1%eth0',
    ])
      expect(ipv6Groups(text), text).toBeUndefined();
    expect(nonPublicIpv6('example.com')).toBeUndefined();
  });
});

describe('ENVIRONMENT', () => {
  it('means production when unset: development is only what the local setup says', () => {
    const { ENVIRONMENT: _, ...rest } = env;
    expect(configFrom(rest as Env).ENVIRONMENT).toBe('production');
    expect(() => checkWebhookUrl('http://127.0.0.1:9/hook', configFrom(rest as Env))).toThrow(/https/);
  });
  it('keeps http, loopback and any port in local development and tests', () => {
    for (const ENVIRONMENT of ['development', 'test']) {
      const local = configFrom({ ...env, ENVIRONMENT } as Env);
      expect(checkWebhookUrl('http://127.0.0.1:9000/hook', local)).toBe('http://127.0.0.1:9000/hook');
    }
  });
});

describe('the policy at delivery time', () => {
  it('does not send to a URL saved before the rule refused it, and does not retry', async () => {
    const db = database(env.DB);
    const id = `whe_policy_${crypto.randomUUID().slice(0, 8)}`;
    await db.insert(webhookEndpoints).values({
      id,
      workspaceId: 'ws_policy',
      url: 'https://localhost./hook',
      events: ['job.succeeded'],
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      createdBy: 'test',
      createdAt: Date.now(),
    });
    const deliveryId = `msg_policy_${crypto.randomUUID().slice(0, 8)}`;
    await db.insert(webhookDeliveries).values({
      id: deliveryId,
      workspaceId: 'ws_policy',
      endpointId: id,
      event: 'job.succeeded',
      payload: '{}',
      createdAt: Date.now(),
    });
    let fetched = 0;
    const realFetch = globalThis.fetch;
    globalThis.fetch = async () => {
      fetched += 1;
      return new Response('ok');
    };
    try {
      await deliver({ ...depsFor(), db, config: production }, deliveryId);
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(fetched).toBe(0);
    const row = await db.query.webhookDeliveries.findFirst({ where: eq(webhookDeliveries.id, deliveryId) });
    expect(row).toMatchObject({ status: 'failed', attempts: 1 });
    expect(row!.lastError).toMatch(/internal name/);
  });
});
