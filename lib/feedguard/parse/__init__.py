"""Turning raw text into typed records, as pure DataFrame transforms: the cheap flag that marks records
that may be bad, and the exact checks (JSON shape, duplicate keys, numbers that do not fit, RFC 4180
quoting) that explain them; then the measuring pass over the cached records. No session, no paths, no
boto3.
"""
