/**
 * The stack depot (lib/stackdepot.c): each distinct stack is stored once and
 * named by a 32-bit handle, so a saved track is two numbers (pid, handle)
 * and not a JavaScript object per allocation. Handle 0 means "no stack".
 */
import { captureStack, formatFrame } from '../lib/stacktrace.js';

export class StackDepot {
  private readonly byKey = new Map<string, number>();
  /** Stack lines by handle; index 0 is the empty "no stack". */
  private readonly stacks: string[][] = [[]];

  /** stack_depot_save(): the caller's stack (kmem frames dropped), deduplicated. */
  save(): number {
    const lines = captureStack(16).map(formatFrame);
    if (lines.length === 0) return 0;
    const key = lines.join('\n');
    let h = this.byKey.get(key);
    if (h === undefined) {
      h = this.stacks.length;
      this.stacks.push(lines);
      this.byKey.set(key, h);
    }
    return h;
  }

  /** stack_depot_print(): the frames of a handle, or [] for 0 or an unknown handle. */
  lines(handle: number): string[] {
    return this.stacks[handle] ?? [];
  }

  /** Distinct stacks stored. */
  get size(): number {
    return this.stacks.length - 1;
  }
}
