"""Declares the ``shop`` flow on import (for ``penstock -m tests.observed.shop_module``)."""

from tests.observed import shop

shop.declare()
