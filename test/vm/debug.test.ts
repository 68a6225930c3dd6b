/** Processes on a machine with KASAN and slub_debug=FZPU: the VM structures stay inside their objects and every object is freed cleanly. */
import { expect, test } from 'vitest';
import { boot } from '../../src/kernel.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { tinyElf } from './helpers.js';

test('spawn, mmap, fork, COW, mprotect, mremap and exit under KASAN and slub_debug=FZPU report nothing', () => {
  const k = boot({ memory: '64M', seed: 1, aslr: 0, kasan: 'generic', slubDebug: 'FZPU', onBug: 'throw' });
  k.fs.writeFile('/bin/tiny', tinyElf());
  for (let n = 0; n < 5; n++) {
    const t = k.spawn('/bin/tiny', ['tiny']);
    const a = t.mmap(0, 32 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const s = t.mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    for (let i = 0; i < 32; i++) t.write8(a + i * 4096, i);
    t.write8(s, 1);
    const c = t.fork();
    c.write8(a, 9);
    c.mprotect(a + 4096, 4096, PROT_READ);
    expect(c.mremap(a + 8 * 4096, 4 * 4096, 8 * 4096, 1)).toBeGreaterThan(0);
    c.exit(0);
    t.wait();
    t.exit(0);
  }
  expect(k.dmesg().filter((l) => /BUG|KASAN|WARNING/.test(l))).toEqual([]);
  for (const name of ['vm_area_struct', 'anon_vma', 'anon_vma_chain', 'mm_struct', 'task_struct', 'maple_node']) {
    expect(k.slabValidate(k.kmemCacheByName(name))).toBe(0);
  }
});
