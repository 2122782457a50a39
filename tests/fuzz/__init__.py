"""A model-driven fuzzer for sagewatch's AWS front end.

``generate`` builds requests for every operation of every service sagewatch serves, on every
wire protocol the service's botocore model lists, from the same models the gateway reads;
``oracle`` sends them over one keep-alive connection and judges each answer (never a 5xx but
the documented 501, an error body every SDK can read, no hang, no crash, memory flat).
tests/e2e/test_fuzz.py runs it: a few thousand requests in ``make test``, as many as
``SAGEWATCH_FUZZ_REQUESTS`` asks otherwise.
"""
