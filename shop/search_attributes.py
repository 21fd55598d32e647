"""Custom search attributes that make shop workflows findable in the Temporal UI (no PII)."""

from temporalio.common import SearchAttributeKey

USER_ID = SearchAttributeKey.for_int("ShopUserId")
PROVIDER = SearchAttributeKey.for_keyword("ShopProvider")
STATUS = SearchAttributeKey.for_keyword("ShopStatus")

ALL = (USER_ID, PROVIDER, STATUS)
