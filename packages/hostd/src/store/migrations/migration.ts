// A schema change: applied once, in version order, inside one transaction with the version bump.
export interface Migration {
  /** 1, 2, 3 ...: a database at version n has had migrations 1..n applied. */
  version: number;
  name: string;
  sql: string;
}

/** Throws unless versions run 1, 2, 3 ... with no gap or repeat: a new migration goes at the end. */
export function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}; append new migrations at the end`);
  });
}
