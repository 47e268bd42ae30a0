import { gzipSync } from 'node:zlib';

import { DataSchemaError } from './data-schema.error';
import { readTarEntries, readTarGzEntries } from './tar.reader';

/** One ustar header block written by hand (POSIX.1-1988), with its checksum. */
function header(name: string, size: number, type: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'ascii');
  h.write('0000644\0', 100, 'ascii');
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\x0000', 257, 'ascii');
  h.write('        ', 148, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

function tar(files: Array<[string, string]>): Buffer {
  const blocks: Buffer[] = [header('set-a/', 0, '5')];
  for (const [name, text] of files) {
    const body = Buffer.from(text);
    blocks.push(header(name, body.length, '0'), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

describe('readTarEntries / readTarGzEntries', () => {
  it('reads regular files and skips directories', () => {
    // Arrange: one member longer than a block, to cross the 512-byte padding.
    const long = 'x'.repeat(700);
    const archive = gzipSync(tar([['set-a/1.txt', 'Time,Parameter,Value\n'], ['set-a/2.txt', long]]));

    // Act
    const entries = readTarGzEntries(archive, 't.tar.gz');

    // Assert
    expect([...entries.keys()]).toEqual(['set-a/1.txt', 'set-a/2.txt']);
    expect(Buffer.from(entries.get('set-a/1.txt') ?? []).toString()).toBe('Time,Parameter,Value\n');
    expect(entries.get('set-a/2.txt')?.length).toBe(700);
  });

  it('rejects a tar cut before its end-of-archive marker', () => {
    // Arrange
    const whole = tar([['a.txt', 'abc']]);

    // Act
    const act = () => readTarEntries(whole.subarray(0, whole.length - 1024), 'cut.tar');

    // Assert
    expect(act).toThrow(DataSchemaError);
    expect(act).toThrow(/^cut\.tar: tar archive is truncated/);
  });

  it('rejects a member whose data runs past the end', () => {
    const whole = tar([['a.txt', 'y'.repeat(2000)]]);
    expect(() => readTarEntries(whole.subarray(0, 1536), 'short.tar')).toThrow(/short\.tar: tar member at block 1 is truncated/);
  });

  it('rejects a header whose checksum does not match', () => {
    // Arrange: change the name after the checksum was computed.
    const whole = tar([['a.txt', 'abc']]);
    whole[512] = 0x62;

    // Act & Assert
    expect(() => readTarEntries(whole, 'sum.tar')).toThrow(/sum\.tar: tar header at block 1 fails its checksum/);
  });

  it('rejects a truncated gzip stream', () => {
    const gz = gzipSync(tar([['a.txt', 'abc']]));
    expect(() => readTarGzEntries(gz.subarray(0, gz.length / 2), 'half.tar.gz')).toThrow(/^half\.tar\.gz: gzip stream is damaged or truncated/);
  });
});
