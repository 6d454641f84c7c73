/*
 * Which literal IP addresses are not on the public internet. The platform's outbound requests
 * (webhooks) must never reach the network it runs in: loopback, private, link-local (cloud
 * metadata at 169.254.169.254) and every IPv6 form that carries such an IPv4 address inside it
 * (mapped, compatible, SIIT, NAT64, 6to4), since a gateway on the way may translate it back.
 */

function ipv4Parts(host: string): [number, number, number, number] | undefined {
  const parts = host.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p))) return undefined;
  const numbers = parts.map(Number);
  return numbers.every((n) => n <= 255) ? (numbers as [number, number, number, number]) : undefined;
}

function ipv4NotPublic([a, b, c]: readonly number[]): boolean {
  return (
    a === 0 || // "this network"
    a === 10 ||
    a === 127 ||
    (a === 100 && b! >= 64 && b! <= 127) || // carrier-grade NAT
    (a === 169 && b === 254) || // link-local, cloud metadata
    (a === 172 && b! >= 16 && b! <= 31) ||
    (a === 192 && b === 0 && (c === 0 || c === 2)) || // IETF assignments, documentation
    (a === 192 && b === 88 && c === 99) || // 6to4 relay anycast
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    (a === 198 && b === 51 && c === 100) ||
    (a === 203 && b === 0 && c === 113) ||
    a! >= 224 // multicast, reserved, broadcast
  );
}

/** A dotted IPv4 address that is not public; false for anything that is not an IPv4 literal. */
export function isNonPublicIpv4(host: string): boolean {
  const parts = ipv4Parts(host);
  return parts !== undefined && ipv4NotPublic(parts);
}

/** The eight 16-bit groups of an IPv6 literal (brackets allowed), or undefined when it is not one. */
export function ipv6Groups(literal: string): number[] | undefined {
  let text = literal.replace(/^\[|\]$/g, '').toLowerCase();
  if (!text.includes(':') || text.includes('%')) return undefined;
  const tail: number[] = [];
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = ipv4Parts(dotted[1]!);
    if (!v4) return undefined;
    tail.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    text = `${text.slice(0, dotted.index)}:`;
    if (text.endsWith(':::')) return undefined;
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':'));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if ([...head, ...rest].some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
  const given = head.length + rest.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return undefined;
  const zeros = new Array<number>(8 - given).fill(0);
  return [...head.map((g) => parseInt(g, 16)), ...zeros, ...rest.map((g) => parseInt(g, 16)), ...tail];
}

const v4Of = (hi: number, lo: number) => [hi >> 8, hi & 255, lo >> 8, lo & 255];
const allZero = (groups: number[]) => groups.every((g) => g === 0);

/** Why an IPv6 literal is not a public destination, or undefined when it is (or is not IPv6). */
export function nonPublicIpv6(literal: string): string | undefined {
  const g = ipv6Groups(literal);
  if (!g) return undefined;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [number, number, number, number, number, number, number, number];
  const embedded = (hi: number, lo: number, form: string) =>
    ipv4NotPublic(v4Of(hi, lo)) ? `${form} of the non-public IPv4 address ${v4Of(hi, lo).join('.')}` : undefined;

  if (allZero(g)) return 'the unspecified address';
  if (allZero(g.slice(0, 7)) && g7 === 1) return 'loopback';
  // ::a.b.c.d (IPv4-compatible), ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (SIIT)
  if (allZero(g.slice(0, 6))) return embedded(g6, g7, 'an IPv4-compatible form');
  if (allZero(g.slice(0, 5)) && g5 === 0xffff) return embedded(g6, g7, 'the IPv4-mapped form');
  if (allZero(g.slice(0, 4)) && g4 === 0xffff && g5 === 0) return embedded(g6, g7, 'the SIIT form');
  // NAT64: the well-known prefix carries the IPv4 address in its last 32 bits; the local-use
  // prefix 64:ff9b:1::/48 is by definition translated inside someone's network.
  if (g0 === 0x64 && g1 === 0xff9b && allZero([g2, g3, g4, g5])) return embedded(g6, g7, 'the NAT64 form');
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return 'a local-use NAT64 address (64:ff9b:1::/48)';
  if (g0 === 0x2002) return embedded(g1, g2, 'the 6to4 form');
  // Teredo tunnels carry a server and an (inverted) client IPv4 address: never a webhook receiver.
  if (g0 === 0x2001 && g1 === 0) return 'a Teredo tunnel address (2001::/32)';
  if (g0 === 0x2001 && g1 === 0xdb8) return 'a documentation address (2001:db8::/32)';
  if (g0 === 0x100 && allZero([g1, g2, g3])) return 'a discard-only address (100::/64)';
  if ((g0 & 0xfe00) === 0xfc00) return 'a unique-local address (fc00::/7)';
  if ((g0 & 0xffc0) === 0xfe80) return 'a link-local address (fe80::/10)';
  if ((g0 & 0xffc0) === 0xfec0) return 'a site-local address (fec0::/10)';
  if ((g0 & 0xff00) === 0xff00) return 'a multicast address (ff00::/8)';
  return undefined;
}
