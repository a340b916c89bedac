"use client";

import { PageHeader } from "@/components/ui/headings";
import { AuditLog } from "@/components/audit/audit-log";

/** Your account's audit log: every change to it, by whom and from where, and every sign-in. */
export function AuditPage() {
  return (
    <div className="space-y-6">
      <PageHeader title="Audit log">
        Who changed what in your account, when and from where: you, your management keys, an operator or Keygate itself, and every sign-in. Secrets never appear
        here.
      </PageHeader>
      <AuditLog scope="own" id="audit-log-title" title="Changes and sign-ins" />
    </div>
  );
}

/** Operators: every account's log and the operator-wide changes (models, upstreams, pools). */
export function AdminAuditPage() {
  return (
    <div className="space-y-6">
      <PageHeader title="Audit log (all accounts)">
        Every change and sign-in on this Keygate: each account&apos;s, and the operator-wide ones to models, upstreams and pools. Narrow it to one account by
        its ID.
      </PageHeader>
      <AuditLog scope="admin" id="admin-audit-log-title" title="All changes and sign-ins" />
    </div>
  );
}
