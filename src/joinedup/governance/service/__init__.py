"""The governance use cases, one module per resource, shared by the JSON API and the pages.

The web is a thin adapter over these functions: routes and pages parse the request, call one
function here with the caller (:class:`~joinedup.governance.service.common.Caller`) and the
input, and render what comes back. Every rule is decided here or in the governance core below
(:mod:`joinedup.governance.agreements`, :mod:`~joinedup.governance.accounts`, …), which writes
the audit entry in the same transaction as the change. A refusal is raised as a
:class:`joinedup.errors.JoinedupError` with its status and the field at fault; the web renders
it in one place (:mod:`joinedup.web.errors`).

Who may do what:

* agreements and purposes: any signed-in user reads them (they hold no personal data, and
  knowing what is shared is part of sharing it openly); data owners and DPOs draft agreements;
  the lifecycle steps follow :func:`joinedup.governance.agreements.check_action`; hub admins
  register purposes.
* the audit log and objections: DPOs only. A DPO of the hub sees the whole log; a DPO of a
  council or partner sees their own organisation's entries, reads of its data and changes to its
  agreements (:func:`joinedup.governance.audit_search.scope_for`). Hub admins may check that the
  chain is intact, as ``joinedup audit verify`` does, but not read entries: entries name
  residents' records, and hub admins never see personal data.
* organisations and users: hub admins. API tokens: each user their own.
"""
