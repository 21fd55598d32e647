TEXTS: dict[str, str] = {
    "welcome": "👋 Welcome to {shop}, {name}!",
    "welcome_back": "👋 Welcome back, {name}!",
    # Payments
    "pay_delivered": "✅ Payment received. Your subscription is active until {expires}.\n\nYour link: {url}",
    "pay_canceled": "❌ The payment was canceled ({detail}). No money was taken; you can try again.",
    "pay_expired": "⌛ The payment expired before it was paid. Start a new one from the menu.",
    "pay_review": "🔎 We received your payment and are checking it. We will write to you shortly.",
    "pay_refunded_undeliverable": "↩️ We could not deliver your order, so the payment was refunded in full.",
    "pay_extra_charge_refunded": "↩️ You paid the same order twice; the second payment was refunded.",
    "pay_transfer_claimed": "⏳ Thank you! An operator is checking your transfer.",
    "pay_transfer_declined": "❌ The operator could not find your transfer. Write to support if you paid.",
    "pay_refund_applied": "↩️ A refund was made; your subscription now ends {expires}.",
    "pay_unknown": "This payment is not yours or no longer exists. Please start again from the menu.",
    "pay_already_closed": "This order is already paid or closed.",
    "pay_price_changed": "The price has changed. Please start again from the menu.",
    "pay_plan_unavailable": "This plan is no longer on sale.",
    "pay_method_unavailable": "This payment method is not available right now.",
    "pay_transfer_requisites": (
        "Transfer exactly {amount} {currency} to:\n{requisites}\n\nThen press «I have paid»."
    ),
    "pay_transfer_done_button": "I have paid",
    "pay_transfer_noted": "Noted, the operator will check it.",
    "pay_try_later": "We could not take this payment right now; please try again in a minute.",
    # Operators
    "op_sale": "💰 Sale {payment_id}: {amount} {currency} via {method}, user {user_id}.",
    "op_review": (
        "⚠️ Payment {payment_id} ({amount} {currency} via {method}, user {user_id}) needs review: {detail}"
    ),
    "op_refunded_undeliverable": "↩️ Payment {payment_id} (user {user_id}) was refunded: {detail}",
    "op_extra_charge_refunded": "↩️ Duplicate charge {detail} for payment {payment_id} refunded.",
    "op_transfer_claimed": (
        "💳 User {user_id} says they transferred {amount} {currency} (payment {payment_id})."
    ),
    "op_refund_applied": (
        "↩️ Refund for payment {payment_id} (user {user_id}) applied; access now ends {expires}."
    ),
    "op_approve": "✅ Approve",
    "op_decline": "❌ Decline",
    "op_decision_recorded": "Recorded.",
    "op_not_operator": "Only operators can do this.",
}
