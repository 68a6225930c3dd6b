/**
 * The API of a machine booted with `kernel: '7.0'` (src/slub/slub70.ts):
 * kmalloc(), kfree(), kmem_cache_alloc/free() and their bulk forms with the
 * sheaves' fast paths written into the entry points (src/slub/fastpath70.ts,
 * closures on the instance over the sheaf arrays), ahead of Kernel's own
 * entry points, which take everything they refuse and end in the same
 * sheaves by the slow paths. A machine with SLUB stats on keeps Kernel's
 * entry points alone; a KASAN machine keeps KasanKernel (its hooks run on
 * every object anyway).
 */
import type { Machine } from './init/main.js';
import type { Kernel } from './kernel.js';
import { type SheafFastPaths, sheafFastPaths, sheafFastPathsApply } from './slub/fastpath70.js';

/** The Kernel class with 7.0's fast paths (a factory, so kernel.ts and this file import each other only as types). */
export function kernel70Class(Base: new (m: Machine) => Kernel): new (m: Machine) => Kernel {
  return class Kernel70 extends Base {
    constructor(m: Machine) {
      super(m);
      if (sheafFastPathsApply(m.slub)) {
        // Built again whenever the sheaves' pool grows: the closures hold it as a constant.
        const install = (): void => {
          Object.assign(this, sheafFastPaths(m.slub, m.kmallocApi.sizeToCache, m.phys.size, this, Base.prototype as unknown as SheafFastPaths));
        };
        install();
        m.slub.sheaves.onPoolGrow = install;
      }
    }
  };
}
