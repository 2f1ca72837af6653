"""OVHcloud: posting SMS jobs, translating OVH's errors, and the read-only account queries."""
