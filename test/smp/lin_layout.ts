/** The words the linearizability test shares with its workers (an Int32Array). */
export const enum Lin {
  /** Round number CPU 0 starts (-1: stop). */
  ROUND = 0,
  /** Workers done with their frees, over all rounds. */
  DONE = 1,
  /** The logical clock every call and return takes a tick of. */
  CLOCK = 2,
  /** Frees completed in this round. */
  FREED = 3,
  /** Objects per worker this round, one word each. */
  COUNT = 8,
  /** The objects each worker frees, PER_WORKER slots each. */
  OBJS = 16,
  /** call, ret of each free, in the same slots. */
  HIST = 128,
  WORDS = 256,
}

/** Slots per worker in OBJS and HIST. */
export const PER_WORKER = 8;
