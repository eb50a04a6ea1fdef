"""Residents' rights: find a resident, subject access and portable exports, disputes
(rectification) and the effect of objections. See docs/rights.md."""
