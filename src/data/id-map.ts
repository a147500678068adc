/** Dense id map: external string id ↔ int in [0, size), in order of first sight. */
export class IdMap {
  private readonly toIdx = new Map<string, number>();
  private readonly toId: string[] = [];

  static from(ids: Iterable<string>): IdMap {
    const m = new IdMap();
    for (const id of ids) m.add(id);
    return m;
  }

  get size(): number {
    return this.toId.length;
  }

  /** Index of id, adding it if new. */
  add(id: string): number {
    let i = this.toIdx.get(id);
    if (i === undefined) {
      i = this.toId.length;
      this.toIdx.set(id, i);
      this.toId.push(id);
    }
    return i;
  }

  /** Index of id, or −1 when unknown. */
  indexOf(id: string): number {
    return this.toIdx.get(id) ?? -1;
  }

  has(id: string): boolean {
    return this.toIdx.has(id);
  }

  /** External id of index i. */
  id(i: number): string {
    const s = this.toId[i];
    if (s === undefined) throw new RangeError(`IdMap: index ${i} outside [0, ${this.toId.length})`);
    return s;
  }

  ids(): readonly string[] {
    return this.toId;
  }

  toJSON(): string[] {
    return this.toId.slice();
  }
}
