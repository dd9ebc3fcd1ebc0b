# Tests: Check unit tests and the autotest suite.
