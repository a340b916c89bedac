/**
 * The one cache primitive behind the key cache, the model catalogue and the
 * subscription cache: values loaded on demand from the database, dropped by
 * every write that changes them (here, or announced by another instance).
 *
 * Every invalidation bumps an epoch. A load that started before a write
 * finished is then neither kept (it may have read the old row) nor joined by
 * later readers, so a write is seen by the very next request that starts
 * after it. Concurrent readers of the same entry share one load.
 *
 * Instances live on globalThis by name: Next bundles its own copy of lib/
 * for the dashboard's route handlers, and both copies must see one cache.
 */
export class EpochCache<K, V> {
  private readonly values = new Map<K, V>();
  private readonly loading = new Map<K, { epoch: number; promise: Promise<V> }>();
  private epoch = 0;

  /** The cached value, or undefined (never loads). */
  peek(key: K): V | undefined {
    return this.values.get(key);
  }

  /**
   * The cached value, or the one `read` loads. What a load returns is handed
   * to `keep` (default: cache it) only if no invalidation happened meanwhile.
   */
  get(key: K, read: () => Promise<V>, keep: (value: V) => void = (value) => this.values.set(key, value)): Promise<V> {
    if (this.values.has(key)) return Promise.resolve(this.values.get(key) as V);
    const pending = this.loading.get(key);
    if (pending && pending.epoch === this.epoch) return pending.promise;
    const epoch = this.epoch;
    const promise = read().then((value) => {
      if (this.epoch === epoch) keep(value);
      return value;
    });
    this.loading.set(key, { epoch, promise });
    const done = () => {
      if (this.loading.get(key)?.promise === promise) this.loading.delete(key);
    };
    promise.then(done, done);
    return promise;
  }

  set(key: K, value: V): void {
    this.values.set(key, value);
  }

  /** Drops one entry (none when undefined); loads in flight, of any entry, are not kept either. */
  forget(key: K | undefined): void {
    this.epoch++;
    if (key !== undefined) this.values.delete(key);
  }

  /** Drops every entry the predicate picks. */
  forgetWhere(pick: (value: V, key: K) => boolean): void {
    this.epoch++;
    for (const [key, value] of this.values) if (pick(value, key)) this.values.delete(key);
  }

  /** Drops everything (a missed announcement from another instance: start over). */
  clear(): void {
    this.epoch++;
    this.values.clear();
  }
}

const registry = globalThis as unknown as { __keygateCaches?: Map<string, EpochCache<unknown, unknown>> };

/** The process's one cache of this name. */
export function sharedCache<K, V>(name: string): EpochCache<K, V> {
  const caches = (registry.__keygateCaches ??= new Map());
  let cache = caches.get(name);
  if (!cache) caches.set(name, (cache = new EpochCache<unknown, unknown>()));
  return cache as EpochCache<K, V>;
}
