/**
 * KASAN benchmarks: what checked access and the allocator hooks cost, each
 * against the same work on a machine without KASAN, measured in one run.
 * Goal for checked 8-byte loads and stores: at most 1.73x (AddressSanitizer's
 * average slowdown).
 */
import { do_not_optimize } from 'mitata';
import { boot, GFP_KERNEL, type Kernel } from '../src/index.js';
import { ns, print, type Row } from './report.js';

const BUFS = 64;
const BUF_SIZE = 256;

function buffers(k: Kernel): Float64Array {
  const b = new Float64Array(BUFS);
  for (let i = 0; i < BUFS; i++) b[i] = k.kmalloc(BUF_SIZE, GFP_KERNEL);
  return b;
}

// Each machine gets its own copy of the loops, so that every k.mem call site
// stays monomorphic, as in a program that boots one machine.
/** One pass over every buffer: an 8-byte load and an 8-byte store per word. Returns ops done. */
function loadStore64Off(k: Kernel, bufs: Float64Array): number {
  const mem = k.mem;
  let acc = 0n;
  for (let i = 0; i < BUFS; i++) {
    const p = bufs[i]!;
    for (let off = 0; off < BUF_SIZE; off += 8) {
      const v = mem.read64(p + off);
      acc ^= v;
      mem.write64(p + off, v + 1n);
    }
  }
  do_not_optimize(acc);
  return BUFS * (BUF_SIZE / 8) * 2;
}

function loadStore32Off(k: Kernel, bufs: Float64Array): number {
  const mem = k.mem;
  let acc = 0;
  for (let i = 0; i < BUFS; i++) {
    const p = bufs[i]!;
    for (let off = 0; off < BUF_SIZE; off += 4) {
      const v = mem.read32(p + off);
      acc ^= v;
      mem.write32(p + off, (v + 1) >>> 0);
    }
  }
  do_not_optimize(acc);
  return BUFS * (BUF_SIZE / 4) * 2;
}

/** One pass over every buffer: an 8-byte load and an 8-byte store per word. Returns ops done. */
function loadStore64On(k: Kernel, bufs: Float64Array): number {
  const mem = k.mem;
  let acc = 0n;
  for (let i = 0; i < BUFS; i++) {
    const p = bufs[i]!;
    for (let off = 0; off < BUF_SIZE; off += 8) {
      const v = mem.read64(p + off);
      acc ^= v;
      mem.write64(p + off, v + 1n);
    }
  }
  do_not_optimize(acc);
  return BUFS * (BUF_SIZE / 8) * 2;
}

function loadStore32On(k: Kernel, bufs: Float64Array): number {
  const mem = k.mem;
  let acc = 0;
  for (let i = 0; i < BUFS; i++) {
    const p = bufs[i]!;
    for (let off = 0; off < BUF_SIZE; off += 4) {
      const v = mem.read32(p + off);
      acc ^= v;
      mem.write32(p + off, (v + 1) >>> 0);
    }
  }
  do_not_optimize(acc);
  return BUFS * (BUF_SIZE / 4) * 2;
}

export async function benchKasan(): Promise<void> {
  const off = boot({ memory: '256M', cpus: 2 });
  const on = boot({ memory: '256M', cpus: 2, kasan: 'generic' });
  const bOff = buffers(off);
  const bOn = buffers(on);
  const per64 = BUFS * (BUF_SIZE / 8) * 2;
  const per32 = BUFS * (BUF_SIZE / 4) * 2;

  const access: Row[] = [];
  access.push({ name: 'read64 + write64, KASAN off', ns: (await ns(() => loadStore64Off(off, bOff))) / per64 });
  access.push({ name: 'read64 + write64, KASAN on (checked)', ns: (await ns(() => loadStore64On(on, bOn))) / per64 });
  print('8-byte loads and stores over 64 kmalloc(256) buffers, per access (goal <= 1.73x)', access, access[0]!);

  const access32: Row[] = [];
  access32.push({ name: 'read32 + write32, KASAN off', ns: (await ns(() => loadStore32Off(off, bOff))) / per32 });
  access32.push({ name: 'read32 + write32, KASAN on (checked)', ns: (await ns(() => loadStore32On(on, bOn))) / per32 });
  print('4-byte loads and stores (no BigInt), per access', access32, access32[0]!);

  const pair: Row[] = [];
  pair.push({
    name: 'kmalloc(64) + kfree, KASAN off',
    ns: await ns(() => off.kfree(off.kmalloc(64, GFP_KERNEL))),
  });
  on.kasan!.stackCollection = true;
  pair.push({
    name: 'kmalloc(64) + kfree, KASAN on, quarantine, stacks',
    ns: await ns(() => on.kfree(on.kmalloc(64, GFP_KERNEL))),
  });
  on.kasan!.stackCollection = false;
  pair.push({
    name: 'kmalloc(64) + kfree, KASAN on, quarantine, no stacks',
    ns: await ns(() => on.kfree(on.kmalloc(64, GFP_KERNEL))),
  });
  print('kmalloc(64) then kfree (KASAN: shadow, tracks, quarantine)', pair, pair[0]!);
}
