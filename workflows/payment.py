"""PaymentWorkflow: one durable run per payment, `payment:<payment_id>`.

Create the provider payment, wait for a hint (webhook signal) or poll with backoff until the
provider's deadline, re-fetch and verify against our own order, then grant, provision, notify
and record the delivery. Webhooks only say "go look"; the provider's answer decides.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

from workflows.payment_hosts import INLINE_HOSTS_PATCH, HostFirstTries, provisioning_id
from workflows.payment_messages import (
    PaymentInput,
    PaymentLink,
    PaymentProgress,
    ProviderHint,
    TransferDecision,
    payment_search_attributes,
)
from workflows.payment_steps import ALIVE, PATIENT, SHORT, PaymentSteps
from workflows.provision import HostReports, ProvisionInput, ProvisionSubscriptionWorkflow
from workflows.proxy_delivery import PROXY_PATCH, ProxyDelivery

with workflow.unsafe.imports_passed_through():
    from activities.ledger import ApplyGrantInput, LedgerActivities
    from activities.payments import (
        Order,
        PaymentActivities,
        PaymentEvent,
        PaymentRef,
        RecordPaidInput,
        SetStatusInput,
    )
    from shop import search_attributes
    from shop.models import GrantKind, PaymentMethod, PaymentPurpose, PaymentStatus, Product
    from shop.payments.base import Expected, ProviderPayment, ProviderStatus, mismatches
    from shop.payments.stars import StarsCharge, as_provider_payment
    from shop.payments.status import FINAL

# Runs started before the referral program replay without its steps.
REFERRAL_PATCH = "referral-reward"
# Runs started before "access first" replay waiting for the whole provisioning child.
ACCESS_FIRST_PATCH = "access-first"
EARLY_HINT_PATCH = "early-hint"
# Runs started before it replay their short steps as activities (see workflows/payment_steps.py).
# It came after the patches above: a lean run has them all without a marker (and a search
# attribute upsert) for each.
LEAN_PATCH = "lean-steps"
HINT_GAP_PATCH = "hint-gap"
HINT_GAP = timedelta(seconds=1)
# Top-ups and gifts deliver money or a code instead of days (only runs of such payments reach it).
PURPOSE_PATCH = "payment-purpose"
# Runs started with it are lean and hold every patch above, and the paced queue's, local composing's
# and inline hosts', with this one marker (and search-attribute upsert) instead of one each; "paid"
# also lists the hosts to try, and the card's composing records "delivered": two steps fewer.
COMPACT_PATCH = "compact-run"
AWAITING_OPERATOR = "waiting for the operator"


def _holds(current: TypedSearchAttributes, wanted: TypedSearchAttributes) -> bool:
    """The run already carries these values (its starter set them): no upsert event needed."""
    return all(current.get(pair.key) == pair.value for pair in wanted)


@workflow.defn
class PaymentWorkflow(PaymentSteps, HostReports, ProxyDelivery, HostFirstTries):
    def __init__(self) -> None:
        super().__init__()
        self.stage = "starting"
        self.status: PaymentStatus | None = None
        self.pay_url: str | None = None
        self.detail = ""
        self.hints = 0
        self.charges: list[StarsCharge] = []
        self.transfer_claimed = False
        self.decision: TransferDecision | None = None
        self.granted = False

    # Signals and queries -------------------------------------------------------------------

    @workflow.signal
    def check_provider(self, hint: ProviderHint) -> None:
        self.hints += 1

    @workflow.signal
    def record_stars_charge(self, charge: StarsCharge) -> None:
        if all(known.charge_id != charge.charge_id for known in self.charges):
            self.charges.append(charge)

    @workflow.signal
    def confirm_transfer(self) -> None:
        self.transfer_claimed = True

    @workflow.update
    def decide_transfer(self, decision: TransferDecision) -> bool:
        """An operator's approve/decline: True for the decision that counts; a second one (a double
        tap, another operator) or one after the review window changes nothing."""
        if self.decision is not None or self.stage != AWAITING_OPERATOR:
            return False
        self.decision = decision
        return True

    @workflow.query
    def progress(self) -> PaymentProgress:
        return PaymentProgress(stage=self.stage, status=self.status, pay_url=self.pay_url, detail=self.detail)

    @workflow.update
    async def payment_link(self) -> PaymentLink:
        await workflow.wait_condition(lambda: self.pay_url is not None or self.stage != "starting")
        return PaymentLink(status=self.status or PaymentStatus.CREATED, pay_url=self.pay_url)

    # Steps ---------------------------------------------------------------------------------

    async def _set(self, order: Order, status: PaymentStatus, **fields: str | None) -> None:
        await self._step(
            PaymentActivities.set_status, SetStatusInput(payment_id=order.payment_id, status=status, **fields)
        )
        self._status_is(status)

    def _since(self, patch: str) -> bool:
        return self.lean or workflow.patched(patch)

    def _held(self, patch: str) -> bool:
        """A patch newer than `lean-steps`: held by a compact run, else marked when first asked."""
        return self.compact or workflow.patched(patch)

    def _status_is(self, status: PaymentStatus) -> None:
        self.status = status
        workflow.upsert_search_attributes([search_attributes.STATUS.value_set(status.value)])

    async def _await(self, condition: object, seconds: float) -> bool:
        try:
            await workflow.wait_condition(condition, timeout=max(seconds, 0.001))  # type: ignore[arg-type]
        except TimeoutError:
            return False
        return True

    async def _poll_provider(self, order: Order) -> ProviderPayment:
        # A hint that lands while the provider payment is being created must count: with the
        # patch, "new hints" are those since the last look at the provider, not since the wait.
        counted = self.hints if self._since(EARLY_HINT_PATCH) else None
        created: ProviderPayment = await self._step(PaymentActivities.create_provider_payment, order)
        self.pay_url, self.stage = created.pay_url, "waiting"
        self._status_is(PaymentStatus.PENDING)
        deadline = workflow.now() + timedelta(seconds=order.timings.deadline_seconds)
        if created.expires_at is not None:  # the provider's own expiry, plus a grace for late events
            deadline = min(deadline, created.expires_at + timedelta(minutes=2))
        delay = float(order.timings.poll_first_seconds)
        current = created
        hinted_at: datetime | None = None  # when a hint last made the run look at the provider
        while current.status is ProviderStatus.PENDING:
            remaining = (deadline - workflow.now()).total_seconds()
            if remaining <= 0:
                break
            seen = self.hints if counted is None else counted
            hinted = await self._await(lambda seen=seen: self.hints > seen, min(delay, remaining))
            if hinted and hinted_at is not None:
                await self._after_gap(hinted_at)
            if counted is not None:
                counted = self.hints
            current = await self._fetch(order, created.provider_payment_id)
            if hinted:
                hinted_at = workflow.now()
            delay = min(delay * 2, order.timings.poll_max_seconds)
        return current

    async def _after_gap(self, hinted_at: datetime) -> None:
        """Hints of a payment still pending come in floods (copies of one event, redeliveries): the
        ones within HINT_GAP of the last hinted look share the next look instead of one each. The
        first hint is looked at at once; a run begun before this patch looks at every one."""
        gap = (hinted_at + HINT_GAP - workflow.now()).total_seconds()
        if gap > 0 and self._held(HINT_GAP_PATCH):
            await workflow.sleep(gap)

    async def _stars_charge(self, order: Order) -> ProviderPayment | None:
        self.stage = "waiting"
        if not await self._await(lambda: bool(self.charges), order.timings.deadline_seconds):
            return None
        return as_provider_payment(self.charges[0])

    async def _transfer(self, order: Order) -> ProviderPayment | None:
        await self._set(order, PaymentStatus.PENDING)
        self.stage = "waiting for the customer's transfer"
        if not await self._await(lambda: self.transfer_claimed, order.timings.p2p_confirm_seconds):
            return None
        # Open for decisions before the operators are asked: one may tap faster than the notice's
        # activity completes.
        self.stage = AWAITING_OPERATOR
        await self._notify(order, PaymentEvent.TRANSFER_CLAIMED)
        if not await self._await(lambda: self.decision is not None, order.timings.p2p_review_seconds):
            return None
        assert self.decision is not None
        approved = self.decision.approve
        return ProviderPayment(
            provider_payment_id=f"p2p:{order.payment_id}",
            status=ProviderStatus.SUCCEEDED if approved else ProviderStatus.CANCELED,
            amount=order.amount,
            currency=order.currency,
            order_ref=order.payment_id,
            detail=f"{'approved' if approved else 'declined'} by operator {self.decision.operator_id}",
        )

    async def _collect(self, order: Order) -> ProviderPayment | None:
        if order.method is PaymentMethod.STARS:
            return await self._stars_charge(order)
        if order.method is PaymentMethod.P2P:
            return await self._transfer(order)
        return await self._poll_provider(order)

    async def _deliver(self, order: Order, provider_payment_id: str | None) -> None:
        if order.purpose is not PaymentPurpose.SUBSCRIPTION and self._held(PURPOSE_PATCH):
            self.stage = "fulfilling"
            if self.lean:  # a lean run records "paid" with the grant, and these have no grant
                await self._set(order, PaymentStatus.SUCCEEDED, provider_payment_id=provider_payment_id)
            await self._fulfil(order)
            return
        self.stage = "granting"
        grant = ApplyGrantInput(
            subscription_id=order.subscription_id,
            source_key=order.payment_id,
            seconds=order.seconds,
            kind=GrantKind.PURCHASE,
            actor=f"payment:{order.method.value}",
            product=order.product,  # the plan's: a proxy purchase extends the proxy's expiry
        )
        hosts: list[int] | None = None
        if self.lean:  # "paid" and its grant always go together: one local step
            paid = RecordPaidInput(
                payment_id=order.payment_id,
                provider_payment_id=provider_payment_id,
                grant=grant,
                list_hosts=self.compact and order.product is Product.VPN,
            )
            hosts = await self._step(PaymentActivities.record_paid, paid)
            self._status_is(PaymentStatus.SUCCEEDED)
        else:
            await workflow.execute_activity_method(
                LedgerActivities.apply_grant,
                grant,
                start_to_close_timeout=SHORT,
                heartbeat_timeout=ALIVE,
                retry_policy=PATIENT,
            )
        self.granted = True
        self.stage = "provisioning"
        if order.product is Product.PROXY and self._held(PROXY_PATCH):
            await self._provision_proxy(order)
            return
        child_id = provisioning_id(order)
        if self._since(ACCESS_FIRST_PATCH):
            if self.lean and self._held(INLINE_HOSTS_PATCH):
                await self._provision_first_tries(order, hosts)
            else:
                await self._provision_access_first(order, child_id)
            return
        # Hosts that stay down past the child's retry window are left to reconciliation.
        await workflow.execute_child_workflow(
            ProvisionSubscriptionWorkflow.run,
            ProvisionInput(subscription_id=order.subscription_id),
            id=child_id,
        )

    async def _provision_access_first(self, order: Order, child_id: str) -> None:
        """Return as soon as one host serves the customer; the child goes on with the others in the
        background (abandoned, not cancelled, when this run closes). When every host fails its
        first try, the customer and the operators hear so at once, and the card waits for the
        first host that recovers (or for the child to give up, leaving it to reconciliation)."""
        child = await workflow.start_child_workflow(
            ProvisionSubscriptionWorkflow.run,
            ProvisionInput(subscription_id=order.subscription_id, report_to=workflow.info().workflow_id),
            id=child_id,
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )
        await self._until_served(order, child, "waiting for a host")

    async def _end(self, order: Order, status: PaymentStatus, event: PaymentEvent, detail: str) -> None:
        self.detail = detail
        await self._set(order, status, reason=detail or None)
        await self._notify(order, event, detail)

    # The run -------------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: PaymentInput) -> PaymentProgress:
        self.compact = workflow.patched(COMPACT_PATCH)
        self.lean = self.compact or workflow.patched(LEAN_PATCH)
        order: Order | None = await self._step(
            PaymentActivities.load_order, PaymentRef(payment_id=inp.payment_id)
        )
        if order is None:
            self.stage = "unknown payment"
            return self.progress()
        self.status = order.status
        self.pay_url = order.pay_url
        given = payment_search_attributes(order.user_id, order.method, order.status)
        if not (self.lean and _holds(workflow.info().typed_search_attributes, given)):
            workflow.upsert_search_attributes([pair.key.value_set(pair.value) for pair in given])
        if order.status in FINAL:  # a re-run after retention: the table already holds the outcome
            self.stage = "already closed"
        else:
            await self._handle(order)
            await self._hand_over_the_rest(order)  # hosts still trying when the card went out
        await self._refund_extra_charges(order)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.progress()

    async def _handle(self, order: Order) -> None:
        paid_id: str | None = None
        paid = None if order.status is PaymentStatus.SUCCEEDED else await self._collect(order)
        if paid is not None and paid.status is not ProviderStatus.SUCCEEDED:
            canceled = paid.status is ProviderStatus.CANCELED
            status, event = (
                (PaymentStatus.CANCELED, PaymentEvent.CANCELED)
                if canceled
                else (PaymentStatus.EXPIRED, PaymentEvent.EXPIRED)
            )
            if order.method is PaymentMethod.P2P and canceled:
                event = PaymentEvent.TRANSFER_DECLINED
            self.stage = status.value
            await self._end(order, status, event, paid.detail or paid.status.value)
            return
        if paid is None and order.status is not PaymentStatus.SUCCEEDED:
            self.stage = "expired"
            await self._end(
                order, PaymentStatus.EXPIRED, PaymentEvent.EXPIRED, "no payment before the deadline"
            )
            return
        if paid is not None:
            expected = Expected(
                payment_id=order.payment_id,
                user_id=order.user_id,
                amount=order.amount,
                currency=order.currency,
                test_mode=order.test_mode,
            )
            problems = mismatches(expected, paid)
            if problems:
                await self._reject(order, "; ".join(problems))
                return
            stars = order.method is PaymentMethod.STARS
            paid_id = paid.provider_payment_id if stars else None
            if not self.lean:
                await self._set(order, PaymentStatus.SUCCEEDED, provider_payment_id=paid_id)
        try:
            await self._deliver(order, paid_id)
        except (ActivityError, ChildWorkflowError, ApplicationError) as error:
            # A lean (local) step's failure arrives unwrapped, as the ApplicationError it raised.
            cause = error.cause if isinstance(error, ActivityError) else error
            workflow.logger.error("payment %s: delivery failed: %s", order.payment_id, cause)
            await self._reject(order, f"delivery failed: {cause}")
            return
        # Recorded first: a Telegram outage must not hold back what the customer already has.
        if self.compact:
            card = await self._delivered(order)
            self.stage = "delivered"
            await self._send_card(order, card)
        else:
            await self._set(order, PaymentStatus.DELIVERED)
            self.stage = "delivered"
            await self._notify(order, PaymentEvent.DELIVERED)
        if self._since(REFERRAL_PATCH):
            await self._reward_referrer(order)

    async def _reject(self, order: Order, problems: str) -> None:
        """Not delivered: Stars go straight back to the customer, other money waits for a human."""
        if order.method is PaymentMethod.STARS and self.charges:
            self.stage = "refunded"
            if self.granted:
                await self._revoke(order, self.charges[0])
            await self._refund_charge(self.charges[0])
            await self._end(order, PaymentStatus.REFUNDED, PaymentEvent.UNDELIVERABLE_REFUNDED, problems)
            return
        self.stage = "review"
        await self._end(order, PaymentStatus.REVIEW, PaymentEvent.REVIEW, problems)

    async def _refund_extra_charges(self, order: Order) -> None:
        # A second invoice paid for the same payment id: only the first charge buys anything.
        refunded = 1 if self.charges else 0
        while refunded < len(self.charges):
            charge = self.charges[refunded]
            await self._refund_charge(charge)
            await self._notify(order, PaymentEvent.EXTRA_CHARGE_REFUNDED, detail=charge.charge_id)
            refunded += 1
