/**
 * The built-in "network" workload: packet buffers under load, with frees on
 * other CPUs.
 *
 * Receive: the NIC's interrupt for an RX queue lands on the queue's CPU
 * (RSS spreads flows over the queues), and NAPI allocates an sk_buff
 * (skbuff_head_cache) and its data (skbuff_small_head for small packets,
 * kmalloc-1k/2k/4k for full frames) there. The packet waits on its socket
 * until the application reads it, on the application's CPU, which frees
 * both: usually a remote free, the path SLUB handles with __slab_free.
 * Transmit: the application allocates a fast-clone skb
 * (skbuff_fclone_cache) and the data on its own CPU; the TX completion
 * interrupt frees them on the queue's CPU.
 * Connections come and go: TCP, sock_inode_cache and, while the handshake
 * is in progress, request_sock_TCP.
 *
 * Traffic comes in bursts, so receive queues build up and drain and the
 * caches' slabs fill and empty the way a loaded server's do.
 */

import type { Kernel } from '../kernel.js';
import { GFP_ATOMIC, GFP_KERNEL } from '../page_alloc/gfp.js';
import { getCache } from '../slub/known_caches.js';
import { generatorWorkload, rnd, rndInt, type Workload, type WorkloadSteps } from './workload.js';

interface Packet {
  skb: number;
  data: number;
  /** 0: kmalloc'd data, else the cache the data came from */
  dataCache: number;
}

interface Conn {
  /** The application's CPU. */
  cpu: number;
  /** The RX queue's CPU (flow hash). */
  rxCpu: number;
  sock: number;
  inode: number;
  rxq: Packet[];
}

export function* networkSteps(k: Kernel): WorkloadSteps {
  const skbCache = getCache(k, 'skbuff_head_cache');
  const fclone = getCache(k, 'skbuff_fclone_cache');
  const smallHead = getCache(k, 'skbuff_small_head');
  const tcp = getCache(k, 'TCP');
  const sockInode = getCache(k, 'sock_inode_cache');
  const reqSock = getCache(k, 'request_sock_TCP');
  const conns: Conn[] = [];
  /** Sent packets waiting for TX completion, by the CPU whose queue sent them. */
  const txq: { cpu: number; p: Packet }[] = [];
  const pick = () => rndInt(k, k.cpus);
  let burst = 0;

  const freePacket = (p: Packet) => {
    if (p.dataCache === 0) k.kfree(p.data);
    else k.kmemCacheFree(p.dataCache, p.data);
    k.kmemCacheFree(p.skb < 0 ? fclone : skbCache, Math.abs(p.skb));
  };

  /** Allocate one packet's skb and data on the running CPU. */
  const allocPacket = (cache: number, gfp: number, tx: boolean): Packet | null => {
    const skb = k.kmemCacheAlloc(cache, gfp);
    if (skb === 0) return null;
    const u = rnd(k);
    let data: number;
    let dataCache = 0;
    if (u < 0.45) {
      data = k.kmemCacheAlloc(smallHead, gfp);
      dataCache = smallHead;
    } else {
      // a full frame (1500 + headroom → kmalloc-2k), jumbo or GRO'd (4k), or a small control packet
      const size = u < 0.85 ? 1536 + rndInt(k, 256) : u < 0.95 ? 2304 + rndInt(k, 1700) : 256 + rndInt(k, 700);
      data = k.kmalloc(size, gfp);
    }
    if (data === 0) {
      k.kmemCacheFree(cache, skb);
      return null;
    }
    // negative skb marks a fast-clone skb
    return { skb: tx ? -skb : skb, data, dataCache };
  };

  for (;;) {
    if (burst <= 0) burst = 1 + rndInt(k, 64);
    burst--;
    const r = rnd(k);
    if (conns.length < 4 || (r < 0.02 && conns.length < 256)) {
      // accept(): the handshake's request sock on the RX CPU, then the socket on the app CPU
      const rxCpu = pick();
      const req = k.onCpu(rxCpu, () => k.kmemCacheAlloc(reqSock, GFP_ATOMIC));
      yield;
      const cpu = pick();
      const sock = k.onCpu(cpu, () => k.kmemCacheAlloc(tcp, GFP_KERNEL));
      yield;
      const inode = k.onCpu(cpu, () => k.kmemCacheAlloc(sockInode, GFP_KERNEL));
      yield;
      if (req) k.onCpu(cpu, () => k.kmemCacheFree(reqSock, req));
      yield;
      if (sock && inode) conns.push({ cpu, rxCpu, sock, inode, rxq: [] });
      continue;
    }
    if (r < 0.03 && conns.length > 8) {
      // close(): drop what is queued, free the socket
      const at = rndInt(k, conns.length);
      const c = conns[at]!;
      conns[at] = conns[conns.length - 1]!;
      conns.pop();
      for (const p of c.rxq) {
        k.onCpu(c.cpu, () => freePacket(p));
        yield;
      }
      k.onCpu(c.cpu, () => {
        k.kmemCacheFree(sockInode, c.inode);
        k.kmemCacheFree(tcp, c.sock);
      });
      yield;
      continue;
    }
    const c = conns[rndInt(k, conns.length)]!;
    if (r < 0.5 || (burst > 32 && r < 0.7)) {
      // a packet arrives: allocated in softirq on the RX queue's CPU
      if (c.rxq.length < 512) {
        const p = k.onCpu(c.rxCpu, () => allocPacket(skbCache, GFP_ATOMIC, false));
        if (p) c.rxq.push(p);
      }
      yield;
    } else if (r < 0.75) {
      // recvmsg(): the application consumes a few packets on its own CPU
      const n = Math.min(c.rxq.length, 1 + rndInt(k, 8));
      for (let i = 0; i < n; i++) {
        const p = c.rxq.shift()!;
        k.onCpu(c.cpu, () => freePacket(p));
        yield;
      }
      if (n === 0) yield;
    } else if (r < 0.92) {
      // sendmsg(): a fast-clone skb on the application's CPU, queued on its TX queue
      const p = k.onCpu(c.cpu, () => allocPacket(fclone, GFP_KERNEL, true));
      if (p) txq.push({ cpu: c.rxCpu, p });
      yield;
    } else {
      // TX completion interrupt: frees the sent packets on the queue's CPU
      const n = Math.min(txq.length, 1 + rndInt(k, 32));
      for (let i = 0; i < n; i++) {
        const t = txq.shift()!;
        k.onCpu(t.cpu, () => freePacket(t.p));
        yield;
      }
      if (n === 0) yield;
    }
    k.tick(5_000);
  }
}

export function networkWorkload(k: Kernel): Workload {
  return generatorWorkload('network', networkSteps(k));
}
