/**
 * A/B probe for the first-touch fault and the order-0 page pair, timed in
 * this process's CPU time (process.cpuUsage) rather than wall time, so a
 * machine shared with other busy processes still gives usable figures.
 *
 *   node build/bench/vm_cpu_probe.js fault DIR_A DIR_B   (each DIR a compiled build, e.g. build)
 *   node build/bench/vm_cpu_probe.js pair DIR_A DIR_B
 *   node build/bench/vm_cpu_probe.js load DIR_A DIR_B   (Task.read32 of mapped pages: software TLB hits)
 *
 * Every build boots its own machine in this process; the rounds of the
 * builds are interleaved (A B A B ...) and each loop is a function of its
 * own (new Function), so no build's type feedback shapes another's code.
 * Which machine comes first shifts the fault figures by a few tens of ns
 * (its memory is the host's first), so run both orders.
 */
import { pathToFileURL } from 'node:url';

type Boot = (o: Record<string, unknown>) => {
  allocPages(order: number, gfp: number): number;
  freePages(addr: number, order: number): void;
  fs: { writeFile(path: string, data: Uint8Array): void };
  spawn(path: string, argv: string[]): ProbeTask;
};
interface ProbeTask {
  mmap(addr: number, len: number, prot: number, flags: number, fd: number, off: number): number;
  munmap(addr: number, len: number): number;
  write8(va: number, v: number): void;
  write32(va: number, v: number): void;
  read32(va: number): number;
}

const cpuNs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1]!;

async function load(dir: string): Promise<{ boot: Boot; gfpKernel: number; smallProgram: (a: number, b: number, c: number) => Uint8Array }> {
  const index = (await import(pathToFileURL(`${dir}/src/index.js`).href)) as { boot: Boot; GFP_KERNEL: number };
  const elf = (await import(pathToFileURL(`${dir}/src/workloads/elf.js`).href)) as { smallProgram: (a: number, b: number, c: number) => Uint8Array };
  return { boot: index.boot, gfpKernel: index.GFP_KERNEL, smallProgram: elf.smallProgram };
}

async function fault(dirs: string[]): Promise<void> {
  const pages = (256 << 20) / 4096;
  const tasks: ProbeTask[] = [];
  for (const d of dirs) {
    const m = await load(d);
    const k = m.boot({ memory: '1G', cpus: 2, seed: 1 });
    k.fs.writeFile('/bin/bench', m.smallProgram(1, 64, 4096));
    tasks.push(k.spawn('/bin/bench', ['bench']));
  }
  const loops = dirs.map(
    () => new Function('t', 'base', 'pages', 'for (let i = 0; i < pages; i++) t.write8(base + i * 4096, 1);') as (t: ProbeTask, b: number, p: number) => void,
  );
  const res: number[][] = dirs.map(() => []);
  for (let r = 0; r < 11; r++) {
    for (let j = 0; j < dirs.length; j++) {
      const t = tasks[j]!;
      const base = t.mmap(0, pages * 4096, 3, 0x22, -1, 0);
      const t0 = cpuNs();
      loops[j]!(t, base, pages);
      res[j]!.push((cpuNs() - t0) / pages);
      t.munmap(base, pages * 4096);
    }
  }
  console.log(`first-touch write fault, 256 MiB on a 1 GiB machine, CPU ns per fault (min, median of 11 rounds)`);
  for (let j = 0; j < dirs.length; j++) {
    const d = dirs[j]!;
    console.log(
      `  ${d.padEnd(40)} ${Math.min(...res[j]!)
        .toFixed(0)
        .padStart(6)} ${median(res[j]!).toFixed(0).padStart(6)}`,
    );
  }
}

async function pair(dirs: string[]): Promise<void> {
  const N = 5_000_000;
  const ks: [ReturnType<Boot>, number][] = [];
  for (const d of dirs) {
    const m = await load(d);
    ks.push([m.boot({ memory: '512M', cpus: 2 }), m.gfpKernel]);
  }
  const loops = dirs.map(
    () =>
      new Function('k', 'g', 'n', 'let s = 0; for (let i = 0; i < n; i++) { const a = k.allocPages(0, g); s ^= a; k.freePages(a, 0); } return s;') as (
        k: ReturnType<Boot>,
        g: number,
        n: number,
      ) => number,
  );
  const stack = new Int32Array(1 << 16);
  let top = 0;
  for (let i = 0; i < 1000; i++) stack[top++] = 4096 + i;
  const ideal = (n: number): number => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const a = top > 0 ? stack[--top]! * 4096 : 0;
      s ^= a;
      stack[top++] = a / 4096;
    }
    return s;
  };
  const res: number[][] = dirs.map(() => []);
  const ires: number[] = [];
  let sink = 0;
  for (let r = 0; r < 21; r++) {
    for (let j = 0; j < dirs.length; j++) {
      const t0 = cpuNs();
      sink ^= loops[j]!(ks[j]![0], ks[j]![1], N);
      res[j]!.push((cpuNs() - t0) / N);
    }
    const t0 = cpuNs();
    sink ^= ideal(N);
    ires.push((cpuNs() - t0) / N);
  }
  console.log(`order-0 allocPages + freePages (pcp hit), CPU ns per pair (min, median of 21 rounds)`);
  console.log(
    `  ${'ideal: Int32Array LIFO'.padEnd(40)} ${Math.min(...ires)
      .toFixed(2)
      .padStart(6)} ${median(ires).toFixed(2).padStart(6)}`,
  );
  for (let j = 0; j < dirs.length; j++) {
    const d = dirs[j]!;
    console.log(
      `  ${d.padEnd(40)} ${Math.min(...res[j]!)
        .toFixed(2)
        .padStart(6)} ${median(res[j]!).toFixed(2).padStart(6)}`,
    );
  }
  if (sink === 0.5) console.log(sink);
}

/**
 * A 32-bit user load through the page tables on a mapped page (16 pages
 * cycled, every load a software TLB hit after the first lap), against a
 * Uint32Array load over the same 64 KiB, in CPU ns per load.
 */
async function userLoad(dirs: string[]): Promise<void> {
  const N = 20_000_000;
  const tasks: [ProbeTask, number][] = [];
  for (const d of dirs) {
    const m = await load(d);
    const k = m.boot({ memory: '128M', cpus: 2, seed: 1 });
    k.fs.writeFile('/bin/bench', m.smallProgram(1, 64, 4096));
    const t = k.spawn('/bin/bench', ['bench']);
    const base = t.mmap(0, 16 * 4096, 3, 0x22, -1, 0);
    for (let i = 0; i < 16 * 4096; i += 4) t.write32(base + i, i);
    tasks.push([t, base]);
  }
  const loops = dirs.map(
    () =>
      new Function('t', 'base', 'n', 'let s = 0; for (let i = 0; i < n; i++) s = (s + t.read32(base + ((i << 2) & 0xfffc))) | 0; return s;') as (
        t: ProbeTask,
        b: number,
        n: number,
      ) => number,
  );
  const u32 = new Uint32Array(16 * 1024);
  for (let i = 0; i < u32.length; i++) u32[i] = i * 4;
  const ideal = (n: number): number => {
    let s = 0;
    for (let i = 0; i < n; i++) s = (s + u32[i & 0x3fff]!) | 0;
    return s;
  };
  const res: number[][] = dirs.map(() => []);
  const ires: number[] = [];
  let sink = 0;
  for (let r = 0; r < 11; r++) {
    for (let j = 0; j < dirs.length; j++) {
      const t0 = cpuNs();
      sink ^= loops[j]!(tasks[j]![0], tasks[j]![1], N);
      res[j]!.push((cpuNs() - t0) / N);
    }
    const t0 = cpuNs();
    sink ^= ideal(N);
    ires.push((cpuNs() - t0) / N);
  }
  console.log(`user load on a mapped page (Task.read32, TLB hit), CPU ns per load (min, median of 11 rounds)`);
  console.log(
    `  ${'ideal: Uint32Array load'.padEnd(40)} ${Math.min(...ires)
      .toFixed(2)
      .padStart(6)} ${median(ires).toFixed(2).padStart(6)}`,
  );
  for (let j = 0; j < dirs.length; j++) {
    console.log(
      `  ${dirs[j]!.padEnd(40)} ${Math.min(...res[j]!)
        .toFixed(2)
        .padStart(6)} ${median(res[j]!).toFixed(2).padStart(6)}`,
    );
  }
  if (sink === 0.5) console.log(sink);
}

const [what, ...dirs] = process.argv.slice(2);
if ((what !== 'fault' && what !== 'pair' && what !== 'load') || dirs.length === 0) {
  throw new RangeError('usage: node build/bench/vm_cpu_probe.js fault|pair|load BUILD_DIR...');
}
await (what === 'fault' ? fault(dirs) : what === 'pair' ? pair(dirs) : userLoad(dirs));
