"""Every action the audit log records, declared once: its name, what it means, and whether it
discloses a resident's personal data to someone.

``append_event`` refuses an action that is not declared here, and a subject access export
lists exactly the events whose action ``discloses`` (:data:`DISCLOSURES`), so a new read path
cannot drop out of residents' exports by choosing a new name. The names are stored in
``audit_event.action`` and are part of the hash chain: never rename one, add a new one.
"""

from __future__ import annotations

from enum import StrEnum

from joinedup.catalog.models import AgreementStatus


class AuditAction(StrEnum):
    """An audit action. The description of a disclosing action is shown to the resident in
    their subject access export."""

    description: str
    discloses: bool

    def __new__(cls, value: str, description: str, discloses: bool = False) -> AuditAction:
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        member.discloses = discloses
        return member

    # --- reads of personal data (disclosures) ---------------------------------------------
    PERSONAL_DATA_READ = ("personal_data.read", "Read the records", True)
    PERSONAL_DATA_PROCESS = (
        "personal_data.process",
        "Processed the dataset (automated, in bulk)",
        True,
    )
    LINKAGE_EXPLAIN = ("linkage.explain", "Viewed how the records were linked", True)
    LINKAGE_PAIR_VIEW = ("linkage.pair_view", "Reviewed a possible match", True)
    LINKAGE_FIND = ("linkage.find", "Looked the resident up in the resident index", True)
    RIGHTS_FIND = ("rights.find", "Searched for the resident (subject access)", True)
    RIGHTS_EXPORT = ("rights.export", "Released a subject access export", True)

    # --- accounts and sessions --------------------------------------------------------------
    USER_CREATE = ("user.create", "Created a user account")
    USER_DEACTIVATE = ("user.deactivate", "Deactivated a user account")
    USER_PASSWORD_SET = ("user.password_set", "Set a user's password")
    SIGN_IN = ("auth.sign_in", "Signed in")
    SIGN_IN_FAILED = ("auth.sign_in_failed", "Failed to sign in")
    SIGN_IN_THROTTLED = ("auth.sign_in_throttled", "Sign-in refused: too many failures")
    SIGN_OUT = ("auth.sign_out", "Signed out")
    PURPOSE_CHANGE = ("auth.purpose_change", "Chose the purpose they act under")
    PURPOSE_REFUSED = (
        "auth.purpose_refused",
        "Refused: acted under a purpose their role is not granted",
    )
    TOKEN_CREATE = ("token.create", "Created an API token")
    TOKEN_REVOKE = ("token.revoke", "Revoked an API token")

    # --- governance -------------------------------------------------------------------------
    ORGANISATION_CREATE = ("organisation.create", "Registered an organisation")
    PURPOSE_CREATE = ("purpose.create", "Registered a purpose")
    PURPOSE_GRANT = ("purpose.grant", "Granted a role a purpose")
    PURPOSE_GRANT_REVOKE = ("purpose.grant_revoke", "Revoked a role's grant of a purpose")
    AGREEMENT_DRAFT = ("agreement.draft", "An agreement was drafted")
    AGREEMENT_PROPOSED = ("agreement.proposed", "An agreement was proposed")
    AGREEMENT_ACTIVE = ("agreement.active", "An agreement came into force")
    AGREEMENT_EXPIRED = ("agreement.expired", "An agreement expired")
    AGREEMENT_REVOKED = ("agreement.revoked", "An agreement was revoked")
    AGREEMENT_APPROVE = ("agreement.approve", "A party approved an agreement")
    AGREEMENT_PARTY_LEAVE = (
        "agreement.party_withdraw",
        "A party withdrew from an agreement (it goes on for the others)",
    )
    ETHICS_DRAFT = ("ethics.draft", "Drafted a version of an ethics record")
    ETHICS_SIGN_OFF = ("ethics.sign_off", "Signed off an ethics record (DPO)")
    OBJECTION_RECORD = ("objection.record", "Recorded a resident's objection")
    OBJECTION_WITHDRAW = ("objection.withdraw", "Withdrew a resident's objection")
    AUDIT_VIEW = ("audit.view", "Searched the audit log")
    AUDIT_EXPORT = ("audit.export", "Exported the audit log")

    # --- the stages ---------------------------------------------------------------------------
    DATASET_VERSION_CREATE = ("dataset.version.create", "Ingested a new dataset version")
    INGEST_LAYOUT_ACCEPT = ("ingest.layout.accept", "Accepted a mapping for a file layout")
    DATASET_READ = ("dataset.read", "Read a dataset that holds no personal data")
    LINKAGE_REVIEW_DECISION = ("linkage.review_decision", "Decided a possible match")
    LINKAGE_WRONG_MATCH = ("linkage.wrong_match_reported", "Reported a wrong match")
    FLAG_ACTION = ("flag.action", "Recorded an action on a flag")
    BOUNDARIES_LOAD = ("areas.boundaries.load", "Loaded area boundaries")
    INTERVENTION_DEFINE = ("insight.intervention.define", "Defined an intervention")
    IMPACT_ESTIMATE = ("insight.impact.estimate", "Estimated an intervention's impact")
    BUSINESS_CASE_SAVE = ("business_case.save", "Saved an intervention's business case")
    BUSINESS_CASE_EXPORT = ("business_case.export", "Exported a business case as a PDF")
    PUBLICATION_DEFINE = ("publication.define", "Defined a publication")
    PUBLICATION_RELEASE = ("publication.release", "Built a release of a publication")
    PUBLICATION_APPROVE = ("publication.approve", "Approved a release for publication")
    PUBLICATION_REJECT = ("publication.reject", "Rejected a release")
    RIGHTS_COLLECT = ("rights.collect", "Collected a subject access export for review")
    RIGHTS_EXPORT_DOWNLOAD = ("rights.export_download", "Downloaded a released export")
    RIGHTS_DISPUTE = ("rights.dispute", "Recorded a dispute of a record")
    RIGHTS_DISPUTE_VIEW = ("rights.dispute_view", "Viewed a dispute")
    RIGHTS_DISPUTE_RESOLVE = ("rights.dispute_resolve", "Resolved a dispute")


class UnregisteredAction(ValueError):
    """An audit event named an action that :class:`AuditAction` does not declare."""


_BY_VALUE: dict[str, AuditAction] = {action.value: action for action in AuditAction}


def registered(action: str) -> AuditAction:
    """The declared action called ``action``; refuses any other name."""
    found = _BY_VALUE.get(action)
    if found is None:
        raise UnregisteredAction(
            f"audit action {action!r} is not declared in joinedup.governance.audit_actions"
        )
    return found


def agreement_moved(to: AgreementStatus) -> AuditAction:
    """The action recorded when an agreement moves to the status ``to``."""
    return registered(f"agreement.{to.value}")


#: Actions that disclose a resident's data, with what the resident is told happened.
DISCLOSURES: dict[str, str] = {
    action.value: action.description for action in AuditAction if action.discloses
}
