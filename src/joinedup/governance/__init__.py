"""Governance: the policy decision, agreements, purposes, the audit chain and objections."""
