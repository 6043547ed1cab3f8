"""The REFERENCE engine: a frozen copy of the judging code (rules, rapport, judge, placing, processor, damping) as
it was before it was made faster. `tests/unit/scoring/test_engine_reference.py` compares the service's engine
against it on a large generated corpus, so any change of a judgement fails. Never optimise or fix these files: a
deliberate change of judgement changes both, in the same commit, with the reason (the team's opt-out rule,
damping and the team's damping were ported into it that way)."""
