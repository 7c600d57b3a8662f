"""dbt's `modules` context member for sqlfluff's jinja templater."""

import datetime
import re

__all__ = ["datetime", "re"]
