"""accord's test suite (a package so that tests can share ``tests.worlds`` and ``tests.oracle``)."""
