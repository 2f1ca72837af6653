"""The send use case: check, record, post each job, record, report, finish; and recovery of what crashed."""
