"""The synthetic region generator (``joinedup synth``)."""
