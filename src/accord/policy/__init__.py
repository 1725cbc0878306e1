"""Pure decisions: agreement state at an instant, release and read decisions, impact. No I/O.

Every decision cites the rules R1–R15 as docs/rules.md states them.
"""
