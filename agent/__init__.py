"""The investigation: LangGraph graph, state, hypotheses, evidence, planners, steering, report, CLI.

``from tierchem.agent import Investigation`` is the Python facade (see :mod:`tierchem.agent.session`).
"""


def __getattr__(name):
    if name in ("Investigation", "investigate", "run_demo"):
        from . import session

        return getattr(session, name)
    raise AttributeError(name)
