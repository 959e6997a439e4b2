/** Small values the object keeps about itself, in its `meta` table. */
export function getMeta(sql: SqlStorage, key: string): string | undefined {
  return sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value;
}

export function setMeta(sql: SqlStorage, key: string, value: string): void {
  sql.exec(
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    key,
    value,
  );
}

export function deleteMeta(sql: SqlStorage, key: string): void {
  sql.exec("DELETE FROM meta WHERE key = ?", key);
}

export function getMetaNumber(sql: SqlStorage, key: string): number | undefined {
  const value = getMeta(sql, key);
  return value === undefined || !/^-?\d+(\.\d+)?$/.test(value) ? undefined : Number(value);
}
