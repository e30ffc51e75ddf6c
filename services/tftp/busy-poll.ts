/**
 * Busy polling for lock-step transfers. After a DATA block goes out, the event loop keeps polling its
 * sockets without sleeping for a short while, so the client's ACK is picked up by a running thread
 * instead of waking a sleeping one. On a virtual machine a wake-up (an inter-processor interrupt and a VM
 * exit) takes longer than the rest of a block's round trip: measured by hand on the benchmark machine, one
 * curl at blksize 1468 went from about 10 MB/s to 18-24 MB/s (bench/RESULTS.md has the ratios to tftpd-hpa).
 * Linux offers the same trade for NIC queues (SO_BUSY_POLL); loopback and Node's dgram have no such knob.
 *
 * The cost is CPU: the thread stays busy while a transfer is waiting for its client, for at most the
 * window after each send. It polls only while few transfers run on the thread: with many, the loop is
 * rarely idle anyway, and a spinning thread takes the CPU the other transfers (and, in the benchmark,
 * the clients) need.
 */

/** Above this many transfers on one thread, the loop does not spin. */
export const busyPollMaxTransfers = 2;

export class BusyPoll {
  private until = 0;
  private spinning = false;
  private active = 0;

  /** A transfer started (true) or ended (false) on this thread. */
  count(started: boolean): void {
    this.active += started ? 1 : -1;
  }

  /** A block went out: keep the loop awake for `windowMicros` (0: not at all), while few transfers run. */
  sent(windowMicros: number): void {
    if (windowMicros <= 0 || this.active > busyPollMaxTransfers) return;
    this.until = performance.now() + windowMicros / 1000;
    if (this.spinning) return;
    this.spinning = true;
    // A pending immediate makes libuv poll for I/O with a zero timeout instead of sleeping.
    setImmediate(this.spin);
  }

  private readonly spin = (): void => {
    if (performance.now() < this.until && this.active > 0 && this.active <= busyPollMaxTransfers) setImmediate(this.spin);
    else this.spinning = false;
  };
}

/** This thread's poller: module state is per thread, and so is each worker thread's event loop. */
export const threadBusyPoll = new BusyPoll();
