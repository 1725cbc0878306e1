"""Pure decisions: agreement state at an instant, release and read decisions, impact. No I/O."""
