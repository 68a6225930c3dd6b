/**
 * /proc/uptime (fs/proc/uptime.c uptime_proc_show): the time since boot and
 * the idle time summed over the CPUs, each as seconds with two decimals
 * ("%lu.%02lu %lu.%02lu\n", hundredths truncated). kmem keeps no per-CPU
 * busy time (it has no scheduler), so every CPU counts as idle the whole
 * time: idle = uptime × CPUs.
 */

/** The file's text for a virtual clock at `ns` nanoseconds since boot on `cpus` CPUs. */
export function uptime(ns: number, cpus: number): string {
  const show = (t: number) => {
    const sec = Math.floor(t / 1e9);
    const cs = Math.floor((t - sec * 1e9) / 1e7);
    return `${sec}.${String(cs).padStart(2, '0')}`;
  };
  return `${show(ns)} ${show(ns * cpus)}\n`;
}
