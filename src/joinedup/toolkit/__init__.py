"""The ODI Data and Public Services Toolkit, built in (issue 22): ethics records (the Data
Ethics Canvas), the public register of data sharing, the live data ecosystem map, and business
cases tied to measured impact. See docs/guides/ethics-and-transparency.md and ADR 0037."""
