import { crc32, deflateRawSync } from 'node:zlib';

import { DataSchemaError } from './data-schema.error';
import { readZipEntries } from './zip.reader';

interface Member {
  name: string;
  data: Uint8Array;
  deflate: boolean;
}

/** Writes a minimal ZIP by hand (local headers, central directory, end record) following PKWARE APPNOTE 4.3. */
function zip(members: Member[]): Uint8Array {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const name = Buffer.from(m.name);
    const body = m.deflate ? deflateRawSync(m.data) : Buffer.from(m.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(m.deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc32(m.data) >>> 0, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(m.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(m.deflate ? 8 : 0, 10);
    dir.writeUInt32LE(crc32(m.data) >>> 0, 16);
    dir.writeUInt32LE(body.length, 20);
    dir.writeUInt32LE(m.data.length, 24);
    dir.writeUInt16LE(name.length, 28);
    dir.writeUInt32LE(offset, 42);
    parts.push(local, name, body);
    central.push(dir, name);
    offset += 30 + name.length + body.length;
  }
  const dirBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(dirBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...parts, dirBytes, end]));
}

const TEXT = new TextEncoder().encode('hello hello hello hello zip');

describe('readZipEntries', () => {
  it('reads stored and deflated members byte for byte', () => {
    // Arrange
    const archive = zip([
      { name: 'a.txt', data: TEXT, deflate: false },
      { name: 'dir/b.bin', data: new Uint8Array([0, 255, 1, 254]), deflate: true },
    ]);

    // Act
    const entries = readZipEntries(archive, 'x.zip');

    // Assert
    expect([...entries.keys()]).toEqual(['a.txt', 'dir/b.bin']);
    expect(new TextDecoder().decode(entries.get('a.txt'))).toBe('hello hello hello hello zip');
    expect(Array.from(entries.get('dir/b.bin') ?? [])).toEqual([0, 255, 1, 254]);
  });

  it('rejects a truncated archive, naming the file', () => {
    // Arrange: cut inside the deflated data, so the end record is gone too.
    const archive = zip([{ name: 'a.txt', data: TEXT, deflate: true }]);

    // Act
    const act = () => readZipEntries(archive.subarray(0, 20), 'cut.zip');

    // Assert
    expect(act).toThrow(DataSchemaError);
    expect(act).toThrow(/^cut\.zip: .*end-of-central-directory/);
  });

  it('rejects a member whose bytes no longer match its CRC-32', () => {
    // Arrange: flip one byte of the stored data (local header 30 bytes + 5-byte name).
    const archive = zip([{ name: 'a.txt', data: TEXT, deflate: false }]);
    archive[30 + 5 + 3] ^= 0xff;

    // Act & Assert
    expect(() => readZipEntries(archive, 'flip.zip')).toThrow(/flip\.zip: ZIP entry a\.txt fails its CRC-32 check/);
  });

  it('rejects a file that is not a ZIP at all', () => {
    expect(() => readZipEntries(new Uint8Array(100).fill(7), 'not.zip')).toThrow(DataSchemaError);
  });
});
