"""Rules layer: deterministic findings from facts (see interface.py)."""

from threatmodel.rules.interface import Rule, RuleContext, all_rules, run_rules

__all__ = ["Rule", "RuleContext", "all_rules", "run_rules"]
