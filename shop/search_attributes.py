"""Custom search attributes that make shop workflows findable in the Temporal UI (no PII)."""

from temporalio.common import SearchAttributeKey

USER_ID = SearchAttributeKey.for_int("ShopUserId")
PROVIDER = SearchAttributeKey.for_keyword("ShopProvider")
STATUS = SearchAttributeKey.for_keyword("ShopStatus")
# A payment's amount (in its currency) and plan, so the Temporal UI finds it by them too.
AMOUNT = SearchAttributeKey.for_float("ShopAmount")
PLAN_ID = SearchAttributeKey.for_int("ShopPlanId")

ALL = (USER_ID, PROVIDER, STATUS, AMOUNT, PLAN_ID)
