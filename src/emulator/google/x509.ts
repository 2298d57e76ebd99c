/**
 * A minimal self-signed X.509 certificate (DER built by hand, signed sha256WithRSA), so that
 * `/oauth2/v1/certs` can serve real certificates as Google does.
 */
import {sign} from 'node:crypto';
import type {KeyObject} from 'node:crypto';

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...parts: Buffer[]): Buffer => tlv(0x30, ...parts);

function integer(bytes: Buffer): Buffer {
  let value = bytes;
  while (value.length > 1 && value[0] === 0) value = value.subarray(1);
  if ((value[0] ?? 0) & 0x80) value = Buffer.concat([Buffer.from([0]), value]);
  return tlv(0x02, value);
}

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * a + b];
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128))
      chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function utcTime(epochMs: number): Buffer {
  const iso = new Date(epochMs).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const text = `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return tlv(0x17, Buffer.from(text, 'ascii'));
}

function commonName(cn: string): Buffer {
  return sequence(tlv(0x31, sequence(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));
}

/** Options of {@link selfSignedCertificatePem}. */
export interface SelfSignedCertificateOptions {
  /** The certified public key. */
  publicKey: KeyObject;
  /** The key that signs (the private half of `publicKey`). */
  privateKey: KeyObject;
  /** Subject and issuer common name. */
  commonName: string;
  /** Serial number bytes (positive). */
  serial: Buffer;
  /** Start of validity, epoch milliseconds. */
  notBefore: number;
  /** End of validity, epoch milliseconds (before 2050, UTCTime). */
  notAfter: number;
}

/** A PEM `CERTIFICATE` for `publicKey`, self-signed with `privateKey` (sha256WithRSAEncryption). */
export function selfSignedCertificatePem(options: SelfSignedCertificateOptions): string {
  const algorithm = sequence(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00]));
  const name = commonName(options.commonName);
  const spki = options.publicKey.export({type: 'spki', format: 'der'});
  const tbs = sequence(
    tlv(0xa0, integer(Buffer.from([2]))),
    integer(options.serial),
    algorithm,
    name,
    sequence(utcTime(options.notBefore), utcTime(options.notAfter)),
    name,
    spki,
  );
  const signature = sign('sha256', tbs, options.privateKey);
  const der = sequence(tbs, algorithm, tlv(0x03, Buffer.from([0]), signature));
  const base64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`;
}
