import { gunzipSync } from 'node:zlib';

import { DataSchemaError } from './data-schema.error';

const BLOCK = 512;

/**
 * Reads the regular files of a gzip-compressed tar archive into memory (POSIX.1-1988 ustar headers in
 * 512-byte blocks, header checksums verified; GNU `L` long names and pax `path` records honoured; other
 * entry types such as directories skipped). The archive must end with its zero-block end marker, so a
 * truncated file is detected rather than read as a shorter archive.
 * @param gz the `.tar.gz` bytes
 * @param file name used in error messages
 * @returns member path → contents
 * @throws DataSchemaError if the gzip stream or the tar structure is damaged or truncated
 */
export function readTarGzEntries(gz: Uint8Array, file: string): Map<string, Uint8Array> {
  let tar: Uint8Array;
  try {
    tar = gunzipSync(gz);
  } catch (err) {
    throw new DataSchemaError(`${file}: gzip stream is damaged or truncated (${(err as Error).message})`);
  }
  return readTarEntries(tar, file);
}

/**
 * Reads the regular files of an uncompressed tar archive; see {@link readTarGzEntries}.
 * @param tar the tar bytes
 * @param file name used in error messages
 */
export function readTarEntries(tar: Uint8Array, file: string): Map<string, Uint8Array> {
  const entries = new Map<string, Uint8Array>();
  let nextName: string | undefined;
  let p = 0;
  for (;;) {
    if (p + BLOCK > tar.length) throw new DataSchemaError(`${file}: tar archive is truncated (no end-of-archive marker)`);
    const header = tar.subarray(p, p + BLOCK);
    if (header.every((b) => b === 0)) return entries;
    const expected = octal(header, 148, 8, file);
    if (checksum(header) !== expected) throw new DataSchemaError(`${file}: tar header at block ${p / BLOCK} fails its checksum`);

    const size = octal(header, 124, 12, file);
    const type = String.fromCharCode(header[156] || 0x30);
    const dataStart = p + BLOCK;
    if (dataStart + size > tar.length) throw new DataSchemaError(`${file}: tar member at block ${p / BLOCK} is truncated`);
    const data = tar.subarray(dataStart, dataStart + size);

    const magic = text(header, 257, 6);
    const prefix = magic.startsWith('ustar') ? text(header, 345, 155) : '';
    const name = nextName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
    nextName = undefined;
    if (type === 'L') {
      nextName = text(data, 0, data.length);
    } else if (type === 'x') {
      nextName = paxPath(data);
    } else if (type === '0' || type === '\0' || type === '7') {
      entries.set(name, data);
    }
    p = dataStart + Math.ceil(size / BLOCK) * BLOCK;
  }
}

/** A NUL- or space-terminated ASCII field. */
function text(bytes: Uint8Array, offset: number, length: number): string {
  let end = offset;
  while (end < offset + length && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(offset, end));
}

/** A numeric header field: octal ASCII (or GNU base-256 when the high bit of the first byte is set). */
function octal(header: Uint8Array, offset: number, length: number, file: string): number {
  if (header[offset] & 0x80) {
    let v = 0;
    for (let i = 1; i < length; i++) v = v * 256 + header[offset + i];
    return v;
  }
  const s = text(header, offset, length).trim();
  if (!/^[0-7]*$/.test(s)) throw new DataSchemaError(`${file}: tar header has a malformed numeric field at offset ${offset}`);
  return s.length === 0 ? 0 : parseInt(s, 8);
}

/** The ustar header checksum: the byte sum with the checksum field itself read as eight spaces. */
function checksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  return sum;
}

/** The `path` keyword of a pax extended header (`"<len> path=<value>\n"` records), if any. */
function paxPath(data: Uint8Array): string | undefined {
  const match = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(new TextDecoder().decode(data));
  return match?.[1];
}
