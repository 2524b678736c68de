/**
 * A configfs-tsm report tree in a temporary directory. A real configfs fills a new entry with its attributes
 * when the directory is made, counts writes in `generation`, produces `outblob` when it is read, and removes
 * the attributes with the directory; plain files cannot do that by themselves, so this adapter of the
 * attester's file port does the kernel's part over real files, through the same node:fs adapter production uses.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { configfsFiles, type TsmFiles } from '../../src/client/tsm/tsm-files.js';

export interface FakeTsmOptions {
  provider: string;
  /** The blob the "hardware" returns for the 64 bytes of `inblob`. */
  report: (inblob: Buffer) => Buffer;
  /** Contents of `auxblob`; no such attribute when absent. */
  auxblob?: Buffer;
  /** Runs as `outblob` is read, before the report is produced (a second writer can race here). */
  beforeReport?: (entry: string) => Promise<void>;
}

export class FakeConfigfsTsm implements TsmFiles {
  /** Every entry made, in order; every write to an `inblob`, in order. */
  readonly entries: string[] = [];
  readonly inblobWrites: Buffer[] = [];

  constructor(readonly root: string, private readonly options: FakeTsmOptions) {}

  async mkdir(path: string): Promise<void> {
    await configfsFiles.mkdir(path);
    this.entries.push(path);
    await writeFile(join(path, 'provider'), `${this.options.provider}\n`);
    await writeFile(join(path, 'generation'), '0\n');
    await writeFile(join(path, 'inblob'), Buffer.alloc(0));
    await writeFile(join(path, 'outblob'), Buffer.alloc(0));
    if (this.options.auxblob) await writeFile(join(path, 'auxblob'), this.options.auxblob);
  }

  async rmdir(path: string): Promise<void> {
    await rm(path, { recursive: true });
  }

  async read(path: string): Promise<Buffer | undefined> {
    if (basename(path) === 'outblob') {
      const entry = dirname(path);
      await this.options.beforeReport?.(entry);
      await writeFile(path, this.options.report(await readFile(join(entry, 'inblob'))));
    }
    return configfsFiles.read(path);
  }

  async write(path: string, data: Uint8Array): Promise<void> {
    if (basename(path) !== 'inblob') throw Object.assign(new Error(`EACCES: ${basename(path)} is read-only`), { code: 'EACCES' });
    if (data.length > 64) throw Object.assign(new Error('EINVAL: inblob takes at most 64 bytes'), { code: 'EINVAL' });
    this.inblobWrites.push(Buffer.from(data));
    await configfsFiles.write(path, data);
    const generation = join(dirname(path), 'generation');
    await writeFile(generation, `${Number((await readFile(generation, 'utf8')).trim()) + 1}\n`);
  }

  /** Makes the report root, as the tsm module does when loaded. */
  async create(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }
}
