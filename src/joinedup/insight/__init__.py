"""Insight: indicator rules over the linked view, flags with reasons, caseworkers' worklists.

* :mod:`.rules`: the YAML rule format, loaded and validated (errors name file and field);
* :mod:`.compile`: a rule → one DuckDB query over its source tables;
* :mod:`.run`: an insight run (job ``insight.run``): governed reads, evaluation, flags snapshot;
* :mod:`.flags`: the governed read of flags for people, and caseworkers' actions;
* :mod:`.evaluate`: the FSM flags against a synthetic region's truth.
"""
