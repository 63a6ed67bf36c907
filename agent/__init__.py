"""The investigation: LangGraph graph, state, hypotheses, evidence, planners, steering, report, CLI."""
