/**
 * What an operation records in the audit log, declared beside the operation
 * (lib/http/operation.ts `audit`) and carried on the request's actor to the
 * unit of work, which writes the row (lib/writes/unit.ts). Its own module so
 * that declarations, actors and the unit can all name it without importing
 * each other.
 */
export interface AuditDeclaration {
  /** `<resource>.<verb>`: `key.update`, `credits.grant` (docs/api.md lists every action). */
  action: string;
  /** What `targetId` names: `key`, `management_key`, `user`, `model` … */
  targetType: string;
  /**
   * The operation may succeed without changing anything, and then writes no
   * row (a Stripe event Keygate ignores, or one already credited). Without
   * it, every success writes exactly one row (checked outside production).
   */
  onlyWhenChanged?: true;
}
