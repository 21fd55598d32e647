"""English catalogue. Values in {braces} are filled in by the bot (already HTML-escaped)."""

TEXTS: dict[str, str] = {
    # General
    "btn_menu": "🏠 Main menu",
    "btn_back": "← Back",
    "btn_cancel": "Cancel",
    "need_start": "Please send /start to begin.",
    "banned": "⛔ Your access to this bot is blocked. If you think this is a mistake, contact support.",
    "unknown_command": "There is no such command. Open the menu: /menu",
    "not_understood": "I don't understand this message 🤔 Please use the menu buttons.",
    "stale_button": "This button is out of date. Open the menu again: /menu",
    # Onboarding
    "welcome": "👋 Welcome to {shop}, {name}!",
    "welcome_back": "👋 Welcome back, {name}!",
    "reminder_soon": "⏳ Your VPN subscription ends {when} ({left} left). Renew to keep your access; your link stays the same.",
    "reminder_soon_trial": "⏳ Your trial ends {when} ({left} left). Subscribe to stay connected; your link stays the same.",
    "reminder_expired": "⌛ Your VPN subscription has ended. Renew and access comes back on the same link.",
    "reminder_expired_trial": "⌛ Your trial has ended. Subscribe and access comes back on the same link.",
    "reminder_winback": "👋 We miss you! Your VPN subscription ended {when}. Renew in two taps; the link is the same.",
    "button_renew": "➕ Renew subscription",
    "hours_left": "{n} h",
    "days_left": "{n} d",
    "onboarding": "👋 Welcome to {shop}!\n{steps}",
    "onboarding_channel": "📢 Join our channel.",
    "onboarding_terms": "📄 Read the terms of service and the privacy policy.",
    "onboarding_pending": "Please press the button under the welcome message above first 👆",
    "btn_channel": "📢 Our channel",
    "btn_terms": "📄 Terms",
    "btn_privacy": "🔒 Privacy",
    "btn_accept": "✅ I accept the terms",
    "btn_subscribed": "✅ I have joined",
    "channel_not_joined": "You have not joined the channel yet. Join it and press the button again.",
    "channel_check_failed": "Could not check the subscription: the bot must be an admin of the channel. "
    "Please tell support.",
    "onboarding_done": "Enjoy! 🎉",
    # Main menu
    "menu_title": "🏠 <b>Main menu</b>\n\n{status}",
    "status_active": "✅ Subscription active until {date} ({days} days left)",
    "status_trial": "🎁 Trial until {date} ({days} days left)",
    "status_expired": "❌ Subscription expired on {date}",
    "status_none": "No subscription yet.",
    "btn_buy": "💳 Buy a subscription",
    "btn_extend": "➕ Extend subscription",
    "btn_trial": "🎁 Try for free",
    "btn_subscription": "👤 My subscription",
    "btn_help": "📖 How to connect",
    "btn_support": "🆘 Support",
    "btn_about": "ℹ️ About",
    "btn_language": "🌐 Language / Язык",
    "btn_admin": "🛠 Admin",
    # Buying
    "plans_title": "🌍 <b>Choose a plan</b> (all servers, one link):",
    "plans_extend_notice": "ℹ️ You already have a subscription active until {date}. "
    "A new purchase extends it; your link stays the same.",
    "no_plans": "No plans are available right now. Please check back later.",
    "plan_button": "{name} · {days} days — {price}",
    "choose_method": "📦 <b>{plan}</b> · {days} days — {price}\n\nChoose a payment method:",
    "no_methods": "No payment methods are available right now. Please try later or contact support.",
    "method_yookassa": "🏦 Bank card / SBP",
    "method_cryptopay": "🤖 CryptoBot",
    "method_stars": "⭐ Telegram Stars",
    "method_p2p": "💳 Card transfer (P2P)",
    "order": "🧾 <b>Order</b>\nPlan: {plan} · {days} days\nAmount: {price}\nMethod: {method}\n\nPress “Pay”.",
    "btn_pay": "💳 Pay",
    "payment_not_found": "This payment was not found.",
    "payment_closed": "This payment is already finished. Start a new purchase from the menu.",
    "pay_by_link": "🧾 {plan} · {price}\n\nPress the button below to pay. Your access will arrive here "
    "automatically.",
    "btn_go_pay": "➡️ Go to payment",
    "invoice_description": "Access to all servers for {days} days",
    "invoice_label": "{days} days",
    "pay_p2p": "💳 Transfer <b>{price}</b> to:\n<code>{requisites}</code>\n\nThen press “I have paid”.",
    "btn_transferred": "✅ I have paid",
    "transfer_submitted": "Request sent! An operator will check the transfer, usually within 15 minutes.",
    # Referral program
    "btn_referral": "🤝 Referral program",
    "ref_disabled": "❌ The referral program is not available right now.",
    "ref_screen": "🤝 <b>Referral program</b>\n\n{terms}\n\nYour link:\n<code>{link}</code>\n\n"
    "Invited: {invited}\nMade a purchase: {paying}\nBalance: <b>{balance}</b>\nEarned in total: {earned}"
    "\n\n{withdrawal}",
    "ref_terms_reward": "Invite friends with your link and get {percent}% of every purchase they make.",
    "ref_terms_discount": "Your friends get {percent}% off their first purchase.",
    "ref_withdraw_ready": "💸 You can withdraw your balance (from {minimum}).",
    "ref_withdraw_missing": "Withdrawals start at {minimum}: {missing} to go.",
    "ref_withdraw_open": "⏳ Your withdrawal request for {amount} is being reviewed.",
    "btn_withdraw": "💸 Withdraw",
    "btn_copy_ref_link": "📋 Copy link",
    "ref_reward_notice": "🎉 Your invitee {invitee} made a purchase: +{amount} to your referral balance.",
    "wd_ask_details": "💸 <b>Withdraw {amount}</b>\n\nSend your payout details in one message: card number, "
    "or phone and bank ({min}–{max} characters).\n\nTo stop: /cancel",
    "wd_details_length": "Payout details are text of {min} to {max} characters. Send them again or /cancel.",
    "wd_confirm": "💸 <b>Check your request</b>\n\nAmount: <b>{amount}</b>\nDetails: <code>{details}</code>\n\n"
    "Is everything right?",
    "btn_wd_send": "✅ Send request",
    "wd_sent": "✅ Withdrawal request #{id} for {amount} sent. We will write once an operator has reviewed it.",
    "wd_canceled": "Withdrawal canceled.",
    "wd_below_minimum": "Withdrawals start at {minimum}.",
    "wd_already_open": "You already have a withdrawal request being reviewed.",
    "wd_approved": "✅ Withdrawal request #{id} for {amount} approved: the money is on its way to your details.",
    "wd_declined": "❌ Withdrawal request #{id} for {amount} declined; the amount is back on your referral "
    "balance. Write to support if you have questions.",
    "discount_first_purchase": "<s>{full}</s> {price} (−{percent}% off your first purchase)",
    "pay_discount_spent": "The first-purchase discount has been used already. Start a new order from the menu.",
    # Trial
    "trial_disabled": "The free trial is not available right now.",
    "trial_used": "You have already used your free trial.",
    "trial_paid": "The free trial is only available before the first purchase.",
    "trial_failed": "❌ Could not start the trial. Please try again later.",
    "heading_trial": "🎁 <b>Your free trial is active!</b>",
    "heading_paid": "🎉 <b>Your subscription is active!</b>",
    "heading_link": "🔗 <b>Your subscription link</b>",
    "access_card": "{heading}\n\nValid until: <b>{date}</b>\nServers: {servers}\n\n"
    "Subscription link:\n<code>{link}</code>\n\n"
    "Copy the link and add it to your VPN app (see “How to connect”).",
    "servers_preparing": "{ready} of {servers} ready; the others are being prepared and will appear in your app by themselves",
    "btn_copy_link": "📋 Copy link",
    "btn_qr": "📱 QR code",
    "btn_new_link": "🔄 New link",
    "btn_instructions": "📖 How to connect",
    "qr_caption": "📱 Scan this QR code in your VPN app.",
    # My subscription
    "sub_card": "👤 <b>My subscription</b>\n\nStatus: {state}\nExpires: <b>{date}</b>\nDays left: {days}\n"
    "Servers: {servers}\nTraffic: ↑ {upload} ↓ {download}\n\nLink:\n<code>{link}</code>",
    "state_active": "✅ Active",
    "state_trial": "🎁 Trial",
    "sub_none": "You don't have a subscription yet.",
    "sub_expired": "❌ Your subscription expired on {date}. Extend it; your link stays the same.",
    "rotate_confirm": "🔄 Create a new link?\n\nThe old link stops working at once; you will have to replace "
    "it in every app.",
    "btn_rotate_yes": "✅ Yes, new link",
    "link_rotated": "✅ <b>New link created.</b> Replace it in your apps.",
    "no_active_access": "You have no active subscription.",
    # Help, about, support
    "help_title": "📖 <b>How to connect</b>\n\n1. Install the app for your platform.\n"
    "2. Copy your subscription link from “My subscription”.\n"
    "3. Add the subscription in the app (or tap “Import”).\n4. Connect.\n\nChoose your platform:",
    "help_android": "🤖 <b>Android</b>\n\n1. Install Happ or v2rayNG.\n2. Tap “Import” below or copy the "
    "subscription link.\n3. In the app: “+” → “Import from clipboard”.\n"
    "4. Update the subscription and connect.",
    "help_ios": "🍏 <b>iOS</b>\n\n1. Install Happ or Streisand from the App Store.\n2. Tap “Import” below or "
    "copy the link.\n3. Add the subscription and allow the VPN profile.\n4. Connect.",
    "help_windows": "🪟 <b>Windows</b>\n\n1. Install Hiddify or v2rayN.\n2. Tap “Import” below or copy the "
    "link.\n3. Add the subscription from the clipboard.\n4. Turn on VPN (TUN) mode and connect.",
    "help_macos": "🍎 <b>macOS</b>\n\n1. Install Happ or Hiddify.\n2. Tap “Import” below or copy the link.\n"
    "3. Add the subscription.\n4. Connect.",
    "help_linux": "🐧 <b>Linux</b>\n\n1. Install Hiddify.\n2. Copy the subscription link.\n"
    "3. “New profile” → “Add from clipboard”.\n4. Turn on VPN mode and connect.",
    "btn_import": "⚡ Import into {app}",
    "btn_install": "⬇️ {app}",
    "about_text": "ℹ️ <b>{shop}</b>\n\nFast VLESS VPN: one link for all servers and all your devices.",
    "support_text": "🆘 <b>Support</b>\n\nDescribe your problem in one message and we will answer as soon as "
    "we can.",
    "support_missing": "No support contact has been set yet.",
    "btn_write_support": "🆘 Contact support",
    # Language
    "language_title": "🌐 Choose your language / Выберите язык:",
    "language_set": "✅ Language: English",
    # Operator
    "admin_title": "🛠 <b>Admin</b>",
    "btn_stats": "📊 Statistics",
    "btn_find": "🔎 Find a user",
    "btn_reviews": "💳 Payments to review",
    "admin_stats": "📊 <b>Statistics</b>\n\nUsers: {users} (banned: {banned})\n"
    "Active subscriptions: {active}\nRevenue today: {today}\nRevenue, last 30 days: {month}\n"
    "Payments waiting for review: {review}",
    "admin_find_hint": "Send <code>/find 123456789</code> or <code>/find @username</code>.",
    "admin_not_found": "User {query} not found.",
    "admin_card": "👤 <b>{name}</b> {username}\nID: <code>{id}</code> · language: {lang_code}\n"
    "Access: {access}\nTrial used: {trial}\nBanned: {banned}",
    "yes": "yes",
    "no": "no",
    "btn_ban": "⛔ Ban",
    "btn_unban": "✅ Unban",
    "admin_days_done": "Done, access until {date}",
    "admin_days_repeat": "Already applied, access until {date}",
    "admin_banned": "User banned.",
    "admin_unbanned": "User unbanned.",
    "days_added": "🎁 You got {days} extra days. Your subscription is active until {date}.",
    "days_removed": "⚠️ Your subscription was shortened by {days} days. It runs until {date}.",
    "admin_reviews_empty": "No payments are waiting for review.",
    "admin_review_line": "• <code>{id}</code> · {method} · {amount} · user <code>{user}</code>{reason}",
    "btn_workflow": "🔎 {id} in Temporal",
    "admin_review_done": "Decision saved.",
    "admin_review_repeat": "This payment was already decided.",
    "btn_withdrawals": "💸 Withdrawal requests",
    "btn_console": "🖥 Web console",
    "console_link": "Your sign-in link to the web console (one use, valid {minutes} minutes, do not share it):\n{link}",
    "op_withdrawal": "💸 Withdrawal request #{id}: <b>{amount}</b>\nFrom: {name} (<code>{user}</code>)\n"
    "Details: <code>{details}</code>",
    "admin_withdrawals_empty": "No withdrawal requests are waiting.",
    "admin_withdrawal_line": "• #{id} · {amount} · <code>{user}</code> · <code>{details}</code>",
    "btn_wd_approve_n": "✅ #{id}",
    "btn_wd_decline_n": "❌ #{id}",
    "admin_wd_repeat": "This request was already decided.",
    "admin_wd_unknown": "Request not found.",
    "admin_trial_taken": "🎁 Trial taken: {user} (<code>{id}</code>), {days} days.",
    "admin_banned_later": "User banned. Saved; the panels will follow within {minutes} min.",
    "admin_unbanned_later": "User unbanned. Saved; the panels will follow within {minutes} min.",
    "admin_transfer_reason": " · transfer waiting for a decision",
    "btn_approve_short": "✅ {id}",
    "btn_decline_short": "❌ {id}",
    # Broadcast
    "btn_broadcast": "📣 Broadcast",
    "bc_ask_message": "📣 <b>Broadcast</b>\n\nSend the message to broadcast: text, a photo, a video or a "
    "document. Everyone gets a copy of it as it is.\n/cancel to stop.",
    "bc_not_command": "That is a command, not a message to broadcast. Send the message, or /cancel.",
    "bc_ask_button": "Add a link button? Send it like this:\n<code>Button text | https://example.com</code>\n"
    "or tap “No button”.",
    "btn_bc_no_button": "No button",
    "btn_bc_cancel": "✖️ Cancel",
    "bc_button_format": "I could not read the button. Send it like this: "
    "<code>Button text | https://example.com</code>, or tap “No button”.",
    "bc_button_text_long": "The button text is longer than 64 characters. Shorten it and send the button again.",
    "bc_button_url": "The link must start with https:// and point to a website, like "
    "<code>https://example.com</code>. Send the button again.",
    "bc_button_refused": "Telegram did not accept this button. Send another link or tap “No button”.",
    "bc_not_copyable": "This message cannot be broadcast. Send another one: text, a photo, a video or a document.",
    "bc_preview": "👆 This is what users will see. Recipients right now: {count}. Send it?",
    "btn_bc_send": "✅ Send",
    "bc_use_buttons": "Tap “Send” or “Cancel” under the preview (or /cancel).",
    "bc_canceled": "Broadcast cancelled.",
    "bc_started": "📣 Broadcast started. The report will come here when it is done.",
    "bc_already": "This broadcast is already started.",
    "bc_was_canceled": "This broadcast was cancelled.",
    "bc_stopping": "Stopping: copies already on their way still go, then the report comes.",
    "bc_over": "This broadcast is already over.",
    "bc_try_later": "That did not work right now; please try again in a minute.",
    "btn_bc_progress": "🔄 Progress",
    "btn_bc_stop": "⏹ Stop",
    "bc_state_starting": "starting",
    "bc_state_sending": "in progress",
    "bc_state_finished": "finished",
    "bc_state_canceled": "stopped",
    "bc_progress": "📣 Broadcast {state}\n\nSent: {sent} of {recipients}\nNot delivered: {failed}\n"
    "Blocked the bot: {blocked}\nSkipped (banned): {skipped}",
    "bc_report": "📣 <b>Broadcast finished</b>\n\nSent: {sent}\nNot delivered: {failed}\n"
    "Blocked the bot: {blocked}\nSkipped (banned): {skipped}",
    "bc_report_stopped": "📣 <b>Broadcast stopped</b>\n\nSent: {sent}\nNot sent: {left}\n"
    "Not delivered: {failed}\nBlocked the bot: {blocked}\nSkipped (banned): {skipped}",
    # Commands in Telegram's menu
    "cmd_start": "Start",
    "cmd_menu": "Main menu",
    "cmd_subscription": "My subscription and link",
    "cmd_buy": "Buy or extend",
    "cmd_help": "How to connect",
    "cmd_support": "Support",
    # Payments
    "pay_canceled": "❌ The payment was canceled ({detail}). No money was taken; you can try again.",
    "pay_expired": "⌛ The payment expired before it was paid. Start a new one from the menu.",
    "pay_no_host_yet": "✅ Payment received. Your servers are being prepared; your access card will arrive here as soon as the first one is ready.",
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
    "pay_try_later": "We could not take this payment right now; please try again in a minute.",
    # Operators
    "op_sales_digest": "💰 Sales {since}–{until}: {count}, {totals}",
    "op_sales_digest_line": "• {payment_id}: {amount} via {method}, user {user_id}",
    "op_sales_digest_more": "… and {count} more",
    "op_no_host_yet": "⚠️ Payment {payment_id} ({amount} {currency}, user {user_id}) is paid, but no server could take the client yet: {detail}\nThe customer gets the card as soon as a host recovers.",
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
    # Support desk: what the customer reads
    "btn_support_chat": "✍️ Write to support",
    "support_chat_intro": "✍️ Write your question here: text, a photo, a video, a file, a voice message or "
    "a sticker. An operator answers in this chat.",
    "support_hello": "👋 This is {shop} support. Describe your problem and an operator answers here.",
    "support_received": "✅ Your message reached support. An operator answers here as soon as possible.",
    "support_unsupported": "This kind of message cannot be passed to support. Please send text, a photo, "
    "a video, a file, a voice message or a sticker.",
    "support_closed": "✅ Your support request is closed. Write again any time and it opens again.",
    "support_unavailable": "Support cannot be reached right now. Please try again in a few minutes.",
    # Support desk: what operators read in a topic
    "desk_topic": "{name}{username} ({id})",
    "desk_card": "👤 <b>{name}</b>{username}\nID: <code>{id}</code> · language: {locale}{banned}\n\n"
    "🔑 {status}\n🖥 Servers: {servers}\n\n💳 Last payments:\n{payments}\n\n"
    "👥 Invited: {invited} · referral balance: {balance}{referrer}\n\n🔗 {console}",
    "desk_banned_mark": " · ⛔ banned",
    "desk_referrer": " · invited by {id}",
    "desk_payment_line": "• {date} · {amount} · {status} · <code>{id}</code>",
    "desk_no_payments": "none",
    "desk_restored": "♻️ Topic restored: the previous one was deleted. The last messages follow.",
    "desk_reopened": "🔓 The customer wrote again: the ticket is open.",
    "desk_blocked": "⚠️ Not delivered: the customer blocked the bot.",
    "desk_failed": "⚠️ Not delivered: {reason}",
    "desk_unsupported": "⚠️ This kind of message cannot be sent to the customer: text, photo, video, "
    "file, voice or sticker only.",
    "desk_help": "Commands in a topic:\n/grant 7d — add days\n/ban, /unban\n/link — send the access card\n"
    "/quick — saved answers; /quick add &lt;name&gt; &lt;text&gt;; /quick del &lt;name&gt;\n"
    "/q &lt;name&gt; — send a saved answer",
    "desk_grant_usage": "Usage: /grant 7d — from 1 to {max} days. Nothing was changed.",
    "desk_granted": "✅ +{days} d: access until {date}.",
    "desk_grant_repeat": "Already applied: access until {date}.",
    "desk_banned": "⛔ Customer banned; their VPN access is being disabled.",
    "desk_unbanned": "✅ Customer unbanned; their VPN access is being restored.",
    "desk_ban_unchanged": "Nothing changed: the customer already is so.",
    "desk_link_sent": "🔗 Access card sent to the customer.",
    "desk_link_none": "The customer has no active access: no card was sent.",
    "desk_customer_gone": "This customer is not in the shop any more.",
    "desk_quick_list": "Saved answers: {names}\nSend one with /q &lt;name&gt;.",
    "desk_quick_empty": "No saved answers yet. Add one: /quick add &lt;name&gt; &lt;text&gt;",
    "desk_quick_saved": "💾 Saved answer “{name}”.",
    "desk_quick_deleted": "🗑 Deleted answer “{name}”.",
    "desk_quick_missing": "No saved answer “{name}”. /quick lists them.",
    "desk_quick_usage": "Usage: /quick add &lt;name&gt; &lt;text&gt; (name: up to 32 of a-z, 0-9, _ and -), "
    "/quick del &lt;name&gt;, /q &lt;name&gt;. Nothing was changed.",
}
