"""The scopes an API token may carry (no imports: the CLI's help names them at start-up)."""

#: ``read`` covers GET endpoints, ``ingest`` uploads, ``governance`` agreement and objection
#: changes, ``review`` linkage review decisions, ``admin`` organisations and users,
#: ``casework`` actions on flags.
SCOPES = ("read", "ingest", "governance", "review", "admin", "casework")
