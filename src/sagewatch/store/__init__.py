"""Storage: one narrow interface per service (logs.py, tags.py, ...), two backends (sqlite/, and
PostgreSQL later). Nothing here knows about HTTP or AWS errors."""


class Conflict(Exception):
    """A create found the name taken (the caller turns this into the AWS error)."""


class Gone(Exception):
    """A write named a resource that was deleted after the caller looked it up (a race with a
    delete): nothing was written, and the caller answers as if the lookup had failed."""
