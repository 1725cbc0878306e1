"""The ``accord`` command line: a thin adapter over ``accord.service``."""
