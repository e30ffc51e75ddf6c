/**
 * The durable side of the lease table: an append-only journal of JSON lines (format: src/dhcp/leases.ts),
 * fsync'ed before a lease is acknowledged, so a lease survives `kill -9` and power loss.
 *
 * - Group commit: records appended while a write+fsync is in flight wait and go out together in the next
 *   one, so many concurrent requests cost one fsync, not one each.
 * - Compaction: when the journal holds far more lines than live records, the live records replace it
 *   atomically (services/atomic.ts: temp file, fsync, rename, directory fsync). A crash at any point
 *   leaves either the old journal or the new one, never a mix.
 * - Replay: a torn last line (the write cut by a crash, never fsync'ed, so never acknowledged) is skipped.
 */
import { open, readFile, mkdir, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { formatRecord, parseRecord, type LeaseRecord } from '../../src/dhcp/leases.js';
import { writeAtomic } from '../atomic.js';
import type { Logger } from '../log.js';

/** Records formatted per turn of the event loop while compacting (about 2 ms of work). */
const COMPACT_SLICE = 1000;

const HEADER = '# be DHCP lease journal v1: one JSON record a line (bind, release, decline); later lines win\n';

interface Pending {
  text: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface JournalOptions {
  file: string;
  log: Logger;
  /** The records that rebuild the current state, for compaction. */
  snapshot: () => LeaseRecord[];
  /** How many records the snapshot would hold (cheap), to decide when to compact. */
  liveRecords: () => number;
  /** Compact when the journal has more lines than this many times the live records (plus a floor). */
  compactFactor?: number;
  compactFloor?: number;
}

export class Journal {
  private handle: FileHandle | undefined;
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private lines = 0;
  private closed = false;
  /** fsyncs done, for tests and benchmarks. */
  syncs = 0;

  private constructor(private readonly options: JournalOptions) {}

  /** Reads the journal (missing: empty), hands every record to `replay`, then compacts it. */
  static async open(options: JournalOptions, replay: (record: LeaseRecord) => void): Promise<Journal> {
    const journal = new Journal(options);
    let text = '';
    try {
      text = await readFile(options.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const lines = text.split('\n');
    const last = lines.pop() ?? '';
    let bad = 0;
    for (const line of lines) {
      const record = parseRecord(line);
      if (record) replay(record);
      else if (line.trim() !== '' && !line.startsWith('#')) bad++;
    }
    if (last !== '') {
      options.log.warn({ file: options.file, bytes: last.length }, 'lease journal ends in a torn write (never acknowledged): ignored');
    }
    if (bad > 0) options.log.warn({ file: options.file, lines: bad }, 'lease journal has unreadable lines: ignored');
    await mkdir(dirname(options.file), { recursive: true });
    await journal.compact();
    return journal;
  }

  /** Resolves when the record is on disk (written and fsync'ed). */
  append(record: LeaseRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('lease journal is closed'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ text: formatRecord(record), resolve, reject });
      // The first record goes out at once; whatever arrives while it is on its way shares the next write
      // and fsync. (Deferring the first write to gather more made ACKs leave in bigger bursts, which
      // overflowed the load generator's socket buffer in bench/dhcp.ts, for no CPU saved.)
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          const handle = this.handle!;
          await handle.write(batch.map((p) => p.text).join(''));
          await handle.datasync();
          this.syncs++;
          this.lines += batch.length;
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err as Error);
        }
        const factor = this.options.compactFactor ?? 4;
        const floor = this.options.compactFloor ?? 10_000;
        if (this.lines > floor && this.lines > factor * this.options.liveRecords()) {
          try {
            await this.compact();
          } catch (err) {
            this.options.log.error({ file: this.options.file, err: (err as Error).message }, 'lease journal compaction failed; appending to the old journal');
          }
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /**
   * Rewrites the journal as the snapshot, atomically, and reopens it for appending. The snapshot is taken
   * at once; its text is made a slice at a time between turns of the event loop, because 30,000 leases
   * took 50-90 ms to format, and a server that stops reading that long at 15,000 exchanges/s overflows
   * its socket buffer. Appends meanwhile wait in the queue and go to the new journal.
   */
  private async compact(): Promise<void> {
    const file = this.options.file;
    const records = this.options.snapshot();
    const parts = [HEADER];
    for (let at = 0; at < records.length; at += COMPACT_SLICE) {
      if (at > 0) await new Promise((next) => setImmediate(next));
      let text = '';
      for (const record of records.slice(at, at + COMPACT_SLICE)) text += formatRecord(record);
      parts.push(text);
    }
    await writeAtomic(file, parts.join(''));
    const previous = this.handle;
    this.handle = await open(file, 'a');
    this.lines = records.length;
    await previous?.close();
  }

  /** Waits for pending appends, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing;
    await this.handle?.close();
    this.handle = undefined;
  }
}
