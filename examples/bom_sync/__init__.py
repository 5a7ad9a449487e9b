"""A bill-of-materials sync service, declared as the penstock flow ``bom_sync``."""

FLOW = "bom_sync"
