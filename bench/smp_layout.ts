/** The control words bench/smp.bench.ts shares with its workers. */
export const enum Ctl {
  ROUND = 0,
  DONE = 1,
  N = 2,
  READY = 3,
  LOCK = 4,
  /** one job per worker from here */
  JOB = 8,
  WORDS = 16,
}

export const enum Job {
  IDLE = 0,
  PAIRS = 1,
  PRODUCE = 2,
  CONSUME = 3,
  THING_PRODUCE = 4,
  THING_CONSUME = 5,
  POST = 6,
  RECEIVE = 7,
}

export const RING_SLOTS = 4096;
