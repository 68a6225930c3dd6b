/**
 * boot({ buffer }): the caller's own ArrayBuffer, SharedArrayBuffer or
 * WebAssembly.Memory is the machine's RAM, so what kmalloc hands out is
 * memory the caller (or a wasm module) reads and writes directly.
 */
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL, PAGE_SIZE } from '../../src/index.js';

/**
 * A tiny wasm module written byte by byte: it imports its memory as
 * env.mem and exports load(addr) -> i32 and store(addr, value).
 */
const WASM = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00, // magic, version 1
  0x01,
  0x0b,
  0x02,
  0x60,
  0x01,
  0x7f,
  0x01,
  0x7f,
  0x60,
  0x02,
  0x7f,
  0x7f,
  0x00, // types: (i32)->i32, (i32,i32)->()
  0x02,
  0x0c,
  0x01,
  0x03,
  0x65,
  0x6e,
  0x76,
  0x03,
  0x6d,
  0x65,
  0x6d,
  0x02,
  0x00,
  0x01, // import env.mem, memory min 1
  0x03,
  0x03,
  0x02,
  0x00,
  0x01, // functions: type 0, type 1
  0x07,
  0x10,
  0x02,
  0x04,
  0x6c,
  0x6f,
  0x61,
  0x64,
  0x00,
  0x00,
  0x05,
  0x73,
  0x74,
  0x6f,
  0x72,
  0x65,
  0x00,
  0x01, // exports load, store
  0x0a,
  0x13,
  0x02, // code: 2 bodies
  0x07,
  0x00,
  0x20,
  0x00,
  0x28,
  0x02,
  0x00,
  0x0b, // load: local.get 0; i32.load; end
  0x09,
  0x00,
  0x20,
  0x00,
  0x20,
  0x01,
  0x36,
  0x02,
  0x00,
  0x0b, // store: local.get 0; local.get 1; i32.store; end
]);

/** The WebAssembly API as this test uses it (lib ES2022 has no typings for it). */
const Wasm = (
  globalThis as unknown as {
    WebAssembly: {
      Memory: new (d: { initial: number }) => { buffer: ArrayBuffer; grow(n: number): number };
      instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: unknown } }>;
    };
  }
).WebAssembly;

describe('boot({ buffer })', () => {
  it('a WebAssembly.Memory: a wasm module reads and writes what kmem allocated', async () => {
    const memory = new Wasm.Memory({ initial: 256 }); // 16 MiB
    const { instance } = await Wasm.instantiate(WASM, { env: { mem: memory } });
    const wasm = instance.exports as { load(a: number): number; store(a: number, v: number): void };
    // The module's own data in the first page (page frame 0 is reserved: kmem never hands it out).
    wasm.store(16, 0x12345678);
    const k = boot({ buffer: memory });
    expect(k.inspect.memory).toBe(16 * 1024 * 1024);
    const p = k.kmalloc(100, GFP_KERNEL);
    expect(p).toBeGreaterThanOrEqual(PAGE_SIZE);
    k.mem.write32(p, 0xcafe);
    expect(wasm.load(p)).toBe(0xcafe);
    wasm.store(p + 4, -2);
    expect(k.mem.read32(p + 4)).toBe(0xfffffffe);
    // Fill memory with allocations: none touches the wasm module's first page.
    const taken: number[] = [];
    for (let a = k.kmalloc(4096, GFP_KERNEL | 0x200); a !== 0; a = k.kmalloc(4096, GFP_KERNEL | 0x200)) {
      expect(a).toBeGreaterThanOrEqual(PAGE_SIZE);
      k.mem.memset(a, 0xff, 4096);
      taken.push(a);
    }
    expect(taken.length).toBeGreaterThan(3000);
    expect(wasm.load(16)).toBe(0x12345678);
  });

  it("an ArrayBuffer: allocations land in the caller's bytes", () => {
    const buf = new ArrayBuffer(8 * 1024 * 1024);
    const view = new Uint8Array(buf);
    const k = boot({ buffer: buf });
    const p = k.kzalloc(64, GFP_KERNEL);
    k.mem.writeBytes(p, [1, 2, 3]);
    expect([...view.subarray(p, p + 4)]).toEqual([1, 2, 3, 0]);
  });

  it('a SharedArrayBuffer: the machine is shared; the memory size must agree with the buffer', () => {
    const sab = new SharedArrayBuffer(8 * 1024 * 1024);
    const k = boot({ buffer: sab, memory: '8M' });
    const p = k.kmalloc(32, GFP_KERNEL);
    k.mem.write8(p, 7);
    expect(new Uint8Array(sab)[p]).toBe(7);
    expect(() => boot({ buffer: sab, memory: '16M' })).toThrow(/^memory: 16777216 bytes, but buffer holds 8388608/);
    expect(() => boot({ buffer: new ArrayBuffer(8 << 20), shared: true })).toThrow(/^shared: true needs a SharedArrayBuffer/);
    expect(() => boot({ buffer: new Uint8Array(8 << 20) as never })).toThrow(
      new TypeError('buffer: expected an ArrayBuffer, a SharedArrayBuffer or a WebAssembly.Memory, got an object'),
    );
    expect(() => boot({ buffer: new ArrayBuffer(1 << 20) })).toThrow(/^memory: 1048576 bytes is below the minimum/);
  });
});
