/**
 * Virtual time for concurrent code that waits: `sleep` parks the caller, and the clock jumps to the earliest wake-up
 * only when every worker is parked or done. Work in between (HTTP to a stand-in, DynamoDB calls) takes no virtual time,
 * so a run is the same however slow the machine is, and minutes of pacing pass in milliseconds.
 */
export interface VirtualTime {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Runs the workers concurrently; the clock moves only while all of them are asleep. */
  run<T>(workers: (() => Promise<T>)[]): Promise<T[]>;
}

export function virtualTime(start: number): VirtualTime {
  let now = start;
  let awake = 0;
  const sleepers: { until: number; wake: () => void }[] = [];

  const advance = () => {
    if (awake > 0 || sleepers.length === 0) return;
    sleepers.sort((a, b) => a.until - b.until);
    now = Math.max(now, sleepers[0]!.until);
    while (sleepers.length > 0 && sleepers[0]!.until <= now) {
      awake += 1;
      sleepers.shift()!.wake();
    }
  };

  return {
    now: () => now,
    sleep: (ms) =>
      new Promise<void>((wake) => {
        sleepers.push({ until: now + Math.max(0, ms), wake });
        awake -= 1;
        advance();
      }),
    run: (workers) => {
      awake += workers.length;
      return Promise.all(
        workers.map((work) =>
          work().finally(() => {
            awake -= 1;
            advance();
          }),
        ),
      );
    },
  };
}
