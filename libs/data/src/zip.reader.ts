import { crc32, inflateRawSync } from 'node:zlib';

import { DataSchemaError } from './data-schema.error';

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_EOCD_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const ZIP64_EXTRA_ID = 0x0001;
const STORED = 0;
const DEFLATED = 8;
// Sizes and offsets saturate at this value when the real one is in the ZIP64 extra field.
const SATURATED = 0xffffffff;

/**
 * Reads every file of a ZIP archive into memory (PKWARE APPNOTE 6.3: end-of-central-directory record, ZIP64
 * records as written by Python's `zipfile`/NumPy's `savez`, central directory, local headers; stored or
 * Deflate entries, CRC-32 checked). No encryption, no multi-disk archives. Enough for `.npz` files.
 * @param bytes the whole archive
 * @param file name used in error messages
 * @returns entry name → uncompressed bytes
 * @throws DataSchemaError if the archive is not a ZIP, is truncated, or an entry fails its CRC
 */
export function readZipEntries(bytes: Uint8Array, file: string): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = findEndOfCentralDirectory(view, file);
  let entryCount = view.getUint16(eocd + 10, true);
  let directorySize = view.getUint32(eocd + 12, true);
  let directoryOffset = view.getUint32(eocd + 16, true);
  const locator = eocd - 20;
  if (locator >= 0 && view.getUint32(locator, true) === ZIP64_EOCD_LOCATOR_SIGNATURE) {
    const zip64 = safeNumber(view.getBigUint64(locator + 8, true));
    if (zip64 + 56 > bytes.length || view.getUint32(zip64, true) !== ZIP64_EOCD_SIGNATURE) {
      throw new DataSchemaError(`${file}: ZIP64 end-of-central-directory record is missing or truncated`);
    }
    entryCount = safeNumber(view.getBigUint64(zip64 + 32, true));
    directorySize = safeNumber(view.getBigUint64(zip64 + 40, true));
    directoryOffset = safeNumber(view.getBigUint64(zip64 + 48, true));
  }
  if (directoryOffset + directorySize > bytes.length) throw new DataSchemaError(`${file}: ZIP central directory is truncated`);

  const entries = new Map<string, Uint8Array>();
  let p = directoryOffset;
  for (let e = 0; e < entryCount; e++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== CENTRAL_SIGNATURE) {
      throw new DataSchemaError(`${file}: ZIP central directory entry ${e} is damaged`);
    }
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    let compressedSize = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    let localOffset = view.getUint32(p + 42, true);
    if (p + 46 + nameLength + extraLength > bytes.length) throw new DataSchemaError(`${file}: ZIP central directory is truncated`);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLength));
    // ZIP64 extra field: only the saturated fields are present, in this fixed order.
    const extraEnd = p + 46 + nameLength + extraLength;
    for (let x = p + 46 + nameLength; x + 4 <= extraEnd; ) {
      const id = view.getUint16(x, true);
      const len = view.getUint16(x + 2, true);
      if (id === ZIP64_EXTRA_ID) {
        let q = x + 4;
        if (size === SATURATED) {
          size = safeNumber(view.getBigUint64(q, true));
          q += 8;
        }
        if (compressedSize === SATURATED) {
          compressedSize = safeNumber(view.getBigUint64(q, true));
          q += 8;
        }
        if (localOffset === SATURATED) localOffset = safeNumber(view.getBigUint64(q, true));
      }
      x += 4 + len;
    }
    if (flags & 1) throw new DataSchemaError(`${file}: ZIP entry ${name} is encrypted`);

    if (localOffset + 30 > bytes.length || view.getUint32(localOffset, true) !== LOCAL_SIGNATURE) {
      throw new DataSchemaError(`${file}: ZIP local header of ${name} is missing or truncated`);
    }
    // The local header's own name/extra lengths may differ from the central directory's (ZIP64 extras).
    const dataStart = localOffset + 30 + view.getUint16(localOffset + 26, true) + view.getUint16(localOffset + 28, true);
    if (dataStart + compressedSize > bytes.length) throw new DataSchemaError(`${file}: ZIP entry ${name} is truncated`);
    const raw = bytes.subarray(dataStart, dataStart + compressedSize);
    let data: Uint8Array;
    if (method === STORED) {
      data = raw;
    } else if (method === DEFLATED) {
      try {
        data = inflateRawSync(raw);
      } catch (err) {
        throw new DataSchemaError(`${file}: ZIP entry ${name} does not inflate (${(err as Error).message})`);
      }
    } else {
      throw new DataSchemaError(`${file}: ZIP entry ${name} uses unsupported compression method ${method}`);
    }
    if (data.length !== size) throw new DataSchemaError(`${file}: ZIP entry ${name} has ${data.length} bytes, directory says ${size}`);
    if (crc32(data) >>> 0 !== crc) throw new DataSchemaError(`${file}: ZIP entry ${name} fails its CRC-32 check`);
    entries.set(name, data);
    p = extraEnd + commentLength;
  }
  return entries;
}

/** Scans backwards for the end-of-central-directory record (it is followed by at most a 65,535-byte comment). */
function findEndOfCentralDirectory(view: DataView, file: string): number {
  const lowest = Math.max(0, view.byteLength - 22 - 0xffff);
  for (let p = view.byteLength - 22; p >= lowest; p--) {
    if (view.getUint32(p, true) === EOCD_SIGNATURE) return p;
  }
  throw new DataSchemaError(`${file}: not a ZIP archive or truncated (no end-of-central-directory record)`);
}

/** Narrows a 64-bit field to a number; larger values cannot describe an in-memory archive anyway. */
function safeNumber(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}
