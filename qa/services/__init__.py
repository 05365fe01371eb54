"""QA writes, one module per sub-domain. Annotation rows change only through annotation.services."""
